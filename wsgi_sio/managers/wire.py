"""The Redis wire format of Node's ``@socket.io/redis-adapter`` 8.x and ``redis-emitter`` 5.x.

Sans-IO: bytes in, validated messages out, and the reverse; no sockets, no Redis client.
Speaking this format (PROTOCOL-NOTES §5.1, §5.3) is what lets a wsgi_sio process and a Node
socket.io server share rooms and broadcasts, and lets the Node emitter reach our clients.

Channels, for namespace ``<nsp>`` and key ``socket.io``:

* ``socket.io#<nsp>#`` and ``socket.io#<nsp>#<room>#``: broadcasts, MessagePack
  ``[uid, {type: 2, data: [event, *args], nsp}, {rooms, except, flags}]``; the room suffix is
  used when exactly one room is targeted.
* ``socket.io-request#<nsp>#``: requests, JSON (MessagePack for type 7), ``{uid, type, ...}``.
* ``socket.io-response#<nsp>#`` (and ``...#<uid>#``): responses, JSON (MessagePack for type 9).

Everything read from Redis is untrusted: ``decode_*`` never unpickles (pickle is never used),
bounds the size, and checks the shape of every field it hands on, raising :class:`WireError`
with a ``reason`` (one of :data:`REASONS`) that the caller counts.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass, field
from typing import Any

import msgpack

# RequestType of the Node adapter (§5.1).
SOCKETS = 0
ALL_ROOMS = 1
REMOTE_JOIN = 2
REMOTE_LEAVE = 3
REMOTE_DISCONNECT = 4
REMOTE_FETCH = 5
SERVER_SIDE_EMIT = 6
BROADCAST = 7
BROADCAST_CLIENT_COUNT = 8
BROADCAST_ACK = 9
REQUEST_TYPES = frozenset(range(0, 10))

EVENT = 2  # socket.io-parser PacketType.EVENT
BINARY_EVENT = 5

#: why a message was dropped; the manager keeps a counter per reason
REASONS = ("oversized", "malformed", "unknown_type")

EMITTER_UID = "emitter"


class WireError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Channels:
    """The channel names of one namespace under one key (§5.1)."""

    key: str
    namespace: str

    @property
    def broadcast(self) -> str:
        return f"{self.key}#{self.namespace}#"

    def room(self, room: str) -> str:
        return f"{self.key}#{self.namespace}#{room}#"

    @property
    def request(self) -> str:
        return f"{self.key}-request#{self.namespace}#"

    @property
    def response(self) -> str:
        return f"{self.key}-response#{self.namespace}#"

    def specific_response(self, uid: str) -> str:
        return f"{self.key}-response#{self.namespace}#{uid}#"


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a Redis PSUBSCRIBE pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def broadcast_pattern(key: str) -> str:
    """One pattern for the broadcasts of every namespace (Node subscribes one per namespace)."""
    return glob_escape(key) + "#*"


# -- encoding ----------------------------------------------------------------------------------


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def dump_json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def broadcast_message(uid: str, namespace: str, data: list[Any], rooms: list[str],
                      except_: list[str], flags: dict[str, Any] | None = None) -> bytes:
    """MessagePack ``[uid, packet, opts]`` as ``RedisAdapter.broadcast`` publishes it."""
    packet = {"type": EVENT, "data": data, "nsp": namespace}
    return pack([uid, packet, {"rooms": rooms, "except": except_, "flags": flags or {}}])


def broadcast_channel(channels: Channels, rooms: list[str]) -> str:
    """Exactly one room: that room's channel (receivers without the room skip decoding)."""
    return channels.room(rooms[0]) if len(rooms) == 1 else channels.broadcast


# -- decoding ----------------------------------------------------------------------------------


def _timestamp_to_iso(ts: msgpack.Timestamp) -> str:
    # notepack encodes a JS Date as ext -1; JSON.stringify(date) would give this string.
    moment = datetime.datetime.fromtimestamp(ts.seconds, datetime.timezone.utc)
    millis = ts.nanoseconds // 1_000_000
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def _refuse_ext(code: int, data: bytes) -> Any:
    raise WireError("malformed", f"MessagePack extension type {code} is not accepted")


def _plain(value: Any, depth: int = 0) -> Any:
    """Only what JSON (plus bytes) can carry: dict with str keys, list, str, numbers, bytes."""
    if depth > 64:
        raise WireError("malformed", "nested too deeply")
    if value is None or isinstance(value, (str, bool, int, float, bytes)):
        if isinstance(value, float) and not math.isfinite(value):
            raise WireError("malformed", "NaN or infinity")
        return value
    if isinstance(value, msgpack.Timestamp):
        return _timestamp_to_iso(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item, depth + 1) for item in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise WireError("malformed", f"map key {k!r} is not a string")
            out[k] = _plain(v, depth + 1)
        return out
    raise WireError("malformed", f"value of type {type(value).__name__}")


def unpack(payload: bytes, max_size: int) -> Any:
    if len(payload) > max_size:
        raise WireError("oversized", f"{len(payload)} bytes > {max_size}")
    try:
        # unpackb bounds every string, array and map by the payload's length
        value = msgpack.unpackb(payload, raw=False, strict_map_key=False, ext_hook=_refuse_ext)
    except WireError:
        raise
    except Exception as exc:  # ExtraData, FormatError, StackError, ValueError, ...
        raise WireError("malformed", f"not MessagePack ({type(exc).__name__})") from None
    return _plain(value)


def load_json(payload: bytes, max_size: int) -> Any:
    if len(payload) > max_size:
        raise WireError("oversized", f"{len(payload)} bytes > {max_size}")
    try:
        value = json.loads(payload.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise WireError("malformed", "not JSON") from None
    return _plain(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _rooms(value: Any, what: str) -> list[str]:
    """A list of room names; numbers are accepted as their decimal text (Node allows them)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise WireError("malformed", f"{what} is not a list")
    out = []
    for room in value:
        if isinstance(room, bool) or not isinstance(room, (str, int, float)):
            raise WireError("malformed", f"{what} holds {room!r}")
        out.append(room if isinstance(room, str) else _number_text(room))
    return out


def _number_text(number: int | float) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def _event_data(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise WireError("malformed", "event data is not a non-empty list")
    name = value[0]
    if not isinstance(name, str) and (isinstance(name, bool) or not isinstance(name, (int, float))):
        raise WireError("malformed", "event name is not a string")
    return value


@dataclass
class Broadcast:
    uid: Any
    namespace: str
    data: list[Any]
    rooms: list[str]
    except_: list[str]
    flags: dict[str, Any] = field(default_factory=dict)


def decode_broadcast(payload: bytes, max_size: int) -> Broadcast:
    """``[uid, packet, opts]`` from a broadcast channel, checked field by field."""
    message = unpack(payload, max_size)
    if not isinstance(message, list) or len(message) != 3:
        raise WireError("malformed", "a broadcast is a 3-element array")
    uid, packet, opts = message
    if not isinstance(packet, dict) or not isinstance(opts, dict):
        raise WireError("malformed", "packet and opts must be maps")
    ptype = packet.get("type")
    if ptype not in (EVENT, BINARY_EVENT):
        raise WireError("unknown_type", f"broadcast packet type {ptype!r}")
    namespace = packet.get("nsp", "/")
    if not isinstance(namespace, str) or not namespace.startswith("/"):
        raise WireError("malformed", f"namespace {namespace!r}")
    flags = opts.get("flags") or {}
    if not isinstance(flags, dict):
        raise WireError("malformed", "flags is not a map")
    return Broadcast(uid, namespace, _event_data(packet.get("data")),
                     _rooms(opts.get("rooms"), "rooms"), _rooms(opts.get("except"), "except"), flags)


def decode_request(payload: bytes, max_size: int) -> dict[str, Any]:
    """A request or response: JSON when it starts with ``{`` (0x7b), else MessagePack (§5.1)."""
    message = load_json(payload, max_size) if payload[:1] == b"{" else unpack(payload, max_size)
    if not isinstance(message, dict):
        raise WireError("malformed", "a request is a map")
    rtype = message.get("type")
    if rtype is not None and (isinstance(rtype, bool) or rtype not in REQUEST_TYPES):
        raise WireError("unknown_type", f"request type {rtype!r}")
    request_id = message.get("requestId")
    if request_id is not None and not isinstance(request_id, (str, int)):
        raise WireError("malformed", "requestId")
    return message


def target(message: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``opts: {rooms, except}`` of a request."""
    opts = message.get("opts")
    if not isinstance(opts, dict):
        raise WireError("malformed", "opts is missing")
    return _rooms(opts.get("rooms"), "rooms"), _rooms(opts.get("except"), "except")


def rooms_field(message: dict[str, Any]) -> list[str]:
    rooms = message.get("rooms")
    if isinstance(rooms, str):  # a single room is accepted as itself
        return [rooms]
    return _rooms(rooms, "rooms")


def event_data(message: dict[str, Any]) -> list[Any]:
    return _event_data(message.get("data"))


def broadcast_request_packet(message: dict[str, Any]) -> list[Any]:
    packet = message.get("packet")
    if not isinstance(packet, dict) or packet.get("type") not in (EVENT, BINARY_EVENT):
        raise WireError("malformed", "broadcast request without an EVENT packet")
    return _event_data(packet.get("data"))
