"""A server with heartbeat and connect timeouts short enough for wire tests to watch them fire.

``disconnects`` (an event with an ack) returns the reasons the main namespace's disconnect
handler has seen, so a test can check that a timeout really ended the Socket.IO side too.
"""

from __future__ import annotations

import time

import wsgi_sio

sio = wsgi_sio.Server(ping_interval=0.3, ping_timeout=0.3, connect_timeout=0.5)
disconnects: list[str] = []


class Main(wsgi_sio.Namespace):
    def on_disconnect(self, reason):
        disconnects.append(reason)

    def on_disconnects(self):
        return disconnects

    def on_slow(self, seconds):
        """A handler that blocks (as a slow database query would) longer than a heartbeat."""
        time.sleep(seconds)
        return "done"


sio.register_namespace(Main, "/")


def site(environ, start_response):
    body = b"fast heartbeat"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = wsgi_sio.SocketIOMiddleware(site, sio)
