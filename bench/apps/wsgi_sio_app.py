"""The benchmark's handlers on wsgi_sio; ``bench/apps/pysio_app.py`` has the same on python-socketio.

Served by ``python -m wsgi_sio bench.apps.wsgi_sio_app:application --bind 127.0.0.1:0``.

Namespace ``/``: every client joins room ``all`` on connect.
  ``echo``      -> emits ``echo`` back to the sender with the same arguments (no ack)
  ``echo_ack``  -> answers the client's ack with the same arguments
  ``bcast``     -> emits ``b`` with the same arguments to everyone in room ``all`` (the sender too);
                   the latency scenario puts the sender's timestamp in the arguments.
"""

from __future__ import annotations

import wsgi_sio

# The same heartbeat and buffer settings as the python-socketio app.
sio = wsgi_sio.Server(ping_interval=25, ping_timeout=20, max_http_buffer_size=1_000_000)


class Bench(wsgi_sio.Namespace):
    def on_connect(self, auth):
        self.join("all")

    def on_echo(self, *args):
        self.emit("echo", *args)

    def on_echo_ack(self, *args):
        return args

    def on_bcast(self, *args):
        self.server.emit("b", *args, to="all", namespace="/")


sio.register_namespace(Bench, "/")


def site(environ, start_response):
    body = b"wsgi_sio bench"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = wsgi_sio.SocketIOMiddleware(site, sio)
