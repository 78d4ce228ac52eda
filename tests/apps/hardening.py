"""The server that the hardening tests (tests/hardening/) throw hostile input at.

Every handler call is counted, and the count is readable from a fresh client (the event
``calls``, answered without counting itself), so a test can prove that a hostile packet ran
no handler. ``echo`` answers its ack with its arguments; ``seq`` checks ordering of numbered
messages and echoes them as events.

Two applications with the same handlers: ``application`` (a 100 kB message/body limit,
heartbeat every 5 s) and ``heartbeat_application`` (a 2 MB limit and a fast heartbeat, for
the test where one client floods 1 MB frames while another must keep getting its pings).
"""

from __future__ import annotations

import wsgi_sio

calls = {"count": 0}


class Counted(wsgi_sio.Namespace):
    def on_connect(self, auth):
        calls["count"] += 1

    def on_echo(self, *args):
        calls["count"] += 1
        return args

    def on_seq(self, n):
        calls["count"] += 1
        self.emit("seq", n)

    def on_calls(self):
        return calls["count"]

    def catch_all(self, event, *args):
        calls["count"] += 1

    def on_disconnect(self, reason):
        pass


def _site(environ, start_response):
    body = b"hardening"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _app(**options):
    sio = wsgi_sio.Server(**options)
    sio.register_namespace(Counted, "/")
    sio.register_namespace(Counted, "/chat")
    return wsgi_sio.SocketIOMiddleware(_site, sio)


LIMIT = 100_000
application = _app(ping_interval=5, ping_timeout=5, max_http_buffer_size=LIMIT)
heartbeat_application = _app(ping_interval=0.5, ping_timeout=1.5, max_http_buffer_size=2_000_000)
