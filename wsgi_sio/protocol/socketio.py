"""Socket.IO v5 packets: the text encoding, binary attachments, and payload validation.

A Socket.IO packet rides inside Engine.IO ``message`` packets. Its text form is
(socket.io-protocol v5 "Packet encoding"; PROTOCOL-NOTES §2.2)::

    <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]

Binary data cannot live inside JSON, so a packet whose payload holds bytes is sent as a
BINARY_EVENT / BINARY_ACK: each bytes object is replaced, depth first, by the placeholder
``{"_placeholder":true,"num":N}`` and sent after the text as its own Engine.IO binary
message. :func:`encode` does that split; :class:`Decoder` is the matching state machine that
takes the text packet, waits for the announced attachments and puts the bytes back.

Rules the decoder enforces (anything else raises
:class:`~wsgi_sio.protocol.errors.SocketIOError`, and the caller closes the Engine.IO
connection, §2.3 "Any decode error"):

* the type is one digit 0-6;
* BINARY_EVENT / BINARY_ACK announce ``1..max_attachments`` attachments followed by ``-``;
  other types announce none;
* a namespace starts with ``/`` and runs to the next ``,`` or the end of the packet, holds
  no control characters, and is at most ``MAX_NAMESPACE_LENGTH`` characters (the server names
  it in its answers, CONNECT_ERROR included, so it must stay small);
* an ack id is at most 15 ASCII digits (past that it would not survive a JavaScript number);
* the payload is strict JSON (no NaN or Infinity), nested at most ``MAX_DEPTH`` arrays and
  objects deep (deeper data decodes, but could never be encoded again: an echo would fail),
  and has the shape the type requires (§2.3);
* while attachments are pending only bytes may arrive, and bytes only while some are pending;
* a placeholder is exactly ``{"_placeholder": true, "num": <int>}`` with ``num`` naming an
  attachment that arrived; any other object whose ``_placeholder`` is ``true`` is refused.

After an error the decoder is back in its initial state, so one bad packet never leaves
half-received attachments behind.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Callable
from typing import Any

from .errors import LocalProtocolError, SocketIOError

__all__ = ["MAX_DEPTH", "MAX_NAMESPACE_LENGTH", "RESERVED_EVENTS", "Decoder", "Packet", "PacketType", "encode", "encode_text"]


class PacketType(enum.IntEnum):
    """The seven Socket.IO packet types and their wire digits (§2.1)."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


#: Event names with a meaning of their own on one side or the other: peers may not send them
#: and we may not emit them (§2.3, socket.io-parser ``RESERVED_EVENTS``).
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)

# A JavaScript number holds integers exactly up to 2**53 (16 digits); 15 digits keeps every
# id exact on both sides and lets us refuse a huge id before converting it.
MAX_ACK_ID_DIGITS = 15

#: Arrays and objects nested deeper than this are refused: json.loads accepts about a thousand
#: levels, but the encoder needs a stack frame per level and gives up first, so such a payload
#: could be received and never answered. Real data is a handful of levels deep.
MAX_DEPTH = 64

#: Namespaces are short paths ("/chat", "/org/42/room"); a longer one is refused rather than
#: echoed back in a CONNECT_ERROR, which would let one small packet queue a large answer.
MAX_NAMESPACE_LENGTH = 256

_CONNECT = PacketType.CONNECT
_DISCONNECT = PacketType.DISCONNECT
_EVENT = PacketType.EVENT
_ACK = PacketType.ACK
_CONNECT_ERROR = PacketType.CONNECT_ERROR
_BINARY_EVENT = PacketType.BINARY_EVENT
_BINARY_ACK = PacketType.BINARY_ACK

_TYPE_BY_CHAR: dict[str, PacketType] = {str(int(t)): t for t in PacketType}
# Explicit digits: str() of an IntEnum member is its name on Python 3.10.
_CHAR_BY_TYPE: tuple[str, ...] = tuple(str(int(t)) for t in PacketType)
_BINARY_TYPES = (bytes, bytearray, memoryview)
# Bounded on purpose: one digit more than any legal value is enough to know it is too long.
_ACK_ID = re.compile(f"[0-9]{{0,{MAX_ACK_ID_DIGITS + 1}}}")
_ATTACHMENT_COUNT = re.compile("[0-9]{0,7}")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
# Both patterns match the empty string, so their ``match`` never returns None; typed so.
_match_ack_id: Callable[[str, int], re.Match[str]] = _ACK_ID.match  # type: ignore[assignment]
_match_attachment_count: Callable[[str, int], re.Match[str]] = _ATTACHMENT_COUNT.match  # type: ignore[assignment]


class Packet:
    """One Socket.IO packet.

    ``data`` holds plain Python values, with ``bytes`` in place wherever binary appears: the
    decoder has already swapped the placeholders for the attachments, and the encoder finds
    bytes, bytearray and memoryview objects anywhere in lists, tuples and dict values.
    """

    __slots__ = ("data", "id", "namespace", "type")

    type: PacketType
    namespace: str
    data: Any
    id: int | None

    def __init__(
        self,
        type: PacketType,
        namespace: str = "/",
        data: Any = None,
        id: int | None = None,
    ) -> None:
        self.type = type
        self.namespace = namespace
        self.data = data
        self.id = id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packet):
            return NotImplemented
        return (
            self.type == other.type
            and self.namespace == other.namespace
            and self.id == other.id
            and self.data == other.data
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"Packet({PacketType(self.type).name}, namespace={self.namespace!r}, "
            f"data={self.data!r}, id={self.id!r})"
        )


# --------------------------------------------------------------------------------------------
# Encoding


# Byte for byte what JSON.stringify writes: compact, non-ASCII as is, key order kept (§2.2).
# NaN and Infinity have no JSON form, so they are a caller error here. Built once: json.dumps
# with options would build a new encoder on every call.
class _HoldsBinary(Exception):
    """Raised from inside the JSON encoder when it meets bytes: take the attachment path."""


def _refuse_binary(obj: Any) -> Any:
    if isinstance(obj, _BINARY_TYPES):
        raise _HoldsBinary
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# The common case, data without bytes, is then one pass of the C encoder: it calls
# ``default`` only for objects it cannot write, and bytes are the only ones we handle.
_TRY_TEXT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                             default=_refuse_binary).encode


def _dumps(data: Any) -> str:
    try:
        return _ENCODER.encode(data)
    except (TypeError, ValueError) as exc:
        raise LocalProtocolError(f"cannot serialise packet data as JSON: {exc}") from None


def _check_outgoing(packet: Packet) -> None:
    namespace = packet.namespace
    if not namespace.startswith("/") or "," in namespace:
        raise LocalProtocolError(f"invalid namespace {namespace!r}")
    ptype = packet.type
    data = packet.data
    if ptype == _EVENT or ptype == _BINARY_EVENT:
        if not isinstance(data, (list, tuple)) or not data:
            raise LocalProtocolError("EVENT data must be a non-empty list: [name, *args]")
        name = data[0]
        if isinstance(name, str):
            if name in RESERVED_EVENTS:
                raise LocalProtocolError(f'"{name}" is a reserved event name')
        elif not isinstance(name, (int, float)) or isinstance(name, bool):
            raise LocalProtocolError(f"event name must be a str or a number, not {name!r}")
    elif ptype == _ACK or ptype == _BINARY_ACK:
        if not isinstance(data, (list, tuple)):
            raise LocalProtocolError("ACK data must be a list of arguments")
    elif ptype == _CONNECT:
        if data is not None and not isinstance(data, dict):
            raise LocalProtocolError("CONNECT data must be None or a dict")
    elif ptype == _DISCONNECT:
        if data is not None:
            raise LocalProtocolError("DISCONNECT carries no data")
    elif ptype == _CONNECT_ERROR:
        if not isinstance(data, (str, dict)):
            raise LocalProtocolError("CONNECT_ERROR data must be a str or a dict")
    else:
        raise LocalProtocolError(f"unknown packet type {ptype!r}")


def _header(ptype: int, namespace: str, ack_id: int | None, attachments: int = 0) -> str:
    # "<type>[<n>-][<nsp>,][<id>]" (§2.2); the root namespace is implied when absent.
    text = _CHAR_BY_TYPE[ptype]
    if attachments:
        text += f"{attachments}-"
    if namespace != "/":
        text += namespace + ","
    if ack_id is not None:
        if type(ack_id) is not int or ack_id < 0:
            raise LocalProtocolError(f"ack id must be a non-negative int, not {ack_id!r}")
        text += str(ack_id)
    return text


def encode_text(packet: Packet) -> str:
    """Encode a packet known to hold no binary data as its single text form.

    Broadcasts use this directly: it skips the search for bytes that :func:`encode` does.
    An EVENT or ACK is always written as such, never as its BINARY_ variant.
    """
    _check_outgoing(packet)
    ptype = packet.type
    if ptype == _BINARY_EVENT:
        ptype = _EVENT
    elif ptype == _BINARY_ACK:
        ptype = _ACK
    text = _header(ptype, packet.namespace, packet.id)
    if packet.data is not None:
        text += _dumps(packet.data)
    return text


def encode(packet: Packet) -> list[str | bytes]:
    """Encode a packet as its text form followed by one ``bytes`` per binary attachment.

    Each element goes out as its own Engine.IO message (§2.2). An EVENT or ACK whose data
    holds bytes anywhere becomes a BINARY_EVENT or BINARY_ACK, with placeholders numbered in
    depth-first order; a BINARY_ type without any bytes is sent as the plain type.
    """
    ptype = packet.type
    if ptype in (_EVENT, _ACK, _BINARY_EVENT, _BINARY_ACK):
        _check_outgoing(packet)
        try:
            body = _TRY_TEXT(packet.data)
        except _HoldsBinary:
            pass
        except (TypeError, ValueError) as exc:
            raise LocalProtocolError(f"cannot serialise packet data as JSON: {exc}") from None
        else:
            plain = _EVENT if ptype in (_EVENT, _BINARY_EVENT) else _ACK
            return [_header(plain, packet.namespace, packet.id) + body]
        attachments: list[bytes] = []
        data = _deconstruct(packet.data, attachments)
        binary_type = _BINARY_EVENT if ptype in (_EVENT, _BINARY_EVENT) else _BINARY_ACK
        text = _header(binary_type, packet.namespace, packet.id, len(attachments)) + _dumps(data)
        return [text, *attachments]
    return [encode_text(packet)]


def _deconstruct(data: Any, attachments: list[bytes]) -> Any:
    # Depth first, list items in order and dict values in key order, the same walk as
    # socket.io-parser's deconstructPacket, so placeholder numbers match the reference.
    if isinstance(data, _BINARY_TYPES):
        attachments.append(bytes(data))
        return {"_placeholder": True, "num": len(attachments) - 1}
    if isinstance(data, (list, tuple)):
        return [_deconstruct(item, attachments) for item in data]
    if isinstance(data, dict):
        return {key: _deconstruct(value, attachments) for key, value in data.items()}
    return data


# --------------------------------------------------------------------------------------------
# Decoding


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_float(text: str) -> float:
    # "1e999" parses to infinity, which has no JSON form to send back out.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]!r} is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_parse_float)


def _loads(text: str) -> Any:
    try:
        data = _DECODER.decode(text)
    except ValueError as exc:  # malformed JSON, or an int over Python's digit limit
        raise SocketIOError(f"invalid JSON payload: {exc}") from None
    except RecursionError:  # deeper than the interpreter's stack allows: deeper than ours
        raise SocketIOError(f"payload nested more than {MAX_DEPTH} levels deep") from None
    # Counting brackets (in C) bounds the depth from above: only a payload with more than
    # MAX_DEPTH of them, strings included, is walked.
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth_exceeds(data, MAX_DEPTH):
        raise SocketIOError(f"payload nested more than {MAX_DEPTH} levels deep")
    return data


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether arrays and objects in ``data`` nest more than ``limit`` deep (no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if type(value) is list:
            stack.extend((item, depth + 1) for item in value if type(item) in _CONTAINERS)
        elif type(value) is dict:
            stack.extend((item, depth + 1) for item in value.values() if type(item) in _CONTAINERS)
    return False


_CONTAINERS = (list, dict)


def _check_incoming(ptype: PacketType, data: Any) -> None:
    # Payload shapes from socket.io-parser isPayloadValid (§2.3), for a payload that is
    # present: JSON null is not "absent", so "0null" and "1null" are refused.
    if ptype == _EVENT or ptype == _BINARY_EVENT:
        if type(data) is not list or not data:
            raise SocketIOError("EVENT payload must be a non-empty array")
        name = data[0]
        if type(name) is str:
            if name in RESERVED_EVENTS:
                raise SocketIOError(f"event name {name!r} is reserved")
        elif type(name) is not int and type(name) is not float:
            raise SocketIOError("event name must be a string or a number")
    elif ptype == _ACK or ptype == _BINARY_ACK:
        if type(data) is not list:
            raise SocketIOError("ACK payload must be an array")
    elif ptype == _CONNECT:
        if type(data) is not dict:
            raise SocketIOError("CONNECT payload must be absent or an object")
    elif ptype == _DISCONNECT:
        raise SocketIOError("DISCONNECT must not carry a payload")
    elif type(data) is not str and type(data) is not dict:  # CONNECT_ERROR
        raise SocketIOError("CONNECT_ERROR payload must be a string or an object")


def _reconstruct(data: Any, buffers: list[bytes]) -> Any:
    # Put the attachments back in place of their placeholders (§2.2). The recursion is at
    # most MAX_DEPTH deep: _loads refused anything deeper.
    if type(data) is list:
        return [_reconstruct(item, buffers) for item in data]
    if type(data) is dict:
        if data.get("_placeholder") is True:
            num = data.get("num")
            if len(data) != 2 or type(num) is not int or not 0 <= num < len(buffers):
                raise SocketIOError(f"illegal attachment placeholder {_short(data)}")
            return buffers[num]
        return {key: _reconstruct(value, buffers) for key, value in data.items()}
    return data


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_EVENT_FAST_START = frozenset("[0123456789")


class Decoder:
    """Turns incoming Engine.IO messages into :class:`Packet` objects, one connection each.

    Text goes to :meth:`feed` as ``str``, binary attachments as ``bytes``. The decoder holds
    at most one binary packet waiting for its attachments.
    """

    def __init__(self, max_attachments: int = 10) -> None:
        self.max_attachments = max_attachments
        self._pending: Packet | None = None
        self._expected = 0
        self._buffers: list[bytes] = []

    @property
    def pending(self) -> bool:
        """True while a binary packet waits for attachments."""
        return self._pending is not None

    def reset(self) -> None:
        """Drop any half-received binary packet."""
        self._pending = None
        self._expected = 0
        self._buffers = []

    def feed(self, message: str | bytes) -> Packet | None:
        """Take one Engine.IO message; return a complete packet, or ``None`` while waiting.

        Raises :class:`SocketIOError` (and resets) on anything the protocol does not allow.
        """
        try:
            if type(message) is str:
                return self._feed_text(message)
            if isinstance(message, _BINARY_TYPES):
                return self._feed_binary(message)
            raise SocketIOError(f"cannot decode a {type(message).__name__}")
        except SocketIOError:
            self.reset()
            raise
        except RecursionError:
            self.reset()
            raise SocketIOError("packet payload is nested too deeply") from None
        except Exception as exc:  # noqa: BLE001 - a peer must never crash the caller
            self.reset()
            raise SocketIOError(f"could not decode packet: {exc!r}") from None

    def _feed_binary(self, message: bytes | bytearray | memoryview) -> Packet | None:
        packet = self._pending
        if packet is None:
            raise SocketIOError("binary message received while no attachment is expected")
        self._buffers.append(message if type(message) is bytes else bytes(message))
        if len(self._buffers) < self._expected:
            return None
        buffers = self._buffers
        self.reset()
        packet.data = _reconstruct(packet.data, buffers)
        return packet

    def _feed_text(self, text: str) -> Packet | None:
        if self._pending is not None:
            raise SocketIOError("text packet received while binary attachments are pending")
        if text[:1] == "2" and text[1:2] in _EVENT_FAST_START:
            # The most common packets by far, events on "/" with or without an ack id: no
            # attachment count or namespace to look for.
            ack_id = None
            pos = 1
            if text[1] != "[":
                match = _match_ack_id(text, 1)
                pos = match.end()
                if text[pos:pos + 1] == "[" and pos - 1 <= MAX_ACK_ID_DIGITS:
                    ack_id = int(match.group())
                else:
                    pos = 0  # not the simple shape: the general path says what is wrong
            if pos:
                data = _loads(text[pos:])
                _check_incoming(_EVENT, data)
                return Packet(_EVENT, "/", data, ack_id)
        if not text:
            raise SocketIOError("empty packet")
        ptype = _TYPE_BY_CHAR.get(text[0])
        if ptype is None:
            raise SocketIOError(f"unknown packet type {text[:1]!r}")
        pos = 1
        length = len(text)

        attachments = 0
        if ptype == _BINARY_EVENT or ptype == _BINARY_ACK:
            match = _match_attachment_count(text, pos)
            digits = match.group()
            end = match.end()
            if not digits or end >= length or text[end] != "-":
                raise SocketIOError("binary packet must start with '<attachment count>-'")
            attachments = int(digits)
            if not 1 <= attachments <= self.max_attachments:
                raise SocketIOError(
                    f"attachment count {digits} not in 1..{self.max_attachments}"
                )
            pos = end + 1

        namespace = "/"
        if text.startswith("/", pos):
            # The namespace runs to the first comma, or to the end of the packet (a client
            # may send "40/custom" with no comma, §2.2).
            comma = text.find(",", pos)
            end = length if comma == -1 else comma
            if end - pos > MAX_NAMESPACE_LENGTH:
                raise SocketIOError(f"namespace longer than {MAX_NAMESPACE_LENGTH} characters")
            namespace = text[pos:end]
            if _CONTROL.search(namespace):
                raise SocketIOError("namespace contains control characters")
            pos = end + 1 if comma != -1 else length

        ack_id = None
        match = _match_ack_id(text, pos)
        if match.end() > pos:
            digits = match.group()
            if len(digits) > MAX_ACK_ID_DIGITS:
                raise SocketIOError(f"ack id longer than {MAX_ACK_ID_DIGITS} digits")
            pos = match.end()
            if attachments == 0 and text.startswith("-", pos):
                # "21-[...]": an attachment count on a type that has no attachments.
                raise SocketIOError(f"{ptype.name} packets carry no attachments")
            ack_id = int(digits)

        if pos < length:
            data = _loads(text[pos:])
            _check_incoming(ptype, data)
        elif ptype == _CONNECT or ptype == _DISCONNECT:
            data = None
        else:
            raise SocketIOError(f"{ptype.name} packet without a payload")
        packet = Packet(ptype, namespace, data, ack_id)
        if attachments:
            self._pending = packet
            self._expected = attachments
            self._buffers = []
            return None
        return packet
