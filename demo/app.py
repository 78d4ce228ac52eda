"""A minimal demo until the Django sample site lands: an echo/chat page on one port."""

from __future__ import annotations

import wsgi_sio

sio = wsgi_sio.Server()


@sio.namespace("/chat")
class Chat(wsgi_sio.Namespace):
    def on_connect(self, auth):
        self.session["name"] = (auth or {}).get("name", "anonymous")
        self.join("lobby")
        self.emit("welcome", self.session["name"])

    def on_message(self, text):
        self.server.emit("message", {"from": self.session["name"], "text": text},
                         to="lobby", namespace="/chat")
        return "ok"


PAGE = b"""<!doctype html><meta charset="utf-8"><title>wsgi_sio demo</title>
<h1>wsgi_sio demo</h1><p>Open the console and connect a socket.io-client to /chat.</p>"""


def site(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                              ("Content-Length", str(len(PAGE)))])
    return [PAGE]


application = wsgi_sio.SocketIOMiddleware(site, sio)
