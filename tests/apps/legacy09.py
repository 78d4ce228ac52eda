"""socket.io 0.9 clients beside v4/v5 ones (``Server(allow_legacy_09=True)``).

``/echo`` is the django-socketio tutorial's namespace on :mod:`wsgi_sio.compat`; ``/`` and
``/chat`` answer acks and join rooms with the plain Namespace API, so both kinds of client
meet in one room. ``/refuse`` refuses everyone. The heartbeat interval is short (1 s) so the
wire tests see a ``2::`` without waiting long.
"""

from __future__ import annotations

import wsgi_sio
from wsgi_sio.compat import BaseNamespace, BroadcastMixin

sio = wsgi_sio.Server(cors_allowed_origins="*", ping_interval=1, ping_timeout=5, allow_legacy_09=True)


@sio.namespace("/echo")
class EchoNamespace(BaseNamespace, BroadcastMixin):
    def on_echo(self, msg):
        self.broadcast_event("echo", msg)


class Chat(wsgi_sio.Namespace):
    def on_join(self, room):
        self.join(room)
        return f"joined {room}"

    def on_say(self, room, text):
        self.server.emit("said", {"text": text}, to=room, namespace=self.namespace)

    def on_double(self, value):
        return value * 2

    def on_message(self, data):
        self.send({"echoed": data})

    def on_ask(self, question):
        self.emit("question", question, callback=lambda *answer: self.emit("answered", list(answer)))

    def on_bye(self):
        self.disconnect()


sio.register_namespace(Chat, "/")
sio.register_namespace(Chat, "/chat")


@sio.namespace("/refuse")
class Refuse(wsgi_sio.Namespace):
    def on_connect(self, auth):
        raise wsgi_sio.ConnectionRefused("no")


def site(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"site"]


application = wsgi_sio.SocketIOMiddleware(site, sio)
