"""The WebSocket transport: RFC 6455 framing (from the sans-IO codec) over a raw connection.

The request's own greenlet reads and decodes frames. Writing is described above
``flush``: an idle connection costs no extra greenlet, and a slow one cannot block others.
"""

from __future__ import annotations

import logging
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


class Owner(Protocol):
    """What the transport asks of the session it serves (an ``EngineSocket``)."""

    sid: str

    def take_outgoing(self) -> list[engineio.Packet]: ...
    def close(self, reason: str = ..., notify_client: bool = ...) -> None: ...

log = logging.getLogger("wsgi_sio")

_encode_packet = engineio.encode_packet
_encode_message = wsproto.encode_message


def _frame(packet: engineio.Packet) -> bytes:
    """The packet as a WebSocket frame, encoded once however many clients it goes to."""
    wire = packet.wire
    if wire is None:
        wire = packet.wire = _encode_message(_encode_packet(packet))
    return wire


class ConnectionGone(Exception):
    """The peer closed the connection or sent a Close frame."""


class WebSocketTransport:
    __slots__ = (
        "_backlog",
        "_backlog_size",
        "_closing",
        "_holding",
        "_pending",
        "_writer",
        "closed",
        "conn",
        "decoder",
        "flush_due",
        "max_backlog",
        "owner",
        "runtime",
    )

    def __init__(self, conn: ByteStream, runtime: Any, max_message_size: int,
                 max_backlog: int = 4_000_000) -> None:
        self.conn = conn
        self.runtime = runtime
        self.decoder = wsproto.FrameDecoder(max_message_size=max_message_size)
        self.max_backlog = max_backlog
        self.closed = False
        #: the session this transport serves, once attached (not while it is only a probe)
        self.owner: Owner | None = None
        self._closing = False
        #: a deferred write is on its way: queueing more needs no new ``flush`` (read on the
        #: per-recipient path of every broadcast, so an attribute rather than a method)
        self.flush_due = False
        self._holding = False
        self._writer = False
        self._backlog: list[bytes] | None = None  # made when a client first falls behind
        self._backlog_size = 0
        self._pending: Any = ()  # events held back behind a Close frame

    # -- writing ----------------------------------------------------------------------------
    #
    # Writes never block the caller. Queued packets are written from a deferred callback, so a
    # burst (a loop of broadcasts) leaves in one write per client; the write goes straight to
    # the socket buffer when it fits, and only a client that falls behind gets a writer
    # greenlet, which exits once its backlog is sent. A backlog past ``max_backlog`` bytes
    # means the client is not reading: it is closed as a slow consumer instead of growing
    # the server's memory. Every byte counts, the answers to the client's own frames (pongs,
    # ``3probe``, the Close reply) included: a client that sends pings and never reads would
    # otherwise grow the backlog through them.

    def flush(self, sock: Owner) -> None:
        """Packets were queued on ``sock``: write them soon."""
        if self.flush_due or self.closed:
            return
        self.flush_due = True
        self.runtime.defer(self._write_queued, sock)

    def idle(self) -> bool:
        """Whether a write now goes straight out: open, and nothing unsent before it."""
        return not self.closed and not self._closing and not self._writer

    def hold(self) -> bool:
        """Write nothing that is queued until the next ``flush_now``. False if closed."""
        if self.closed:
            return False
        self._holding = True
        return True

    def flush_now(self, sock: Owner) -> None:
        self.flush_due = False
        self._holding = False
        self._write_queued(sock)

    def _write_queued(self, sock: Owner) -> None:
        self.flush_due = False
        if self._holding:
            return  # flush_now will write it all
        packets = sock.take_outgoing()
        if packets:
            self._write(b"".join([_frame(p) for p in packets]), sock)

    def send_packet(self, packet: engineio.Packet) -> None:
        self._write(_frame(packet), None)

    def send_message(self, data: str | bytes) -> None:
        """One raw WebSocket message (TEXT for ``str``, BINARY for ``bytes``)."""
        self._write(_encode_message(data), None)

    def _write(self, data: bytes, sock: Owner | None) -> None:
        if self.closed:
            return
        if not self._writer:
            send_nowait = self.conn.send_nowait
            if send_nowait is not None:
                try:
                    sent = send_nowait(data)
                except OSError:
                    self._broken(sock)
                    return
                if sent == len(data):
                    return
                data = data[sent:]
            self._writer = True
            self.runtime.spawn(self._drain, sock)
        if self._backlog is None:
            self._backlog = []
        self._backlog.append(data)
        self._backlog_size += len(data)
        if self._backlog_size > self.max_backlog:
            sock = sock or self.owner
            log.warning("closing %s: slow consumer (%d bytes unsent)",
                        f"Engine.IO session {sock.sid}" if sock is not None else "a WebSocket",
                        self._backlog_size)
            self._backlog = None
            self._backlog_size = 0
            self._broken(sock, states.SLOW_CONSUMER)

    def _drain(self, sock: Owner | None) -> None:
        try:
            while self._backlog and not self.closed:
                chunk = b"".join(self._backlog)
                self._backlog = None
                self._backlog_size = 0
                self.conn.sendall(chunk)
        except OSError:
            self._broken(sock)
        finally:
            self._writer = False
            if self._closing:
                self._shutdown()

    def _broken(self, sock: Owner | None, reason: str = states.TRANSPORT_ERROR) -> None:
        self._closing = True
        self._shutdown()
        if sock is not None:
            sock.close(reason, notify_client=False)

    def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """Send a Close frame (after anything still queued) and end the connection."""
        if self._closing or self.closed:
            return
        self._closing = True
        self._write(wsproto.encode_close(code, reason), None)
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
        return self.read_messages(engineio.decode_packet)

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
                    self._write(wsproto.encode_frame(wsproto.Opcode.PONG, event.payload), None)
                elif kind is wsproto.Close:
                    if packets:
                        self._pending = events[i:]
                        return packets
                    self.close(CloseCode.NORMAL)
                    raise ConnectionGone("close frame")
            if packets:
                return packets


__all__ = ["ConnectionGone", "EngineIOError", "WebSocketError", "WebSocketTransport"]
