"""Engine.IO v4 packets, and the payloads that carry them over HTTP long-polling.

Engine.IO is the transport layer under Socket.IO: it moves small typed packets (open, close,
ping, pong, message, upgrade, noop) over either a WebSocket or a pair of long-polling HTTP
requests. This module only turns packets into text or bytes and back; the session state
machine and the transports live elsewhere and call these functions.

Wire format (engine.io-protocol v4, "Packet encoding"; PROTOCOL-NOTES §1.2, §1.5, §1.6):

* A text packet is one type digit followed by its data: ``4hello``, ``2``, ``3probe``.
* Over a WebSocket every packet is its own frame, and a *binary* frame is the raw bytes of a
  ``message`` packet, with no type byte in front (binary is always a message).
* Over polling, several packets share one HTTP body, joined by the record separator
  ``\\x1e``. Binary cannot travel in a v4 polling body as raw bytes, so a binary message is
  written as ``b`` followed by the standard base64 of the bytes (with padding).

Every decoding function raises :class:`~wsgi_sio.protocol.errors.EngineIOError` on input it
cannot decode. The caller closes the session with the reason ``parse error``: a payload is
refused as a whole as soon as one of its packets is bad, because the Node server also stops
there and drops the session.
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Iterable

from .errors import EngineIOError, LocalProtocolError

__all__ = [
    "SEPARATOR",
    "Packet",
    "PacketType",
    "decode_packet",
    "decode_payload",
    "decode_polling_packet",
    "encode_packet",
    "encode_payload",
    "encode_polling_packet",
]


class PacketType(enum.IntEnum):
    """The seven Engine.IO packet types and their wire digits (spec "Protocol", §1.2)."""

    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


#: Joins the packets of one polling payload (ASCII record separator, §1.5).
SEPARATOR = "\x1e"

# Lookup tables so that the hot paths do no enum construction and no int() parsing.
_TYPE_BY_CHAR: dict[str, PacketType] = {str(int(t)): t for t in PacketType}
_CHAR_BY_TYPE: tuple[str, ...] = tuple(str(int(t)) for t in PacketType)
_MESSAGE = PacketType.MESSAGE
_BINARY_TYPES = (bytes, bytearray, memoryview)


class Packet:
    """One Engine.IO packet.

    ``data`` is ``None`` when the packet carries nothing, a ``str`` for text, and ``bytes``
    only for a binary ``MESSAGE``. A packet is built for every message that goes through the
    server, so the class keeps to ``__slots__`` and does no validation of its own.
    """

    __slots__ = ("data", "type", "wire")

    type: PacketType
    data: str | bytes | None
    #: a transport's encoded form of this packet, kept so that a broadcast encodes it once
    wire: bytes | None

    def __init__(self, type: PacketType, data: str | bytes | None = None) -> None:
        self.type = type
        self.data = data
        self.wire = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packet):
            return NotImplemented
        return self.type == other.type and self.data == other.data

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"Packet({PacketType(self.type).name}, {self.data!r})"


def encode_packet(packet: Packet) -> str | bytes:
    """Encode ``packet`` as one WebSocket frame: ``str`` for a text frame, ``bytes`` for binary.

    A binary message is sent as its raw bytes with no type prefix (§1.6).
    """
    data = packet.data
    if data is None:
        return _CHAR_BY_TYPE[packet.type]
    if type(data) is str:
        return _CHAR_BY_TYPE[packet.type] + data
    return _binary_data(packet)


def encode_polling_packet(packet: Packet) -> str:
    """Encode ``packet`` for a polling payload: binary becomes ``b`` + base64 (§1.5)."""
    data = packet.data
    if data is None:
        return _CHAR_BY_TYPE[packet.type]
    if type(data) is str:
        return _CHAR_BY_TYPE[packet.type] + data
    return "b" + binascii.b2a_base64(_binary_data(packet), newline=False).decode("ascii")


def encode_payload(packets: Iterable[Packet]) -> str:
    """Join the polling encodings of ``packets`` with :data:`SEPARATOR` into one HTTP body."""
    return SEPARATOR.join([encode_polling_packet(p) for p in packets])


def _binary_data(packet: Packet) -> bytes:
    # Only a message may carry bytes: the wire has no way to say "binary ping" (§1.6).
    data = packet.data
    if packet.type != _MESSAGE or not isinstance(data, _BINARY_TYPES):
        raise LocalProtocolError(f"cannot encode {packet!r}: only a MESSAGE may carry bytes")
    return data if type(data) is bytes else bytes(data)


def decode_packet(data: str | bytes) -> Packet:
    """Decode one WebSocket frame: ``bytes`` is a binary message, ``str`` a text packet."""
    if type(data) is str:
        # The common case first: a text message is "4" followed by its data.
        if data[:1] == "4":
            return Packet(_MESSAGE, data[1:])
        return _decode_text(data)
    if isinstance(data, _BINARY_TYPES):
        return Packet(_MESSAGE, data if type(data) is bytes else bytes(data))
    raise EngineIOError(f"cannot decode a packet from {type(data).__name__}")


def decode_polling_packet(data: str) -> Packet:
    """Decode one packet of a polling payload, including ``b<base64>`` binary messages."""
    if data[:1] == "4":
        return Packet(_MESSAGE, data[1:])
    if data[:1] == "b":
        # v4 polling carries binary as base64, and a "b" packet is always a message (§1.5).
        # Strict decoding: characters outside the alphabet or bad padding are an error
        # rather than silently dropped.
        try:
            return Packet(_MESSAGE, base64.b64decode(data[1:], validate=True))
        except ValueError:  # binascii.Error, or non-ASCII characters
            raise EngineIOError("invalid base64 in a binary packet") from None
    return _decode_text(data)


def _decode_text(data: str) -> Packet:
    if not data:
        raise EngineIOError("empty packet")
    ptype = _TYPE_BY_CHAR.get(data[0])
    if ptype is None:
        raise EngineIOError(f"unknown packet type {data[0]!r}")
    rest = data[1:]
    if ptype == _MESSAGE:
        return Packet(ptype, rest)
    return Packet(ptype, rest or None)


def decode_payload(body: str, max_packets: int | None = None) -> list[Packet]:
    """Split a polling body on :data:`SEPARATOR` and decode every packet.

    Any bad packet makes the whole payload an error, as does a body holding more than
    ``max_packets`` packets (counted before anything is decoded). Runs in time linear in
    ``len(body)``.
    """
    if max_packets is not None:
        count = body.count(SEPARATOR) + 1
        if count > max_packets:
            raise EngineIOError(f"payload has {count} packets, more than the {max_packets} allowed")
    return [decode_polling_packet(part) for part in body.split(SEPARATOR)]
