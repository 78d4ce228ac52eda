"""For tests/green/test_prefork.py: which worker answered. ``/pid`` answers the pid of the
process serving it; Socket.IO (the interop namespaces) is served on ``/socket.io/``."""

from __future__ import annotations

import os
from typing import Any

import wsgi_sio
from tests.apps.interop import sio


def site(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/pid":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(os.getpid()).encode()]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


application = wsgi_sio.SocketIOMiddleware(site, sio)
