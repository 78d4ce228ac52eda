"""The Redis format of Node's ``@socket.io/redis-streams-adapter`` 0.3.x (PROTOCOL-NOTES-WAVE2 §4).

Sans-IO, as :mod:`.wire`: fields and bytes in, checked messages out, and the reverse.

The adapter is socket.io-adapter's ``ClusterAdapter``: every message is
``{uid, nsp, type, data?}``, ``type`` one of :data:`BROADCAST` .. :data:`BROADCAST_ACK`
(1, 2 and 13 are the heartbeats of 0.2.x, ignored). Two carriers:

* **the stream** (``XADD <stream> MAXLEN ~ <max_len> * uid <uid> nsp <nsp> type <decimal>
  [data <data>]``) for broadcasts without ``requestId`` and room changes and disconnects
  (types 3, 4, 5, 6): ordered and kept, so a reader resumes after an outage and a
  reconnecting client can be given what it missed. ``data`` is JSON text, or base64 of
  MessagePack when the type may carry binary (3, 8, 9, 10, 12) and does; readers tell them
  apart by a leading ``{`` (adapter.ts ``encode``/``decode``).
* **pub/sub** for the rest (broadcasts with an ack, FETCH_SOCKETS, SERVER_SIDE_EMIT): the
  whole message as MessagePack on ``<prefix>#<nsp>#``; answers on ``<prefix>#<nsp>#<uid>#``
  of the requester. Every server subscribes to both; ``PUBSUB NUMSUB`` of the first is the
  number of servers (adapter.ts ``serverCount``).

Everything read from Redis is untrusted: sizes are bounded before decoding, MessagePack goes
through :func:`.wire.unpack` (no extension but the timestamp, string keys, nothing executable;
pickle is never used) and every field is checked for its type, or :class:`.wire.WireError` is
raised with a reason the manager counts (``oversized``, ``malformed``, ``unknown_type``).

Connection state recovery keeps sessions under ``sio:session:<pid>`` as base64 MessagePack
``{sid, pid, rooms, data}``; offsets are stream entry ids (``<ms>-<seq>``).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from ..protocol.socketio import RESERVED_EVENTS
from .wire import (
    BINARY_EVENT,
    EVENT,
    SERVER_SIDE_RESERVED,
    RequestId,
    WireError,
    checked_flags,
    dump_json,
    event_data,
    load_json,
    pack,
    request_id_of,
    room_list,
    show,
    unpack,
)

# socket.io-adapter cluster-adapter.ts MessageType
INITIAL_HEARTBEAT = 1
HEARTBEAT = 2
BROADCAST = 3
SOCKETS_JOIN = 4
SOCKETS_LEAVE = 5
DISCONNECT_SOCKETS = 6
FETCH_SOCKETS = 7
FETCH_SOCKETS_RESPONSE = 8
SERVER_SIDE_EMIT = 9
SERVER_SIDE_EMIT_RESPONSE = 10
BROADCAST_CLIENT_COUNT = 11
BROADCAST_ACK = 12
ADAPTER_CLOSE = 13

#: sent by 0.2.x servers only; dropped without a word, as 0.3 does
IGNORED_TYPES = frozenset({INITIAL_HEARTBEAT, HEARTBEAT, ADAPTER_CLOSE})
#: the types whose ``data`` is MessagePack when it holds binary (adapter.ts ``encode``)
MAY_CARRY_BINARY = frozenset({BROADCAST, FETCH_SOCKETS_RESPONSE, SERVER_SIDE_EMIT,
                              SERVER_SIDE_EMIT_RESPONSE, BROADCAST_ACK})
_OFFSET = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
_MAX_SEQUENCE = (1 << 64) - 1
_DECIMAL = re.compile(rb"[0-9]{1,3}")


@dataclass(frozen=True)
class Channels:
    """The pub/sub channels of one namespace under one prefix (adapter.ts constructor)."""

    prefix: str
    namespace: str

    @property
    def public(self) -> str:
        return f"{self.prefix}#{self.namespace}#"

    def private(self, uid: str) -> str:
        return f"{self.prefix}#{self.namespace}#{uid}#"


def hash_code(text: str) -> int:
    """Java's ``String.hashCode`` as util.ts computes it: over UTF-16 units, signed 32-bit."""
    h = 0
    units = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(units), 2):
        h = (h * 31 + int.from_bytes(units[i:i + 2], "little")) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def stream_for(stream_name: str, stream_count: int, namespace: str) -> str:
    """The stream a namespace's entries go to (adapter.ts ``computeStreamName``). JavaScript's
    ``%`` keeps the sign of the dividend, so the index may be negative: ``math.fmod``'s rule."""
    if stream_count == 1:
        return stream_name
    h = hash_code(namespace)
    index = abs(h) % stream_count * (-1 if h < 0 else 1)
    return f"{stream_name}-{index}"


# -- encoding ----------------------------------------------------------------------------------


def has_binary(value: Any) -> bool:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return True
    if isinstance(value, (list, tuple)):
        return any(has_binary(item) for item in value)
    if isinstance(value, dict):
        return any(has_binary(item) for item in value.values())
    return False


def entry_fields(uid: str, namespace: str, mtype: int, data: dict[str, Any] | None) -> dict[str, bytes]:
    """The field/value pairs of a stream entry, in the adapter's order (``uid nsp type data``).

    Raises TypeError/ValueError for data neither JSON nor MessagePack can carry."""
    fields = {"uid": uid.encode(), "nsp": namespace.encode(), "type": str(mtype).encode()}
    if data:
        if mtype in MAY_CARRY_BINARY and has_binary(data):
            fields["data"] = base64.b64encode(pack(data))
        else:
            fields["data"] = dump_json(data)
    return fields


def pubsub_message(uid: str, namespace: str, mtype: int, data: dict[str, Any]) -> bytes:
    """A message or a response on a pub/sub channel: MessagePack of the whole object."""
    return pack({"uid": uid, "nsp": namespace, "type": mtype, "data": data})


def opts(rooms: list[str], except_: list[str], flags: dict[str, Any] | None = None) -> dict[str, Any]:
    """socket.io-adapter ``encodeOptions``."""
    return {"rooms": rooms, "except": except_, "flags": flags or {}}


def broadcast_data(data: list[Any], rooms: list[str], except_: list[str],
                   flags: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{packet, opts}`` of a BROADCAST. Like Node's, the packet carries no ``nsp``."""
    return {"packet": {"type": EVENT, "data": data}, "opts": opts(rooms, except_, flags)}


# -- decoding ----------------------------------------------------------------------------------


def _text(value: Any, what: str) -> str:
    if type(value) is str:
        return value
    raise WireError("malformed", f"{what} {show(value)} is not a string")


# The checks of single fields are :mod:`.wire`'s (``room_list``, ``event_data``,
# ``checked_flags``, ``request_id_of``, ``show``): the two adapters' fields follow the same rules.


def _target(data: dict[str, Any]) -> tuple[list[str], list[str], dict[str, Any]]:
    """``opts: {rooms, except, flags}``; absent lists are empty, as ``new Set(undefined)`` is."""
    options = data.get("opts")
    if type(options) is not dict:
        raise WireError("malformed", "opts is not a map")
    flags = checked_flags(options.get("flags"))
    return room_list(options.get("rooms"), "opts.rooms"), room_list(options.get("except"), "opts.except"), flags


@dataclass(frozen=True)
class Broadcast:
    """3: emit ``data`` to ``rooms`` minus ``except_``; with ``request_id``, relay the acks."""
    data: list[Any]
    rooms: list[str]
    except_: list[str]
    flags: dict[str, Any]
    request_id: RequestId | None


@dataclass(frozen=True)
class RoomChange:
    """4 / 5: the sockets in ``rooms`` minus ``except_`` join (or leave) each of ``names``."""
    join: bool
    rooms: list[str]
    except_: list[str]
    names: list[str]


@dataclass(frozen=True)
class DisconnectSockets:
    """6: disconnect the sockets in ``rooms`` minus ``except_``; ``close``: the connection too."""
    rooms: list[str]
    except_: list[str]
    close: bool


@dataclass(frozen=True)
class FetchSockets:
    """7: the sockets in ``rooms`` minus ``except_``, answered by type 8."""
    request_id: RequestId
    rooms: list[str]
    except_: list[str]


@dataclass(frozen=True)
class SocketInfo:
    """One socket of another server, from a type 8 answer."""
    sid: str
    handshake: dict[str, Any]
    rooms: list[str]
    data: Any


@dataclass(frozen=True)
class FetchSocketsResponse:
    request_id: RequestId
    sockets: list[SocketInfo]


@dataclass(frozen=True)
class ServerSideEmit:
    """9: ``data`` = ``[event, *args]`` for the servers; answered (10) when ``request_id`` is set."""
    request_id: RequestId | None
    data: list[Any]


@dataclass(frozen=True)
class Reply:
    """10 or 12: one value answering ``request_id`` (a server-side event's, a client's ack)."""
    type: int
    request_id: RequestId
    value: Any


@dataclass(frozen=True)
class ClientCount:
    """11: how many clients of the answering server a broadcast with an ack reached."""
    request_id: RequestId
    count: int


Body = (Broadcast | RoomChange | DisconnectSockets | FetchSockets | FetchSocketsResponse
        | ServerSideEmit | Reply | ClientCount)

#: which bodies answer a request (their ``request_id`` is ours)
RESPONSES = (FetchSocketsResponse, Reply, ClientCount)


@dataclass(frozen=True)
class Message:
    uid: str
    namespace: str
    type: int
    body: Body | None  # None: a type that is ignored (heartbeats of 0.2.x)


def _socket_info(item: Any) -> SocketInfo:
    if type(item) is not dict:
        raise WireError("malformed", f"sockets holds {show(item)}")
    handshake = item.get("handshake")
    if type(handshake) is not dict:
        raise WireError("malformed", "handshake is not a map")
    if item.get("rooms") is None:
        raise WireError("malformed", "rooms is missing")
    return SocketInfo(_text(item.get("id"), "socket id"), handshake,
                      room_list(item.get("rooms"), "rooms"), item.get("data"))


def _body(mtype: int, data: Any) -> Body | None:
    if mtype in IGNORED_TYPES:
        return None
    if not BROADCAST <= mtype <= BROADCAST_ACK:
        raise WireError("unknown_type", f"message type {mtype}")
    if type(data) is not dict:
        raise WireError("malformed", f"data of a type {mtype} message is not a map")
    if mtype == BROADCAST:
        packet = data.get("packet")
        if type(packet) is not dict:
            raise WireError("malformed", "packet is not a map")
        ptype = packet.get("type")
        if type(ptype) is not int:
            raise WireError("malformed", f"packet type {show(ptype)}")
        if ptype != EVENT and ptype != BINARY_EVENT:
            raise WireError("unknown_type", f"packet type {ptype}")
        if "id" in packet:
            raise WireError("malformed", "a broadcast packet carries an ack id")
        rooms, except_, flags = _target(data)
        return Broadcast(event_data(packet.get("data"), RESERVED_EVENTS), rooms, except_, flags,
                         request_id_of(data, required=False))
    if mtype == SOCKETS_JOIN or mtype == SOCKETS_LEAVE:
        rooms, except_, _ = _target(data)
        names = data.get("rooms")
        return RoomChange(mtype == SOCKETS_JOIN, rooms, except_,
                          [names] if type(names) is str else room_list(names, "rooms"))
    if mtype == DISCONNECT_SOCKETS:
        rooms, except_, _ = _target(data)
        close = data.get("close", False)
        if close is None:
            close = False
        if type(close) is not bool:
            raise WireError("malformed", f"close {show(close)} is not a boolean")
        return DisconnectSockets(rooms, except_, close)
    if mtype == FETCH_SOCKETS:
        request_id = request_id_of(data)
        assert request_id is not None
        rooms, except_, _ = _target(data)
        return FetchSockets(request_id, rooms, except_)
    if mtype == SERVER_SIDE_EMIT:
        return ServerSideEmit(request_id_of(data, required=False),
                              event_data(data.get("packet"), SERVER_SIDE_RESERVED))
    request_id = request_id_of(data)
    assert request_id is not None
    if mtype == FETCH_SOCKETS_RESPONSE:
        sockets = data.get("sockets")
        if type(sockets) is not list:
            raise WireError("malformed", "sockets is not a list")
        return FetchSocketsResponse(request_id, [_socket_info(item) for item in sockets])
    if mtype == BROADCAST_CLIENT_COUNT:
        count = data.get("clientCount")
        if type(count) is not int or count < 0:
            raise WireError("malformed", f"clientCount {show(count)}")
        return ClientCount(request_id, count)
    return Reply(mtype, request_id, data.get("packet"))  # 10, 12


def _message(uid: Any, namespace: Any, mtype: int, data: Any) -> Message:
    uid = _text(uid, "uid")
    namespace = _text(namespace, "nsp")
    if not namespace.startswith("/"):
        raise WireError("malformed", f"namespace {show(namespace)}")
    return Message(uid, namespace, mtype, _body(mtype, data))


def decode_pubsub(payload: bytes, max_size: int) -> Message:
    """A message from a pub/sub channel: MessagePack ``{uid, nsp, type, data}``, checked."""
    message = unpack(payload, max_size)
    if type(message) is not dict:
        raise WireError("malformed", "a message is a map")
    mtype = message.get("type")
    if type(mtype) is not int:
        raise WireError("malformed", f"message type {show(mtype)} is not an integer")
    return _message(message.get("uid"), message.get("nsp"), mtype, message.get("data"))


def decode_entry(fields: dict[bytes, bytes], max_size: int) -> Message | None:
    """A stream entry's fields (as XREAD/XRANGE give them), checked; None when it has no
    ``nsp`` (skipped, as adapter.ts ``startPolling`` does)."""
    size = sum(len(k) + len(v) for k, v in fields.items())
    if size > max_size:
        raise WireError("oversized", f"{size} bytes > {max_size}")
    nsp = fields.get(b"nsp")
    if not nsp:
        return None
    raw_type = fields.get(b"type", b"")
    if not _DECIMAL.fullmatch(raw_type):
        raise WireError("malformed", f"type {show(raw_type)} is not a decimal number")
    if b"uid" not in fields:
        raise WireError("malformed", "the entry has no uid")
    try:
        uid = fields[b"uid"].decode("utf-8")
        namespace = nsp.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError("malformed", "uid or nsp is not UTF-8") from None
    raw = fields.get(b"data")
    data: Any = None
    if raw:  # adapter.ts: `if (rawMessage.data)`, so "" is no data
        if raw[:1] == b"{":
            data = load_json(raw, max_size)
        else:
            try:
                packed = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise WireError("malformed", "data is neither JSON nor base64") from None
            data = unpack(packed, max_size)
    return _message(uid, namespace, int(raw_type), data)


# -- connection state recovery ------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """What a disconnected socket leaves behind: ``{sid, pid, rooms, data}`` (socket.io ``Session``)."""
    sid: str
    pid: str
    rooms: list[str]
    data: Any


def pack_check(value: Any) -> bytes:
    """MessagePack of ``value``, or TypeError/ValueError/OverflowError if it cannot be."""
    return pack(value)


def encode_session(session: Session, namespace: str | None = None,
                   extras: dict[str, Any] | None = None) -> bytes:
    """The value of ``sio:session:<pid>``: base64 of MessagePack (adapter.ts ``persistSession``).

    ``nsp`` and ``extras`` are ours (Node restores the four keys it knows and ignores the
    rest): a session is restored in its own namespace only, with what integrations kept."""
    value: dict[str, Any] = {"sid": session.sid, "pid": session.pid, "rooms": list(session.rooms),
                             "data": session.data}
    if namespace is not None:
        value["nsp"] = namespace
    if extras:
        value["extras"] = extras
    return base64.b64encode(pack(value))


def decode_session(raw: bytes, max_size: int) -> tuple[Session, str | None, dict[str, Any]]:
    """A kept session, its namespace (None if a Node server kept it) and its extras."""
    if len(raw) > max_size:
        raise WireError("oversized", f"{len(raw)} bytes > {max_size}")
    try:
        packed = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise WireError("malformed", "a session is not base64") from None
    value = unpack(packed, max_size)
    if type(value) is not dict:
        raise WireError("malformed", "a session is not a map")
    rooms = value.get("rooms")
    if type(rooms) is not list:
        raise WireError("malformed", "the session's rooms are not a list")
    namespace = value.get("nsp")
    if namespace is not None and type(namespace) is not str:
        raise WireError("malformed", "the session's nsp is not a string")
    extras = value.get("extras") or {}
    if type(extras) is not dict:
        raise WireError("malformed", "the session's extras are not a map")
    session = Session(_text(value.get("sid"), "sid"), _text(value.get("pid"), "pid"),
                      room_list(rooms, "rooms"), value.get("data"))
    return session, namespace, extras


def valid_offset(offset: Any) -> bool:
    """An offset a client may send back: a stream entry id (adapter.ts ``/^[0-9]+-[0-9]+$/``,
    bounded: 20 digits each hold any 64-bit part)."""
    return isinstance(offset, str) and _OFFSET.fullmatch(offset) is not None


def offset_key(offset: str) -> tuple[int, int]:
    """A valid offset (stream entry id) as something to compare: ids order by time, then
    sequence."""
    ms, _, seq = offset.partition("-")
    return int(ms), int(seq)


def next_offset(offset: str) -> str:
    """The smallest id after ``offset`` (adapter.ts ``nextOffset``; XRANGE's ``(`` needs 6.2)."""
    ms, seq = (int(part) for part in offset.split("-"))
    return f"{ms}-{seq + 1}" if seq < _MAX_SEQUENCE else f"{ms + 1}-0"


def should_include(session_rooms: list[str] | set[str], rooms: list[str], except_: list[str]) -> bool:
    """Whether a broadcast to ``rooms`` minus ``except_`` was meant for a socket in
    ``session_rooms`` (adapter.ts ``shouldIncludePacket``)."""
    included = not rooms or any(room in rooms for room in session_rooms)
    return included and not any(room in except_ for room in session_rooms)


__all__ = ["BROADCAST", "Broadcast", "Channels", "ClientCount", "DisconnectSockets", "FetchSockets",
           "FetchSocketsResponse", "Message", "Reply", "RoomChange", "ServerSideEmit", "Session",
           "SocketInfo", "WireError", "decode_entry", "decode_pubsub", "decode_session",
           "encode_session", "entry_fields", "hash_code", "next_offset", "offset_key", "pack_check",
           "pubsub_message", "should_include", "stream_for", "valid_offset"]
