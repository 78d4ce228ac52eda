"""The WebSocket transport: a byte pipe over a raw connection, and RFC 6455 framing (from the
sans-IO codec) for what it reads.

The request's own greenlet reads and decodes frames (``read_packets``). Writing takes bytes
already framed by the owner (the engine socket decides what to write and when) and never
blocks: see ``write``. The owner learns that the connection broke through ``on_broken``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from ..protocol import engineio
from ..protocol import session as states
from ..protocol import websocket as wsproto
from ..protocol.errors import EngineIOError, WebSocketError
from ..protocol.websocket import CloseCode


class ByteStream(Protocol):
    """The connection under the transport, as the server's front end hands it over (under
    gevent, ``wsgi_sio.green``'s raw connection). Typed here, below its implementations."""

    def recv(self, size: int) -> bytes: ...
    def sendall(self, data: bytes) -> None: ...
    def send_nowait(self, data: bytes) -> int: ...
    def close(self) -> None: ...


log = logging.getLogger("wsgi_sio")

_encode_message = wsproto.encode_message


class ConnectionGone(Exception):
    """The peer closed the connection or sent a Close frame."""


class WebSocketTransport:
    """One WebSocket connection: ``write`` bytes to it, ``read_packets`` from it, ``close``.

    ``on_broken(reason)``, set by the owner, is called once if the connection fails under a
    write (``transport error``) or the client stops reading (``slow consumer``); the
    transport is closed by then.
    """

    __slots__ = (
        "_backlog",
        "_backlog_size",
        "_closing",
        "_pending",
        "_writer",
        "closed",
        "conn",
        "decode_packet",
        "decoder",
        "max_backlog",
        "on_broken",
        "runtime",
        "unsent",
    )

    def __init__(self, conn: ByteStream, runtime: Any, max_message_size: int,
                 max_backlog: int = 4_000_000) -> None:
        self.conn = conn
        self.runtime = runtime
        self.decoder = wsproto.FrameDecoder(max_message_size=max_message_size)
        #: how a message becomes an Engine.IO packet (the v3 framing for a v3 session)
        self.decode_packet: Callable[[str | bytes], engineio.Packet] = engineio.decode_packet
        self.max_backlog = max_backlog
        self.closed = False
        #: called with the reason when the connection breaks (set by the session it serves;
        #: None while it is only a probe)
        self.on_broken: Callable[[str], Any] | None = None
        #: bytes accepted by ``write`` and never sent, once the connection broke
        self.unsent = 0
        self._closing = False  # a Close frame is on its way: nothing more is written
        self._writer = False
        self._backlog: list[bytes] | None = None  # made when a client first falls behind
        self._backlog_size = 0
        self._pending: Any = ()  # events held back behind a Close frame

    # -- writing ----------------------------------------------------------------------------
    #
    # A write goes straight to the socket buffer when it fits (``send_nowait``); only a client
    # that falls behind gets a writer greenlet, which exits once its backlog is sent, so an
    # idle connection costs no extra greenlet and a slow one cannot block others. A backlog
    # past ``max_backlog`` bytes means the client is not reading: the connection is closed as
    # a slow consumer instead of growing the server's memory. Every byte counts, the answers
    # to the client's own frames (pongs, ``3probe``, the Close reply) included: a client that
    # sends pings and never reads would otherwise grow the backlog through them.

    def writable(self) -> bool:
        """Whether ``write`` still takes bytes: open, and no Close frame sent."""
        return not self.closed and not self._closing

    def idle(self) -> bool:
        """Whether a write now goes straight out: writable, and nothing unsent before it."""
        return self.writable() and not self._writer

    def write(self, data: bytes) -> None:
        """Write ``data`` (whole frames) without blocking; nothing after a Close frame."""
        if self._closing or self.closed:
            return
        if not self._writer:
            send_nowait = self.conn.send_nowait
            if send_nowait is not None:
                try:
                    sent = send_nowait(data)
                except OSError:
                    self._broken(states.TRANSPORT_ERROR, len(data))
                    return
                if sent == len(data):
                    return
                data = data[sent:]
            self._writer = True
            self.runtime.spawn(self._drain)
        if self._backlog is None:
            self._backlog = []
        self._backlog.append(data)
        self._backlog_size += len(data)
        if self._backlog_size > self.max_backlog:
            if self.on_broken is None:
                log.warning("closing a WebSocket: slow consumer (%d bytes unsent)", self._backlog_size)
            self._broken(states.SLOW_CONSUMER)

    def send_message(self, data: str | bytes) -> None:
        """One raw WebSocket message (TEXT for ``str``, BINARY for ``bytes``)."""
        self.write(_encode_message(data))

    def _drain(self) -> None:
        try:
            while self._backlog and not self.closed:
                chunk = b"".join(self._backlog)
                self._backlog = None
                self._backlog_size = 0
                try:
                    self.conn.sendall(chunk)
                except OSError:
                    self._broken(states.TRANSPORT_ERROR, len(chunk))
        finally:
            self._writer = False
            if self._closing:
                self._shutdown()

    def _broken(self, reason: str, unsent: int = 0) -> None:
        self.unsent = self._backlog_size + unsent
        self._backlog = None
        self._backlog_size = 0
        self._closing = True
        self._shutdown()
        on_broken = self.on_broken
        if on_broken is not None:
            self.on_broken = None  # once
            on_broken(reason)

    def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """Send a Close frame (after anything still unsent) and end the connection."""
        if self._closing or self.closed:
            return
        self.write(wsproto.encode_close(code, reason))  # last: ``write`` takes nothing more
        self._closing = True
        if not self._writer:
            self._shutdown()

    def _shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.conn.close()
        except OSError:
            pass

    # -- reading ----------------------------------------------------------------------------

    def read_packets(self) -> list[engineio.Packet]:
        """Block for the next batch of Engine.IO packets.

        Raises ``ConnectionGone`` when the client goes away, ``WebSocketError`` for a framing
        error (the caller closes with its code) and ``EngineIOError`` for a bad packet.
        """
        return self.read_messages(self.decode_packet)

    def read_messages(self, decode: Any = None) -> list[Any]:
        """Block for the next batch of WebSocket messages (``str`` or ``bytes``).

        Pings are answered and a Close frame is answered and ends the connection, as for
        Engine.IO; ``decode`` (default: none) maps each message. ``read_packets`` is this with
        the Engine.IO decoder; ``autobahn/echo_app.py`` uses it raw for conformance testing.
        """
        while True:
            if self._pending:
                events, self._pending = self._pending, []
            else:
                if self.decoder.error is not None:
                    # the messages before a bad frame were handled: now fail the connection
                    raise self.decoder.error
                try:
                    data = self.conn.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    raise ConnectionGone("connection closed by the client")
                events = self.decoder.feed(data)
                if len(data) == 65536:
                    # A full read: the client may be sending without pause, and under gevent
                    # a read that finds data never yields, so the hub (other clients, the
                    # heartbeat timers) would wait for this flood to end. Let it run. The
                    # decoded events wait on the transport meanwhile: a substitute reader
                    # stopped during the yield loses nothing, the next reader takes them.
                    self._pending = events
                    self.runtime.sleep(0)
                    events, self._pending = self._pending, ()
            packets = []
            for i, event in enumerate(events):
                kind = type(event)
                if kind is wsproto.Message:
                    packets.append(event.data if decode is None else decode(event.data))
                elif kind is wsproto.Ping:
                    self.write(wsproto.encode_frame(wsproto.Opcode.PONG, event.payload))
                elif kind is wsproto.Close:
                    if packets:
                        self._pending = events[i:]
                        return packets
                    self.close(CloseCode.NORMAL)
                    raise ConnectionGone("close frame")
            if packets:
                return packets


__all__ = ["ConnectionGone", "EngineIOError", "WebSocketError", "WebSocketTransport"]
