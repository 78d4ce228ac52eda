"""Engine.IO v3 framing, for clients of the previous revision (socket.io-client 1.x/2.x).

The packets are those of v4 (:mod:`.engineio`); what differs is how they travel
(engine.io-protocol branch ``v3`` README; engine.io's ``parser-v3``; PROTOCOL-NOTES-WAVE2 §1):

* **Text payload** (polling): every packet is prefixed with its length and a colon,
  ``<len>:<packet>``, with no separator: ``6:4hello2:40``. The length counts **UTF-16 code
  units** (JavaScript's ``String.length``), not bytes nor code points: ``é😀`` is 3. A binary
  message inside a text payload is ``b4`` followed by the base64 of its bytes. An empty
  payload is ``0:``.
* **Binary payload** (XHR2 polling, only when the client supports binary and the batch holds a
  binary packet): per packet, ``0x00`` (string) or ``0x01`` (binary), the decimal length one
  digit per byte (0-9), ``0xFF``, then the packet. A string is UTF-8 and its length counts
  bytes; a binary packet is its type byte (``0x04``) followed by its data.
* **WebSocket**: a text frame is as in v4; a binary frame is ``0x04`` followed by the data
  (v4: the data alone); a client without binary support (``b64=1``) gets ``b4<base64>``
  text frames instead.

As in :mod:`.engineio`, decoding raises :class:`~wsgi_sio.protocol.errors.EngineIOError` on
anything it cannot decode and refuses a payload as a whole at its first bad packet.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

from .engineio import Packet, PacketType, decode_packet, encode_polling_packet
from .errors import EngineIOError, LocalProtocolError

__all__ = [
    "BINARY_CONTENT_TYPE",
    "decode_binary_payload",
    "decode_frame",
    "decode_payload",
    "encode_binary_payload",
    "encode_frame",
    "encode_payload",
    "has_binary",
    "utf16_length",
]

#: The content type of a binary payload, both ways (engine.io ``polling.ts``: only this exact
#: type is read as binary).
BINARY_CONTENT_TYPE = "application/octet-stream"

_MESSAGE = PacketType.MESSAGE
_TYPE_BY_CHAR = {str(int(t)): t for t in PacketType}
#: digits of a length: more would be a length no body of ours can hold
_MAX_DIGITS = 10


def utf16_length(text: str) -> int:
    """``len(text)`` as JavaScript counts it: characters past U+FFFF count twice."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def has_binary(packets: Iterable[Packet]) -> bool:
    return any(type(p.data) is not str and p.data is not None for p in packets)


# -- one packet --------------------------------------------------------------------------------


def _text(packet: Packet) -> str:
    """The text form of a packet: as v4, but binary is ``b4<base64>`` (the type is kept)."""
    if type(packet.data) is str or packet.data is None:
        return encode_polling_packet(packet)
    return "b4" + encode_polling_packet(packet)[1:]


def _decode_text(data: str) -> Packet:
    if data[:1] == "b":
        # "b<type><base64>"; only a message carries bytes
        if data[1:2] != "4":
            raise EngineIOError("a base64 packet must be a message (b4...)")
        try:
            return Packet(_MESSAGE, base64.b64decode(data[2:], validate=True))
        except ValueError:  # binascii.Error, or non-ASCII characters
            raise EngineIOError("invalid base64 in a binary packet") from None
    if not data:
        raise EngineIOError("empty packet")
    return decode_packet(data)


def encode_frame(packet: Packet, binary: bool = True) -> str | bytes:
    """One WebSocket message: ``str`` for a text frame, ``bytes`` for a binary one."""
    data = packet.data
    if type(data) is str or data is None:
        return encode_polling_packet(packet)
    if packet.type != _MESSAGE:
        raise LocalProtocolError(f"cannot encode {packet!r}: only a MESSAGE may carry bytes")
    if not binary:
        return _text(packet)
    return b"\x04" + (data if type(data) is bytes else bytes(data))  # type: ignore[arg-type]


def decode_frame(data: str | bytes) -> Packet:
    """One WebSocket message from a v3 client."""
    if type(data) is str:
        return _decode_text(data)
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if raw[:1] != b"\x04":
            raise EngineIOError("a binary frame must be a message (type byte 4)")
        return Packet(_MESSAGE, raw[1:])
    raise EngineIOError(f"cannot decode a packet from {type(data).__name__}")


# -- text payloads -----------------------------------------------------------------------------


def encode_payload(packets: Iterable[Packet]) -> str:
    """``<len>:<packet>`` for each packet; lengths in UTF-16 code units."""
    parts = []
    for packet in packets:
        text = _text(packet)
        parts.append(f"{utf16_length(text)}:{text}")
    return "".join(parts) or "0:"


def decode_payload(body: str, max_packets: int | None = None) -> list[Packet]:
    """Decode a text payload; any bad length or packet makes the whole payload an error.

    Lengths count UTF-16 code units, so a body holding characters past U+FFFF is first
    spelt with surrogate pairs, one ``str`` index per unit. Runs in time linear in
    ``len(body)``.
    """
    if not body:
        raise EngineIOError("empty payload")
    wide = not body.isascii() and _ASTRAL.search(body) is not None
    if wide:
        body = _ASTRAL.sub(_pair, body)
    packets: list[Packet] = []
    pos, end = 0, len(body)
    while pos < end:
        colon = body.find(":", pos)
        if colon == -1:
            raise EngineIOError("payload ends inside a length")
        digits = body[pos:colon]
        if not digits or len(digits) > _MAX_DIGITS or not (digits.isascii() and digits.isdigit()):
            raise EngineIOError(f"invalid packet length {digits[:20]!r}")
        start = colon + 1
        stop = start + int(digits)
        if stop > end:
            raise EngineIOError("packet length runs past the end of the payload")
        if stop > start:
            if max_packets is not None and len(packets) >= max_packets:
                raise EngineIOError(f"payload has more than the {max_packets} packets allowed")
            text = body[start:stop]
            if wide:
                try:
                    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
                except UnicodeDecodeError:
                    raise EngineIOError("a packet length splits a character") from None
            packets.append(_decode_text(text))
        pos = stop
    return packets


_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def _pair(match: re.Match[str]) -> str:
    code = ord(match.group()) - 0x10000
    return chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF))


# -- binary payloads ---------------------------------------------------------------------------


def encode_binary_payload(packets: Iterable[Packet]) -> bytes:
    """The XHR2 form: ``<0|1><length digits as bytes>0xFF<packet>`` for each packet."""
    out = bytearray()
    for packet in packets:
        data = packet.data
        if type(data) is str or data is None:
            raw = encode_polling_packet(packet).encode("utf-8")
            out.append(0)
        else:
            raw = b"\x04" + bytes(data)  # type: ignore[arg-type]  # the type byte, then the data
            out.append(1)
        out += bytes(int(d) for d in str(len(raw)))
        out.append(0xFF)
        out += raw
    return bytes(out)


def decode_binary_payload(body: bytes, max_packets: int | None = None) -> list[Packet]:
    """Decode an XHR2 binary payload; any bad length or packet makes it all an error."""
    packets: list[Packet] = []
    pos, end = 0, len(body)
    if not end:
        raise EngineIOError("empty payload")
    while pos < end:
        kind = body[pos]
        if kind > 1:
            raise EngineIOError(f"invalid packet kind {kind} in a binary payload")
        stop = body.find(b"\xff", pos + 1, pos + 2 + _MAX_DIGITS)
        digits = body[pos + 1:stop]
        if stop == -1 or not digits or any(d > 9 for d in digits):
            raise EngineIOError("invalid packet length in a binary payload")
        size = int("".join(str(d) for d in digits))
        start = stop + 1
        if start + size > end:
            raise EngineIOError("packet length runs past the end of the payload")
        if max_packets is not None and len(packets) >= max_packets:
            raise EngineIOError(f"payload has more than the {max_packets} packets allowed")
        raw = body[start:start + size]
        if kind == 0:
            try:
                packets.append(_decode_text(raw.decode("utf-8")))
            except UnicodeDecodeError:
                raise EngineIOError("a string packet is not UTF-8") from None
        else:
            packets.append(decode_frame(raw))
        pos = start + size
    return packets

