"""The WebSocket transport: RFC 6455 framing (from the sans-IO codec) over a raw connection.

The request's own greenlet reads and decodes frames; whoever queues packets writes them
(see ``flush``), so an idle connection costs no extra greenlet. Writes are serialised by a
lock because a reader answering a ping and an emitter can race for the socket.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..protocol import engineio
from ..protocol import websocket as wsproto
from ..protocol.errors import EngineIOError, WebSocketError

if TYPE_CHECKING:
    from ..green import RawConnection
    from .socket import EngineSocket

log = logging.getLogger("wsgi_sio")

_encode_packet = engineio.encode_packet
_encode_message = wsproto.encode_message


class ConnectionGone(Exception):
    """The peer closed the connection or sent a Close frame."""


class WebSocketTransport:
    def __init__(self, conn: RawConnection, runtime: Any, max_message_size: int) -> None:
        self.conn = conn
        self.decoder = wsproto.FrameDecoder(max_message_size=max_message_size)
        self._send_lock = runtime.lock()
        self._writing = False
        self.closed = False
        self._pending: list[Any] = []

    # -- writing ----------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> bool:
        if self.closed:
            return False
        try:
            with self._send_lock:
                self.conn.sendall(data)
            return True
        except OSError:
            self.closed = True
            return False

    def send_packet(self, packet: engineio.Packet) -> bool:
        return self.send_raw(_encode_message(_encode_packet(packet)))

    def flush(self, sock: EngineSocket) -> None:
        """Write everything the session has queued. One writer at a time; others return."""
        if self._writing:
            return
        self._writing = True
        try:
            while not self.closed:
                packets = sock.take_outgoing()
                if not packets:
                    break
                frames = b"".join([_encode_message(_encode_packet(p)) for p in packets])
                if not self.send_raw(frames):
                    sock.close("transport error", notify_client=False)
                    break
        finally:
            self._writing = False

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        self.send_raw(wsproto.encode_close(code, reason))
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
        while True:
            if self._pending:
                events, self._pending = self._pending, []
            else:
                try:
                    data = self.conn.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    raise ConnectionGone("connection closed by the client")
                events = self.decoder.feed(data)
            packets = []
            for i, event in enumerate(events):
                kind = type(event)
                if kind is wsproto.Message:
                    packets.append(engineio.decode_packet(event.data))
                elif kind is wsproto.Ping:
                    self.send_raw(wsproto.encode_frame(wsproto.Opcode.PONG, event.payload))
                elif kind is wsproto.Close:
                    if packets:
                        self._pending = events[i:]
                        return packets
                    self.close(1000)
                    raise ConnectionGone("close frame")
            if packets:
                return packets


__all__ = ["WebSocketTransport", "ConnectionGone", "WebSocketError", "EngineIOError"]
