"""The WSGI middleware: Socket.IO under its path, everything else to the wrapped app.

Requests under the server's path (``/socket.io/`` by default, matched by prefix as the
reference server does) are answered by the Socket.IO server. Every other request goes to the
wrapped application and its response comes back untouched: status, headers, a streaming
body and its ``close()`` are the app's own, because the app's iterable is returned as is.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .server import Server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SocketIOMiddleware:
    """``application = SocketIOMiddleware(django_app, sio)``."""

    def __init__(self, app: WSGIApp | None, server: Server) -> None:
        self.app = app
        self.server = server

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.server.engine.handles(environ.get("PATH_INFO", "")):
            return self.server.engine.handle_request(environ, start_response)
        if self.app is None:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=UTF-8")])
            return [b"Not Found"]
        return self.app(environ, start_response)
