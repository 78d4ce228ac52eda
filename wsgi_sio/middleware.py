"""The WSGI middleware: Socket.IO under its path, everything else to the wrapped app.

Requests under the server's path (``/socket.io/`` by default, matched by prefix as the
reference server does) are answered by the Socket.IO server. Every other request goes to the
wrapped application and its response comes back untouched: status, headers, a streaming
body and its ``close()`` are the app's own, because the app's iterable is returned as is.
One exception: a ``Connection: close`` that the server would close after without saying it
(RFC 9112 §9.6; pywsgi-based handlers other than wsgi_sio's) is added to the headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import runtime
from .socketio import Server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SocketIOMiddleware:
    """``application = SocketIOMiddleware(django_app, sio)``."""

    def __init__(self, app: WSGIApp | None, server: Server) -> None:
        self.app = app
        self.server = server
        # Before any request: gevent-websocket's handler would upgrade requests on our path
        # itself, and answer a malformed one with a 500 (see runtime.claim_path).
        runtime.claim_path(server.engine.handles)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        engine = self.server.engine
        path = environ.get("PATH_INFO", "")
        if engine.handles(path):
            legacy = self.server.legacy  # socket.io 0.9 clients, under <path>1/, when enabled
            if legacy is not None and legacy.handles(path):
                return legacy.handle_request(environ, start_response)  # type: ignore[no-any-return]
            return engine.handle_request(environ, start_response)
        if environ.get("HTTP_CONNECTION", "").lower() == "close":
            start_response = engine.runtime.say_close(start_response)
        if self.app is None:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=UTF-8")])
            return [b"Not Found"]
        return self.app(environ, start_response)
