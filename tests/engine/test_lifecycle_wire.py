"""What the middleware leaves alone, seen on the wire: requests off the Socket.IO path go to the
wrapped app untouched, even when they ask to upgrade to WebSocket.

Behind gevent's pywsgi handler only: gevent-websocket's handler upgrades any path before the
application runs, which is that handler's documented behaviour and not wsgi_sio's to change.
"""

from __future__ import annotations

import base64
import os
import socket
from urllib.parse import urlsplit

import pytest

TIMEOUT = 5.0


def raw_get(url: str, target: str, headers: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
    """One HTTP/1.1 GET on a fresh connection: (status line, lowercased headers, body)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT) as sock:
        lines = [f"GET {target} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = sock.recv(65536)
            assert data, f"connection closed before the response head: {buf!r}"
            buf += data
        head, _, body = buf.partition(b"\r\n\r\n")
        status, *header_lines = head.decode("latin-1").split("\r\n")
        parsed = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            parsed[name.strip().lower()] = value.strip()
        length = int(parsed.get("content-length", "0"))
        while len(body) < length:
            data = sock.recv(65536)
            assert data, f"connection closed in the body: {body!r}"
            body += data
        return status, parsed, body


UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Version": "13",
}


@pytest.mark.parametrize("path", ["/", "/chat/socket", "/socket.iox/",
                                  "/engine.io/?EIO=4&transport=websocket"])
def test_upgrade_request_off_our_path_reaches_the_wrapped_app(interop_server, path):
    headers = dict(UPGRADE, **{"Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()})
    status, response_headers, body = raw_get(interop_server.url, path, headers)
    assert status.split()[1] == "200", (status, body)
    assert body == b"the wrapped WSGI app"
    assert "sec-websocket-accept" not in response_headers


def test_plain_request_off_our_path_reaches_the_wrapped_app(interop_server):
    status, headers, body = raw_get(interop_server.url, "/anything?x=1", {})
    assert status.split()[1] == "200"
    assert headers["content-type"] == "text/plain"
    assert body == b"the wrapped WSGI app"
