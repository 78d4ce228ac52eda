"""Rooms and broadcasts across processes through a Redis stream, as Node's
``@socket.io/redis-streams-adapter`` 0.3.x (format: :mod:`.streams_wire`).

``RedisStreamsManager`` has an in-process manager (``local``) for the sockets of this process.
Broadcasts, room changes and disconnects go to one stream (``XADD ... MAXLEN ~ max_len``)
after they are applied here; every process reads the stream (``XREAD COUNT 100 BLOCK 5000``)
and applies the others' entries to its own sockets. Requests that want answers
(``fetch_sockets``, server-side events, a Node broadcast with an ack) go over pub/sub, as the
Node adapter does, and the number of servers is ``PUBSUB NUMSUB`` of the public channel.

Three loops (greenlets under gevent, threads otherwise): the stream reader, the pub/sub
listener, and, only while entries wait for Redis, the writer of the pending entries. The
stream as a log (writing across outages, reading from where it stopped, the kept sessions)
is :mod:`.stream_log`'s; what the entries and messages mean is this module's.

Offsets: a local broadcast waits for its XADD, and the entry id is the offset connection state
recovery appends to the packet; an entry read from the stream gets its own id. Sessions are
kept in Redis (``SET sio:session:<pid> ... PX``) so a client may recover on any process, Node
ones included.

Faults: everything read from Redis is untrusted (checked by :mod:`.streams_wire`; a bad entry
is dropped, counted by reason and logged without a traceback, rate-limited). When Redis goes
away, local clients are served as before: a broadcast is delivered here at once (without an
offset) and its entry waits in a bounded queue (``max_pending`` entries,
``max_pending_bytes``) until Redis is back, then goes to the stream in order; past those bounds
entries are dropped and counted (``pending_dropped``). The reader resumes from the id of the
last entry it read, so nothing is lost while the stream keeps it: up to ``max_len`` entries
(approximately: ``MAXLEN ~`` trims whole macro nodes). An outage long enough for the stream to
be trimmed past that id, or a Redis restarted without its data, loses what was not read; both
are detected after the reconnection, logged and counted (``stream_gap``). An XADD whose answer
was lost (Redis died after writing it) is sent again, so that entry may arrive twice. Pub/sub
requests and answers sent while Redis is down are lost, as with any pub/sub.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..protocol.errors import LocalProtocolError
from ..protocol.socketio import Packet, PacketType
from ..socketio.server import Server
from . import streams_wire as sw
from .in_process import InProcessManager, as_set
from .peers import Relaying
from .recovery import RecoveryOptions, Restored, SessionRecord, stampable
from .remote import DropLog, Link, LocalMembership, RemoteSocket, clip, quietly, safe_url
from .stream_log import SessionStore, Shared, StreamReader, StreamWriter
from .wire import WireError

log = logging.getLogger("wsgi_sio.redis_streams")

_TICK = 1.0  # seconds the pub/sub listener waits for a message before looking at its to-do list


class _Pending:
    """A request of ours waiting for ``expected`` answers of message type ``answer_type``."""

    def __init__(self, answer_type: int, expected: int, done: Any) -> None:
        self.answer_type = answer_type
        self.expected = expected
        self.answers: list[Any] = []
        self.done = done

    def add(self, mtype: int, body: Any) -> None:
        if mtype != self.answer_type:
            raise WireError("malformed", f"a type {mtype} message answers a request of ours "
                                         f"that wants type {self.answer_type}")
        self.answers.append(body)
        if len(self.answers) >= self.expected:
            self.done.set()


class RedisStreamsManager(LocalMembership):
    """``wsgi_sio.Server(manager=wsgi_sio.RedisStreamsManager("redis://host:6379/0"))``.

    As the Node adapter's options: ``stream_name``, ``stream_count`` (namespaces spread over
    ``<stream_name>-<i>``), ``max_len``, ``channel_prefix``, ``session_key_prefix``,
    ``read_count`` and ``block_time`` (seconds). ``requests_timeout``: seconds to wait for
    other servers' answers. ``max_message_size``: larger entries and messages are dropped.
    ``max_pending``/``max_pending_bytes``: what may wait for Redis during an outage.
    ``retry_max_delay``: the longest pause between reconnection attempts.
    ``drop_log_interval``: dropped messages are logged once, then summarised at most once
    per this many seconds. ``redis_options`` go to ``redis.Redis``.

    Sessions across hosts, as with :class:`~wsgi_sio.managers.redis_manager.RedisManager`:
    ``relay``, ``advertise`` and ``relay_secret`` (see :class:`~wsgi_sio.managers.peers.Relaying`);
    the directory's keys start with ``channel_prefix``.
    """

    _log = log

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, stream_name: str = "socket.io",
                 max_len: int = 10_000, stream_count: int = 1, channel_prefix: str = "socket.io",
                 session_key_prefix: str = "sio:session:", read_count: int = 100,
                 block_time: float = 5.0, requests_timeout: float = 5.0,
                 max_message_size: int = 1_000_000, max_pending: int = 10_000,
                 max_pending_bytes: int = 32_000_000, retry_max_delay: float = 5.0,
                 drop_log_interval: float = 10.0, redis_options: dict[str, Any] | None = None,
                 relay: bool = True, advertise: str | None = None,
                 relay_secret: str | bytes | None = None) -> None:
        if stream_count < 1:
            raise ValueError("stream_count must be at least 1")
        #: the sockets and rooms of this process
        self.local = InProcessManager()
        #: recovered sockets whose replay went further than the reader has: namespace -> sid
        #: -> the last entry id (as a key) the replay carried
        self._floors: dict[str, dict[str, tuple[int, int]]] = {}
        #: sessions across hosts: the directory of processes and the relay's options
        self.relaying = Relaying(relay, advertise, relay_secret)
        self.url = url
        self.stream_name = stream_name
        self.stream_count = stream_count
        self.max_len = max_len
        self.prefix = channel_prefix
        self.session_key_prefix = session_key_prefix
        self.read_count = read_count
        self.block_time = block_time
        self.requests_timeout = requests_timeout
        self.max_message_size = max_message_size
        self.max_pending = max_pending
        self.max_pending_bytes = max_pending_bytes
        self.retry_max_delay = retry_max_delay
        self.uid = secrets.token_hex(8)
        #: what happened to entries and messages; read it with :meth:`stats`
        self.counters: Counter[str] = Counter()
        options = {"socket_connect_timeout": 2.0, "socket_timeout": 5.0, "health_check_interval": 0,
                   "retry": Retry(NoBackoff(), 0), **(redis_options or {})}
        # Any: redis-py's stubs type replies as str | bytes | None; ours are checked bytes
        self._pub: Any = redis.Redis.from_url(url, **options)
        self._reader: Any = redis.Redis.from_url(url, **{**options, "socket_timeout": block_time + 5.0})
        self._sub_client = redis.Redis.from_url(url, **{**options, "socket_timeout": None})
        self._link = Link(safe_url(url), self.counters, log, "reading the stream from where it stopped")
        self._drops = DropLog(drop_log_interval, log)
        #: the server this manager serves, set by :meth:`attach`
        self.server: Server | None = None
        #: connection state recovery's options, once the server turns it on
        self.recovery: RecoveryOptions | None = None
        self._namespaces = set()
        self._listening = set()
        self._channels: dict[bytes, str] = {}  # channel -> its namespace
        self._requests: dict[sw.RequestId, tuple[str, _Pending]] = {}
        self._server_handlers = {}
        self._closed = False
        self._sub_ready: Any = None
        #: the stream's writer, reader and kept sessions, made by :meth:`attach`
        self.writer: StreamWriter
        self.reader: StreamReader
        self.sessions: SessionStore

    # -- lifecycle ----------------------------------------------------------------------------

    def attach(self, server: Server) -> None:
        if self.server is not None:
            raise RuntimeError("a RedisStreamsManager serves one Server")
        self.server = server
        runtime = server.runtime
        shared = Shared(self._pub, self.counters, self._link, runtime, self.retry_max_delay,
                        self.max_message_size, self._drop)
        self.writer = StreamWriter(shared, self.max_len, self.max_pending, self.max_pending_bytes)
        self.reader = StreamReader(shared, self._reader, self._streams(), self.read_count,
                                   self.block_time, self._on_entry,
                                   lambda: self._drops.tick(time.monotonic()))
        self.sessions = SessionStore(shared, self.session_key_prefix)
        self._sub_ready = runtime.event()
        for name in server.namespace_paths():
            self._want(name)
        runtime.spawn(self._listen)
        runtime.spawn(self.reader.run)
        self.relaying.attach(self._pub, self.prefix, server)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the listener is subscribed and the reader knows where the stream ends
        (for scripts and tests; servers need not). After an outage, until both are back."""
        if self._sub_ready is None:
            return False
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._sub_ready.wait(timeout):
            return False
        rest = None if deadline is None else max(0.0, deadline - time.monotonic())
        return bool(self.reader.ready.wait(rest))

    def close(self) -> None:
        """Stop the loops (the reader within ``block_time``) and close the connections."""
        self._closed = True
        if self.server is not None:
            self.writer.closed = self.reader.closed = True
        self.relaying.close()
        self._pub.close()

    def stats(self) -> dict[str, int]:
        """Counters: received, delivered, own, skipped, ignored, oversized, malformed,
        unknown_type, dropped, appended, published, publish_failed, pending, pending_dropped,
        outages, stream_gap, request_timeouts, errors, ..."""
        return {**self.counters, "pending": len(self.writer.waiting) if self.server is not None else 0}

    # -- membership: delegated to ``local`` (:class:`.remote.LocalMembership`) ---------------

    def _want(self, namespace: str) -> None:
        channels = sw.Channels(self.prefix, namespace)
        self._channels[channels.public.encode()] = namespace
        self._channels[channels.private(self.uid).encode()] = namespace
        self._namespaces.add(namespace)

    def _channels_of(self, namespaces: set[str]) -> list[bytes]:
        return [ch for ch, nsp in list(self._channels.items()) if nsp in namespaces]

    def _stream(self, namespace: str) -> str:
        return sw.stream_for(self.stream_name, self.stream_count, namespace)

    def _streams(self) -> list[str]:
        if self.stream_count == 1:
            return [self.stream_name]
        # JavaScript's remainder may be negative: those streams are written to (and Node
        # never reads them); read them too
        return [f"{self.stream_name}-{i}" for i in range(1 - self.stream_count, self.stream_count)]

    # -- operations: here at once, elsewhere through the stream ----------------------------------

    def emit(self, packet: Packet, rooms: str | Iterable[str] | None = None,
             skip: str | Iterable[str] | None = None, *, volatile: bool = False) -> int:
        nsp = packet.namespace
        stamp = self.recovery is not None and stampable(packet, volatile)
        if isinstance(rooms, str) and not stamp and self.local.get(nsp, rooms) is not None:
            return self.local.emit(packet, rooms, skip, volatile=volatile)  # ours alone
        room_list = None if rooms is None else sorted(as_set(rooms))
        if room_list == [] or packet.id is not None:
            return self.local.emit(packet, rooms, skip, volatile=volatile)
        try:
            fields = sw.entry_fields(self.uid, nsp, sw.BROADCAST, sw.broadcast_data(
                list(packet.data), room_list or [], sorted(as_set(skip)),
                {"volatile": True} if volatile else None))
        except (TypeError, ValueError, OverflowError) as exc:
            log.error("cannot send this broadcast to other processes: %s", exc)
            return self.local.emit(packet, rooms, skip, volatile=volatile)
        offset = self._append(nsp, fields)
        if stamp and offset is not None:
            packet = Packet(packet.type, nsp, [*packet.data, offset], packet.id)
            skip = self._skip_replayed(nsp, offset, skip, reader=False)
        return self.local.emit(packet, rooms, skip, volatile=volatile)

    def close_room(self, namespace: str, room: str) -> None:
        self.local.close_room(namespace, room)
        self._append(namespace, sw.entry_fields(self.uid, namespace, sw.SOCKETS_LEAVE,
                                                {"opts": sw.opts([room], []), "rooms": [room]}))

    def disconnect(self, namespace: str, rooms: str | Iterable[str] | None = None,
                   skip: str | Iterable[str] | None = None) -> None:
        self.local.disconnect(namespace, rooms, skip)
        self._append(namespace, sw.entry_fields(self.uid, namespace, sw.DISCONNECT_SOCKETS, {
            "opts": sw.opts(sorted(as_set(rooms)), sorted(as_set(skip))), "close": False}))

    def join_many(self, namespace: str, room: str, rooms: str | Iterable[str] | None = None,
                  skip: str | Iterable[str] | None = None) -> None:
        self.local.join_many(namespace, room, rooms, skip)
        self._room_change(sw.SOCKETS_JOIN, namespace, sorted(as_set(rooms)), sorted(as_set(skip)), room)

    def leave_many(self, namespace: str, room: str, rooms: str | Iterable[str] | None = None,
                   skip: str | Iterable[str] | None = None) -> None:
        self.local.leave_many(namespace, room, rooms, skip)
        self._room_change(sw.SOCKETS_LEAVE, namespace, sorted(as_set(rooms)), sorted(as_set(skip)), room)

    def join_remote(self, namespace: str, sid: str, room: str) -> None:
        self._room_change(sw.SOCKETS_JOIN, namespace, [sid], [], room)

    def leave_remote(self, namespace: str, sid: str, room: str) -> None:
        self._room_change(sw.SOCKETS_LEAVE, namespace, [sid], [], room)

    def disconnect_remote(self, namespace: str, sid: str) -> None:
        self._append(namespace, sw.entry_fields(self.uid, namespace, sw.DISCONNECT_SOCKETS,
                                                {"opts": sw.opts([sid], []), "close": False}))

    def _room_change(self, mtype: int, namespace: str, rooms: list[str], skip: list[str], room: str) -> None:
        self._append(namespace, sw.entry_fields(self.uid, namespace, mtype,
                                                {"opts": sw.opts(rooms, skip), "rooms": [room]}))

    def server_side_emit(self, event: str, *args: Any, namespace: str = "/") -> None:
        """Emit ``event`` to the *other servers* (Node: ``io.serverSideEmit``)."""
        self._publish_public(namespace, sw.SERVER_SIDE_EMIT, {"packet": [event, *args]})

    def server_side_emit_with_ack(self, event: str, *args: Any, namespace: str = "/",
                                  timeout: float | None = None) -> list[Any]:
        """As :meth:`server_side_emit`; returns what each other server's handler answered
        (Node: ``serverSideEmitWithAck``), those that answered within ``timeout``."""
        answers = self._ask(namespace, sw.SERVER_SIDE_EMIT, {"packet": [event, *args]},
                            sw.SERVER_SIDE_EMIT_RESPONSE, timeout)
        return [reply.value for reply in answers]

    # -- cluster-wide queries -----------------------------------------------------------------

    def fetch_sockets(self, namespace: str, rooms: str | Iterable[str] | None = None,
                      skip: str | Iterable[str] | None = None,
                      timeout: float | None = None) -> list[RemoteSocket]:
        """The sockets in ``rooms`` minus ``skip`` on every server (Node: ``fetchSockets``);
        a server that does not answer within ``timeout`` (``requests_timeout``) is left out,
        with a warning. While Redis is down, only this process's sockets."""
        here = self._here(namespace, rooms, skip)
        data = {"opts": sw.opts(sorted(as_set(rooms)), sorted(as_set(skip)))}
        for answer in self._ask(namespace, sw.FETCH_SOCKETS, data, sw.FETCH_SOCKETS_RESPONSE, timeout):
            here.extend(RemoteSocket(info.sid, namespace, set(info.rooms), info.handshake, info.data)
                        for info in answer.sockets)
        return here

    def all_rooms(self, namespace: str, timeout: float | None = None) -> set[str]:
        """Every room of the namespace on every server (the cluster adapter has no request
        for it: the rooms of every socket ``fetch_sockets`` finds)."""
        found = self.room_names(namespace)
        for socket in self.fetch_sockets(namespace, timeout=timeout):
            found.update(socket.rooms)
        return found

    def _ask(self, namespace: str, mtype: int, data: dict[str, Any], answer_type: int,
             timeout: float | None) -> list[Any]:
        """Publish a request; the answers of the other servers (adapter.ts ``serverCount``)."""
        assert self.server is not None, "attach the manager to a Server first"
        channels = sw.Channels(self.prefix, namespace)
        try:
            subscribers = int(self._pub.pubsub_numsub(channels.public)[0][1])
        except redis.RedisError as exc:
            self._link.lost("writer", exc)
            return []
        expected = subscribers - (1 if namespace in self._listening else 0)
        if expected <= 0:
            return []
        request_id = secrets.token_hex(8)
        pending = _Pending(answer_type, expected, self.server.runtime.event())
        self._requests[request_id] = (namespace, pending)
        try:
            if not self._publish_public(namespace, mtype, {**data, "requestId": request_id}):
                return []
            wait = self.requests_timeout if timeout is None else timeout
            if not pending.done.wait(wait):
                self.counters["request_timeouts"] += 1
                log.warning("only %d of %d servers answered within %s s", len(pending.answers),
                            expected, wait)
            return list(pending.answers)
        finally:
            self._requests.pop(request_id, None)

    # -- connection state recovery (recovery.SessionRecovery) -----------------------------------

    def enable_recovery(self, options: RecoveryOptions) -> None:
        """From now on broadcasts carry their stream entry id as offset, sessions are kept in
        Redis, and a client may recover on any process of the cluster (Node's included)."""
        self.recovery = options

    def persist_session(self, namespace: str, record: SessionRecord) -> None:
        """``SET <session_key_prefix><pid> <base64 msgpack> PX <ms>``, as the Node adapter."""
        if self.recovery is not None:
            self.sessions.persist(namespace, record, int(self.recovery.max_disconnection_duration * 1000))

    def restore_session(self, namespace: str, pid: str, offset: str) -> Restored | None:
        """The session ``pid`` (consumed) and the broadcasts after ``offset`` it would have
        received, from the stream (see :class:`.stream_log.SessionStore`); the gap between
        the last read of the stream and the socket's return is one round trip to Redis."""
        if self.recovery is None:
            return None
        return self.sessions.restore(self._stream(namespace), namespace, pid, offset, self._replayed)

    def _replayed(self, namespace: str, sid: str, last: str) -> None:
        """A recovered socket's replay carried the entries up to ``last``: the same entries
        delivered to it again (the reader may not have reached them yet, an emit of ours may
        still have been waiting for its XADD) are skipped for it (:meth:`_skip_replayed`)."""
        self._floors.setdefault(namespace, {})[sid] = sw.offset_key(last)

    def _skip_replayed(self, namespace: str, offset: str | None, skip: Any,
                       reader: bool) -> Any:
        """``skip`` plus the recovered sockets whose replay carried the entry ``offset``. The
        reader delivers a stream's entries in order: one past a socket's last replayed entry
        means it needs no more of this (an emit of ours may come back out of order: not
        that)."""
        floors = self._floors.get(namespace)
        if not floors or offset is None or not sw.valid_offset(offset):
            return skip
        key = sw.offset_key(offset)
        covered = {sid for sid, floor in floors.items() if key <= floor}
        if reader:
            for sid in [sid for sid, floor in floors.items() if floor < key]:
                del floors[sid]
            if not floors:
                del self._floors[namespace]
        return as_set(skip) | covered if covered else skip

    # -- writing ------------------------------------------------------------------------------

    def _append(self, namespace: str, fields: dict[str, bytes]) -> str | None:
        """XADD the entry; its id, or None when it waits for Redis (or was dropped)."""
        return self.writer.append(self._stream(namespace), fields)

    def _publish_public(self, namespace: str, mtype: int, data: dict[str, Any]) -> bool:
        return self._publish(sw.Channels(self.prefix, namespace).public,
                             self._encode(namespace, mtype, data))

    def _respond(self, message: sw.Message, mtype: int, data: dict[str, Any]) -> None:
        channel = sw.Channels(self.prefix, message.namespace).private(message.uid)
        payload = self._encode(message.namespace, mtype, data)
        if payload:
            self._publish(channel, payload)

    def _encode(self, namespace: str, mtype: int, data: dict[str, Any]) -> bytes:
        try:
            return sw.pubsub_message(self.uid, namespace, mtype, data)
        except (TypeError, ValueError, OverflowError) as exc:
            log.error("cannot send a message of type %d to Redis: %s", mtype, exc)
            return b""

    def _publish(self, channel: str, payload: bytes) -> bool:
        if not payload:
            return False
        try:
            self._pub.publish(channel, payload)
        except redis.RedisError as exc:
            self.counters["publish_failed"] += 1
            self._link.lost("writer", exc)
            return False
        self.counters["published"] += 1
        self._link.back("writer")
        return True

    # -- the stream reader's entries -------------------------------------------------------------

    def _on_entry(self, stream: str, offset: str, fields: dict[bytes, bytes]) -> None:
        self.counters["received"] += 1
        try:
            message = sw.decode_entry(fields, self.max_message_size)
            if message is None:
                self.counters["skipped"] += 1
                return
            if message.uid == self.uid:
                self.counters["own"] += 1
                if self._floors:  # the reader is past this entry: so are recovered sockets
                    self._skip_replayed(message.namespace, offset, None, reader=True)
                return
            self._apply(message, offset)
        except WireError as exc:
            self._drop(exc, f"{stream} {offset}")
        except Exception:  # a bug of ours: bad input is a WireError
            self.counters["errors"] += 1
            log.exception("error handling entry %s of %s", offset, stream)

    def _drop(self, exc: WireError, where: str) -> None:
        self.counters[exc.reason] += 1
        self.counters["dropped"] += 1
        self._drops.drop(exc.reason, clip(where), exc.detail, time.monotonic())

    # -- the pub/sub listener -------------------------------------------------------------------

    def _listen(self) -> None:
        assert self.server is not None
        delay = 0.05
        while not self._closed:
            pubsub = self._sub_client.pubsub(ignore_subscribe_messages=True)
            try:
                self._listening = set()
                self._subscribe_wanted(pubsub)
                self._pub.ping()
                delay = 0.05
                self._link.back("listener")
                self._link.back("writer")
                self._sub_ready.set()
                self._pump_pubsub(pubsub)
            except redis.RedisError as exc:
                self._sub_ready.clear()
                self._link.lost("listener", exc)
            except Exception:  # a bug of ours must not end the listener
                self.counters["errors"] += 1
                log.exception("Redis listener failed; restarting it")
            finally:
                self._listening = set()
                quietly(pubsub.close)
            if not self._closed:
                self.server.runtime.sleep(delay)
                delay = min(delay * 2, self.retry_max_delay)

    def _pump_pubsub(self, pubsub: Any) -> None:
        while not self._closed:
            self._subscribe_wanted(pubsub)
            message = pubsub.get_message(timeout=_TICK)
            if message is None:
                if self._link.is_down("writer") and not self.writer.waiting:
                    self._pub.ping()
                    self._link.back("writer")
                self._drops.tick(time.monotonic())
                continue
            channel = message.get("channel")
            where = channel.decode("utf-8", "replace") if isinstance(channel, bytes) else repr(channel)
            self.counters["received"] += 1
            try:
                self._on_pubsub(channel, message.get("data"))
            except WireError as exc:
                self._drop(exc, where)
            except Exception:  # a bug of ours: bad input is a WireError
                self.counters["errors"] += 1
                log.exception("error handling a Redis message on %r", clip(where))

    def _on_pubsub(self, channel: Any, data: Any) -> None:
        if not isinstance(data, bytes) or not isinstance(channel, bytes):
            raise WireError("malformed", "not a bytes message")
        message = sw.decode_pubsub(data, self.max_message_size)
        if message.uid == self.uid:
            self.counters["own"] += 1
            return
        if self._channels.get(channel) != message.namespace:
            raise WireError("malformed", "the namespace does not match the channel")
        self._apply(message, None)

    # -- applying what other servers sent ---------------------------------------------------------

    def _apply(self, message: sw.Message, offset: str | None) -> None:
        """socket.io-adapter ``ClusterAdapter.onMessage``, for the sockets of this process."""
        namespace, body = message.namespace, message.body
        match body:
            case None:
                self.counters["ignored"] += 1
            case sw.Broadcast(request_id=None):
                self._broadcast(namespace, body, offset)
            case sw.Broadcast():
                self._broadcast_with_ack(message, body)
            case sw.RoomChange():
                self._change_rooms(namespace, body.join, body.names, body.rooms, body.except_)
            case sw.DisconnectSockets():
                self._disconnect_members(namespace, body.rooms, body.except_, body.close)
            case sw.FetchSockets():
                sockets = self._fetch_answer(namespace, body.rooms, body.except_)
                self._respond(message, sw.FETCH_SOCKETS_RESPONSE,
                              {"requestId": body.request_id, "sockets": sockets})
            case sw.ServerSideEmit():
                self._server_side_event(namespace, body.data, self._server_event_answer(message, body))
            case sw.FetchSocketsResponse() | sw.Reply() | sw.ClientCount():
                waiting = self._requests.get(body.request_id)
                if waiting is not None and waiting[0] == namespace:
                    waiting[1].add(message.type, body)

    def _broadcast(self, namespace: str, body: sw.Broadcast, offset: str | None) -> None:
        local = self.local
        if not local.sockets.get(namespace):
            return  # no socket here for it
        volatile = body.flags.get("volatile") is True
        data = body.data
        skip = body.except_ or None
        if offset is not None and self.recovery is not None and not volatile:
            data = [*data, offset]
            skip = self._skip_replayed(namespace, offset, skip, reader=True)
        try:
            local.emit(Packet(PacketType.EVENT, namespace, data), body.rooms or None,
                       skip, volatile=volatile)
        except LocalProtocolError as exc:  # our encoder refused what the checks let through
            raise WireError("malformed", f"cannot deliver: {exc}") from None
        self.counters["delivered"] += 1

    def _broadcast_with_ack(self, message: sw.Message, body: sw.Broadcast) -> None:
        """A Node ``io.timeout(ms).emit(ev, ..., ack)``: the clients first, then how many,
        then each client's ack as it comes (socket.io-adapter ``broadcastWithAck``)."""
        recipients = self.members(message.namespace, body.rooms or None, body.except_ or None)
        request_id = body.request_id

        def relay(*args: Any) -> None:
            self._respond(message, sw.BROADCAST_ACK,
                          {"requestId": request_id, "packet": args[0] if args else None})

        try:
            for socket in recipients:
                socket.emit(body.data[0], *body.data[1:], callback=relay)
        except LocalProtocolError as exc:
            raise WireError("malformed", f"cannot deliver: {exc}") from None
        self._respond(message, sw.BROADCAST_CLIENT_COUNT,
                      {"requestId": request_id, "clientCount": len(recipients)})

    def _server_event_answer(self, message: sw.Message,
                             body: sw.ServerSideEmit) -> Callable[[Any], None] | None:
        """How a server-side event handler's return value answers a ``serverSideEmitWithAck``
        (None: the sender wants no answer)."""
        request_id = body.request_id
        if request_id is None:
            return None

        def answer(result: Any) -> None:
            self._respond(message, sw.SERVER_SIDE_EMIT_RESPONSE,
                          {"requestId": request_id, "packet": result})
        return answer
