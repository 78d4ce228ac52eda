"""A raw client of the wire: HTTP and RFC 6455 WebSocket spoken by hand on a TCP socket.

``Wire`` is one connection: an HTTP request (``request``, ``upgrade``), then WebSocket frames,
masked on the way out (``client_frame``) and parsed unmasked on the way in (``Frame``), so that
a test checks exactly what is on the wire. ``polling``/``answer`` are one long-polling request
and its answer. Every read has a socket timeout (``TIMEOUT``): nothing here sleeps.

``session`` and ``connected`` open a direct WebSocket session against the interop app
(tests/apps/interop.py), which greets every connection with a ``welcome`` event;
``ws_connected`` does the same against an app that does not.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from wsgi_sio.protocol.websocket import Opcode, unmask

TIMEOUT = 5.0
WS_QUERY = "EIO=4&transport=websocket"
# the engine's sid: the owning process's tag, then 20 random characters (issue 11)
SID = r'[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{20}'
#: a Socket.IO sid: 20 random characters (it routes no request)
SOCKET_SID = r'[A-Za-z0-9_-]{20}'
# §1.3, the key order of the reference server's onOpen().
OPEN_WS = re.compile(
    r'0\{"sid":"(' + SID + r')","upgrades":\[\],"pingInterval":5000,'
    r'"pingTimeout":5000,"maxPayload":1000000\}')


@dataclass(frozen=True)
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes

    @property
    def text(self) -> str:
        assert self.opcode == Opcode.TEXT, self
        return self.payload.decode("utf-8")

    @property
    def close_code(self) -> int | None:
        assert self.opcode == Opcode.CLOSE, self
        if not self.payload:
            return None
        return struct.unpack("!H", self.payload[:2])[0]


def client_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0,
                 masked: bool = True, length: int | None = None) -> bytes:
    """A client frame; ``length`` announces a length other than the payload's own."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 0x10000:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + unmask(payload, mask)


class Wire:
    """One TCP connection: an HTTP request, then (after a 101) WebSocket frames."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = f"{parts.hostname}:{parts.port}"
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT)
        self.buf = bytearray()
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""

    # -- HTTP -------------------------------------------------------------------------------

    def request(self, target: str, headers: dict[str, str]) -> int:
        lines = [f"GET {target} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        self.buf = bytearray(rest)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        for line in header_lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        if self.status != 101 and "content-length" in self.headers:
            self.body = self._take(int(self.headers["content-length"]))
        return self.status

    def upgrade(self, query: str = WS_QUERY, path: str = "/socket.io/", *,
                key: str | None = None, version: str = "13", upgrade: str = "websocket",
                extra: dict[str, str] | None = None) -> int:
        headers = {
            "Upgrade": upgrade,
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key if key is not None else base64.b64encode(os.urandom(16)).decode(),
            "Sec-WebSocket-Version": version,
        }
        headers.update(extra or {})
        return self.request(f"{path}?{query}", headers)

    # -- frames -----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_text(self, text: str) -> None:
        self.send(client_frame(Opcode.TEXT, text.encode("utf-8")))

    def send_binary(self, data: bytes) -> None:
        self.send(client_frame(Opcode.BINARY, data))

    def recv_frame(self) -> Frame:
        head = self._take(2)
        b0, b1 = head
        assert not b1 & 0x80, "server frames must not be masked (RFC 6455 §5.1)"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8))[0]
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, self._take(n))

    def recv_text(self) -> str:
        return self.recv_frame().text

    def recv_close(self) -> Frame:
        """Frames until the server's Close frame; Engine.IO text frames before it are allowed
        (a ``1`` close packet, say), data is not expected to follow."""
        while True:
            frame = self.recv_frame()
            if frame.opcode == Opcode.CLOSE:
                return frame
            assert frame.opcode == Opcode.TEXT, frame

    def assert_eof(self) -> None:
        """The server has closed the TCP connection: nothing but end of stream is left."""
        assert not self.buf, bytes(self.buf)
        assert self.sock.recv(1) == b""

    def open_packet(self) -> str:
        """Read the Engine.IO open packet of a direct WebSocket session; return the sid."""
        text = self.recv_text()
        match = OPEN_WS.fullmatch(text)
        assert match, text
        return match.group(1)

    # -- plumbing ---------------------------------------------------------------------------

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError(f"connection closed; unread: {bytes(self.buf)!r}")
        self.buf += data

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def close(self) -> None:
        self.sock.close()


def session(wire: Callable[[str], Wire], url: str) -> tuple[Wire, str]:
    """A direct WebSocket session past its open packet: (connection, Engine.IO sid)."""
    ws = wire(url)
    assert ws.upgrade() == 101, (ws.status, ws.body)
    return ws, ws.open_packet()


def connected(wire: Callable[[str], Wire], url: str) -> tuple[Wire, str]:
    """A direct WebSocket session connected to the main namespace: (connection, Socket.IO sid)."""
    ws, _ = session(wire, url)
    ws.send_text("40")
    reply = ws.recv_text()
    assert reply.startswith("40{"), reply
    # The interop app greets every connection from its connect handler (§2.4: after the reply).
    assert ws.recv_text() == '42["welcome",{}]'
    return ws, json.loads(reply[2:])["sid"]


def polling(url: str, method: str = "GET", sid: str | None = None,
            body: bytes | None = None) -> http.client.HTTPConnection:
    """Send a polling request; the caller reads the answer with ``getresponse()``."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT + 5)
    query = "EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")
    conn.request(method, f"/socket.io/?{query}", body=body)
    return conn


def answer(conn: http.client.HTTPConnection) -> tuple[int, bytes]:
    try:
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def acks_answering_pings(ws: Wire, count: int) -> list[str]:
    """The next ``count`` non-heartbeat texts, answering every ping meanwhile."""
    texts = []
    while len(texts) < count:
        text = ws.recv_text()
        if text == "2":
            ws.send_text("3")
        else:
            texts.append(text)
    return texts


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
