"""Shared pieces of the hardening tests: a real server of tests/apps/hardening.py per module,
raw HTTP on a socket, and the checks every hostile-input test ends with (the server still
serves another client, and ran no handler for the hostile input)."""

from __future__ import annotations

import json
import socket
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import LiveServer, assert_only_deliberate_tracebacks
from tests.engine.test_websocket_wire import TIMEOUT, Wire

APP = "tests.apps.hardening:application"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(APP)
    yield live
    output = live.stop()
    assert_only_deliberate_tracebacks(output)
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """A server of the lifecycle app (tests/apps/lifecycle_app.py), one per test module."""
    from ._lifecycle import APP as LIFECYCLE_APP

    server = LiveServer(LIFECYCLE_APP)
    yield server
    output = server.stop()
    assert "Traceback" not in output, output


@pytest.fixture
def monitor(live: LiveServer) -> Iterator:
    """A WebSocket client of ``live`` that answers pings and asks the app's test-only events."""
    from ._lifecycle import Monitor

    mon = Monitor(live.url)
    yield mon
    mon.close()




def recv_app_text(ws: Wire) -> str:
    """The next text frame that is not a server ping (pings are answered)."""
    while True:
        text = ws.recv_text()
        if text != "2":
            return text
        ws.send_text("3")


def ws_connected(url: str, namespace: str = "/") -> Wire:
    """A direct WebSocket session connected to ``namespace``."""
    ws = Wire(url)
    assert ws.upgrade() == 101, (ws.status, ws.body)
    assert ws.recv_text().startswith('0{"sid":')
    ws.send_text("40" if namespace == "/" else f"40{namespace},")
    reply = recv_app_text(ws)
    assert reply.startswith("40"), reply
    return ws


def handler_calls(url: str) -> int:
    """How many handler calls the server has made, asked over a fresh connection (the
    connect of that connection counts one)."""
    ws = ws_connected(url)
    try:
        ws.send_text('4290["calls"]')
        reply = recv_app_text(ws)
        assert reply.startswith("4390["), reply
        return json.loads(reply[4:])[0]
    finally:
        ws.close()


def assert_healthy(url: str) -> None:
    """Another client's echo still works, over WebSocket and over polling."""
    ws = ws_connected(url)
    try:
        ws.send_text('4277["echo","still alive"]')
        assert recv_app_text(ws) == '4377["still alive"]'
    finally:
        ws.close()
    status, _, body = http(url, "GET", "/socket.io/?EIO=4&transport=polling")
    assert status == 200 and body.startswith(b'0{"sid":'), (status, body)


def assert_no_handler_ran(url: str, before: int, connects: int = 0) -> None:
    """Since ``before`` was taken, nothing ran but the counting connection's own connect and
    at most ``connects`` connect handlers of the test's own connections."""
    assert before + 1 <= handler_calls(url) <= before + 1 + connects


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
