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

Everything read from Redis is untrusted. ``decode_broadcast``, ``decode_request`` and
``decode_response`` never unpickle (pickle is never used), bound the size, and hand on only
checked values (a :class:`Broadcast`, one dataclass per request type, a :class:`Response`),
or raise :class:`WireError` with a ``reason`` (one of :data:`REASONS`) that the caller counts.
The rules, which Node's adapter only assumes:

* JSON is strict (no NaN, no lone surrogate); MessagePack carries no extension but the
  timestamp (a JS ``Date``), and maps have string keys;
* ``uid`` is a string; ``requestId`` a string or an integer, present wherever an answer
  carries it; ``type`` an integer (one with no meaning here is ``unknown_type``);
* room lists (``rooms``, ``except``) are lists of strings or numbers; ``opts`` is a map;
  ``flags`` a map whose known flags have their types; ``close`` a boolean;
* a packet is an EVENT (``type`` 2 or 5) whose ``data`` is ``[name, *args]``, the name a
  number or a string that is not reserved: socket.io's reserved names for broadcasts
  (PROTOCOL-NOTES §2.3), the namespace's ones for server-side events. A reserved name is
  refused while decoding, before anything is delivered or answered.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass, field
from typing import Any

import msgpack

from ..protocol.socketio import RESERVED_EVENTS

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
REQUEST_TYPES = frozenset(range(10))

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



# -- decoding: bytes to plain values -------------------------------------------------------------


def show(value: Any) -> str:
    """A value of the peer's for an error message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _timestamp_to_iso(ts: msgpack.Timestamp) -> str:
    # notepack encodes a JS Date as ext -1; JSON.stringify(date) would give this string.
    try:
        moment = datetime.datetime.fromtimestamp(ts.seconds, datetime.timezone.utc)
    except (OverflowError, ValueError, OSError):  # beyond year 9999: no JS Date is
        raise WireError("malformed", f"timestamp of {ts.seconds} s is out of range") from None
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
                raise WireError("malformed", f"map key {show(k)} is not a string")
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
    except Exception as exc:  # noqa: BLE001 - ExtraData, FormatError, StackError, ValueError, ...
        raise WireError("malformed", f"not MessagePack ({type(exc).__name__})") from None
    return _plain(value)


def load_json(payload: bytes, max_size: int) -> Any:
    if len(payload) > max_size:
        raise WireError("oversized", f"{len(payload)} bytes > {max_size}")
    try:
        text = payload.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise WireError("malformed", "not JSON") from None
    if "\\u" in text:
        # A \ud800 escape decodes to a lone surrogate, which no UTF-8 encoder (ours to the
        # clients, or dump_json in an answer) can write: refuse it here, not when it is used.
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, RecursionError):
            raise WireError("malformed", "a string holds a lone surrogate") from None
    return _plain(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _load(payload: bytes, max_size: int) -> Any:
    """A request or response: JSON when it starts with ``{`` (0x7b), else MessagePack (§5.1)."""
    return load_json(payload, max_size) if payload[:1] == b"{" else unpack(payload, max_size)


# -- decoding: plain values to checked messages --------------------------------------------------
#
# After _plain, every value has an exact type (dict, list, str, int, float, bool, bytes or
# None), so ``type(x) is int`` both checks a field and refuses bools, which are ints to
# isinstance. Keys of their own that a message does not use are ignored, as Node does.
# The checks of single fields (``room_list``, ``event_data``, ``checked_flags``,
# ``request_id_of``, and ``show`` for their messages) are public: :mod:`.streams_wire` uses them.

RequestId = str | int


def room_list(value: Any, what: str) -> list[str]:
    """A list of room names; numbers are accepted as their decimal text (Node allows them)."""
    if value is None:
        return []
    if type(value) is not list:
        raise WireError("malformed", f"{what} is not a list")
    out = []
    for room in value:
        if type(room) is str:
            out.append(room)
        elif type(room) is int or type(room) is float:
            out.append(_number_text(room))
        else:
            raise WireError("malformed", f"{what} holds {show(room)}")
    return out


def _number_text(number: float) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def event_data(value: Any, reserved: frozenset[str] = RESERVED_EVENTS) -> list[Any]:
    """``[name, *args]``: a name that is a string (not ``reserved``) or a number (§2.3)."""
    if type(value) is not list or not value:
        raise WireError("malformed", "event data is not a non-empty list")
    name = value[0]
    if type(name) is str:
        if name in reserved:
            raise WireError("malformed", f"{show(name)} is a reserved event name")
    elif type(name) is not int and type(name) is not float:
        raise WireError("malformed", f"event name {show(name)} is not a string or a number")
    return value


#: the flags of socket.io's BroadcastFlags and their types; unknown flags are ignored
_FLAG_TYPES: dict[str, tuple[type, ...]] = {
    "volatile": (bool,), "compress": (bool,), "local": (bool,), "broadcast": (bool,),
    "binary": (bool,), "expectSingleResponse": (bool,), "timeout": (int, float)}


def checked_flags(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise WireError("malformed", "flags is not a map")
    for name, flag in value.items():  # usually none: {} costs no iteration
        expected = _FLAG_TYPES.get(name)
        if expected is not None and type(flag) not in expected:
            raise WireError("malformed", f"flag {name} is {show(flag)}")
    return value


def _event_packet(packet: Any) -> tuple[list[Any], str]:
    """``{type: 2 | 5, data: [name, *args], nsp?}``, a Socket.IO EVENT as the adapter sends
    it: its data and its namespace (``"/"`` when absent, as Node reads it)."""
    if type(packet) is not dict:
        raise WireError("malformed", "packet is not a map")
    ptype = packet.get("type")
    if type(ptype) is not int:
        raise WireError("malformed", f"packet type {show(ptype)}")
    if ptype != EVENT and ptype != BINARY_EVENT:
        raise WireError("unknown_type", f"packet type {ptype}")
    namespace = packet.get("nsp", "/")
    if type(namespace) is not str or not namespace.startswith("/"):
        raise WireError("malformed", f"namespace {show(namespace)}")
    return event_data(packet.get("data")), namespace


@dataclass
class Broadcast:
    uid: str
    namespace: str
    data: list[Any]
    rooms: list[str]
    except_: list[str]
    flags: dict[str, Any] = field(default_factory=dict)


def decode_broadcast(payload: bytes, max_size: int) -> Broadcast:
    """``[uid, packet, opts]`` from a broadcast channel, checked field by field.

    The hot path: past unpacking (which looks at every value anyway) the checks are a few
    exact-type tests, lost in the noise of decoding (bench: same ns per message as without).
    """
    message = unpack(payload, max_size)
    if type(message) is not list or len(message) != 3:
        raise WireError("malformed", "a broadcast is a 3-element array")
    uid, packet, opts = message
    if type(uid) is not str:
        raise WireError("malformed", f"uid {show(uid)} is not a string")
    data, namespace = _event_packet(packet)
    if type(opts) is not dict:
        raise WireError("malformed", "opts is not a map")
    return Broadcast(uid, namespace, data, room_list(opts.get("rooms"), "opts.rooms"),
                     room_list(opts.get("except"), "opts.except"), checked_flags(opts.get("flags")))


# Requests (§5.1 table). ``uid`` is None for the emitter's join/leave/disconnect requests.


@dataclass(frozen=True)
class Sockets:
    """0: the ids of the sockets in ``rooms`` (a request of adapters before 7.x)."""
    uid: str | None
    request_id: RequestId
    rooms: list[str]


@dataclass(frozen=True)
class AllRooms:
    """1: every room name of the namespace."""
    uid: str | None
    request_id: RequestId


@dataclass(frozen=True)
class RoomChange:
    """2 / 3: the sockets in ``rooms`` minus ``except_`` join (or leave) each of ``names``."""
    uid: str | None
    join: bool
    rooms: list[str]
    except_: list[str]
    names: list[str]


@dataclass(frozen=True)
class Disconnect:
    """4: disconnect the sockets in ``rooms`` minus ``except_``; ``close``: the connection too."""
    uid: str | None
    rooms: list[str]
    except_: list[str]
    close: bool


@dataclass(frozen=True)
class Single:
    """2 / 3 / 4 of adapters before 7.x: one socket ``sid`` joins or leaves ``room``, or is
    disconnected; its owner answers ``{requestId}``."""
    uid: str | None
    type: int
    request_id: RequestId
    sid: str
    room: str
    close: bool


@dataclass(frozen=True)
class Fetch:
    """5: the sockets in ``rooms`` minus ``except_``, with handshake, rooms and data."""
    uid: str | None
    request_id: RequestId
    rooms: list[str]
    except_: list[str]


@dataclass(frozen=True)
class ServerSideEmit:
    """6: ``data`` = ``[event, *args]`` for the servers; answered when ``request_id`` is set."""
    uid: str | None
    request_id: RequestId | None
    data: list[Any]


@dataclass(frozen=True)
class BroadcastWithAck:
    """7: emit ``data`` to the sockets in ``rooms`` minus ``except_``, relay each client's ack."""
    uid: str | None
    request_id: RequestId
    data: list[Any]
    rooms: list[str]
    except_: list[str]


Request = Sockets | AllRooms | RoomChange | Disconnect | Single | Fetch | ServerSideEmit | BroadcastWithAck

#: event names a server may not send with serverSideEmit (socket.io ``namespace.ts``)
SERVER_SIDE_RESERVED = frozenset({"connect", "connection", "new_namespace"})


def request_id_of(message: dict[str, Any], required: bool = True) -> Any:
    value = message.get("requestId")
    if type(value) is str or type(value) is int or (value is None and not required):
        return value
    raise WireError("malformed", "requestId is missing" if value is None
                    else f"requestId {show(value)} is not a string")


def _target(message: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``opts: {rooms, except}``; absent lists are empty, as ``new Set(undefined)`` is."""
    opts = message.get("opts")
    if type(opts) is not dict:
        raise WireError("malformed", "opts is not a map")
    return room_list(opts.get("rooms"), "opts.rooms"), room_list(opts.get("except"), "opts.except")


def _room_names(value: Any) -> list[str]:
    if type(value) is str:  # socket.join(room) takes one room as itself
        return [value]
    if value is None:
        raise WireError("malformed", "rooms is missing")
    return room_list(value, "rooms")


def _close(message: dict[str, Any]) -> bool:
    close = message.get("close", False)
    if type(close) is not bool:
        raise WireError("malformed", f"close {show(close)} is not a boolean")
    return close


def _single(message: dict[str, Any], uid: str | None, rtype: int) -> Single:
    sid = message.get("sid")
    if type(sid) is not str:
        raise WireError("malformed", f"sid {show(sid)} is not a string (and opts is missing)")
    room = ""
    if rtype != REMOTE_DISCONNECT:
        rooms = room_list([message.get("room")], "room")  # a string, or a number as its text
        room = rooms[0]
    return Single(uid, rtype, request_id_of(message), sid, room, _close(message))


def _sockets(message: dict[str, Any], uid: str | None, rtype: int) -> Request:
    return Sockets(uid, request_id_of(message), room_list(message.get("rooms"), "rooms"))


def _all_rooms(message: dict[str, Any], uid: str | None, rtype: int) -> Request:
    return AllRooms(uid, request_id_of(message))


def _room_change(message: dict[str, Any], uid: str | None, rtype: int) -> Request:
    if message.get("opts") is None:  # Node takes this branch when opts is falsy
        return _single(message, uid, rtype)
    rooms, except_ = _target(message)
    return RoomChange(uid, rtype == REMOTE_JOIN, rooms, except_, _room_names(message.get("rooms")))


def _disconnect(message: dict[str, Any], uid: str | None, rtype: int) -> Request:
    if message.get("opts") is None:
        return _single(message, uid, rtype)
    rooms, except_ = _target(message)
    return Disconnect(uid, rooms, except_, _close(message))


def _fetch(message: dict[str, Any], uid: str | None, rtype: int) -> Request:
    request_id = request_id_of(message)
    return Fetch(uid, request_id, *_target(message))


def _server_side_emit(message: dict[str, Any], uid: str | None, rtype: int) -> Request:
    request_id = request_id_of(message, required=False)
    return ServerSideEmit(uid, request_id, event_data(message.get("data"), SERVER_SIDE_RESERVED))


def _broadcast_with_ack(message: dict[str, Any], uid: str | None, rtype: int) -> Request:
    request_id = request_id_of(message)
    data, _ = _event_packet(message.get("packet"))  # the channel names the namespace (Node too)
    rooms, except_ = _target(message)
    checked_flags(message["opts"].get("flags"))
    return BroadcastWithAck(uid, request_id, data, rooms, except_)


_REQUESTS = {SOCKETS: _sockets, ALL_ROOMS: _all_rooms, REMOTE_JOIN: _room_change,
             REMOTE_LEAVE: _room_change, REMOTE_DISCONNECT: _disconnect, REMOTE_FETCH: _fetch,
             SERVER_SIDE_EMIT: _server_side_emit, BROADCAST: _broadcast_with_ack}


def decode_request(payload: bytes, max_size: int) -> Request:
    """A message from the request channel, checked field by field for its type.

    Types 8 and 9 are responses and have no business there: ``unknown_type``, as any other
    integer; a type that is not an integer, like any other field of the wrong shape, is
    ``malformed``.
    """
    message = _load(payload, max_size)
    if type(message) is not dict:
        raise WireError("malformed", "a request is a map")
    rtype = message.get("type")
    if type(rtype) is not int:
        raise WireError("malformed", f"request type {show(rtype)} is not an integer")
    uid = message.get("uid")
    if uid is not None and type(uid) is not str:
        raise WireError("malformed", f"uid {show(uid)} is not a string")
    decode = _REQUESTS.get(rtype)
    if decode is None:
        raise WireError("unknown_type", f"request type {rtype}")
    return decode(message, uid, rtype)


# Responses. Those to another server's requests are only checked as far as their shape can be
# known without the request; the answers to ours are then checked in full by the requester.

RESPONSE_TYPES = frozenset({SERVER_SIDE_EMIT, BROADCAST_CLIENT_COUNT, BROADCAST_ACK})


@dataclass(frozen=True)
class Response:
    request_id: RequestId
    type: int | None  # None: an answer to a request of types 0-5
    body: dict[str, Any]


def decode_response(payload: bytes, max_size: int) -> Response:
    message = _load(payload, max_size)
    if type(message) is not dict:
        raise WireError("malformed", "a response is a map")
    request_id = request_id_of(message)
    rtype = message.get("type")
    if rtype is not None:
        if type(rtype) is not int:
            raise WireError("malformed", f"response type {show(rtype)} is not an integer")
        if rtype not in RESPONSE_TYPES:
            raise WireError("unknown_type", f"response type {rtype}")
        if rtype == BROADCAST_CLIENT_COUNT:
            count = message.get("clientCount")
            if type(count) is not int or count < 0:
                raise WireError("malformed", f"clientCount {show(count)}")
    for key in ("sockets", "rooms"):
        if key in message and type(message[key]) is not list:
            raise WireError("malformed", f"{key} is not a list")
    return Response(request_id, rtype, message)


@dataclass(frozen=True)
class SocketInfo:
    """One socket of another server, from an answer to REMOTE_FETCH."""
    sid: str
    handshake: dict[str, Any]
    rooms: list[str]
    data: Any


def fetch_answer(response: Response) -> list[SocketInfo]:
    """``{requestId, sockets: [{id, handshake, rooms, data}]}``, in full."""
    sockets = response.body.get("sockets")
    if response.type is not None or sockets is None:
        raise WireError("malformed", "not an answer to fetchSockets")
    out = []
    for item in sockets:
        if type(item) is not dict:
            raise WireError("malformed", f"sockets holds {show(item)}")
        sid, handshake, rooms = item.get("id"), item.get("handshake"), item.get("rooms")
        if type(sid) is not str:
            raise WireError("malformed", f"socket id {show(sid)} is not a string")
        if type(handshake) is not dict:
            raise WireError("malformed", "handshake is not a map")
        if rooms is None:
            raise WireError("malformed", "rooms is missing")
        out.append(SocketInfo(sid, handshake, room_list(rooms, "rooms"), item.get("data")))
    return out


def all_rooms_answer(response: Response) -> list[str]:
    """``{requestId, rooms: [...]}``, in full."""
    rooms = response.body.get("rooms")
    if response.type is not None or rooms is None:
        raise WireError("malformed", "not an answer to allRooms")
    return room_list(rooms, "rooms")
