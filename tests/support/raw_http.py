"""HTTP spoken by hand on a socket: one-off requests with exactly the bytes a test wants, and
responses read off the socket without a client library in between (for what an HTTP client
would refuse to send or hide: hostile heads, pipelining, a connection the server must end).

Named ``raw_http`` rather than ``http`` so that it never reads as the standard library's."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

from tests.support.wire import TIMEOUT


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def read_response(sock: socket.socket, buf: bytearray | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response off ``sock``: status, lowercased headers, body (by Content-Length)."""
    buf = bytearray() if buf is None else buf
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed before a response; got {bytes(buf)!r}")
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = bytearray(rest)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    del buf[:]
    buf += body[length:]
    return int(status_line.split()[1]), headers, bytes(body[:length])


def http(url: str, method: str, target: str, body: bytes = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A one-off request with an honest Content-Length."""
    host, port = address(url)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return read_response(sock)


def polling_sid(url: str) -> str:
    status, _, body = http(url, "GET", "/socket.io/?EIO=4&transport=polling")
    assert status == 200, (status, body)
    return json.loads(body[1:].split(b"\x1e")[0])["sid"]


def assert_closed_by_server(sock: socket.socket) -> None:
    """The server has ended the TCP connection (EOF or reset), within the socket timeout."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
