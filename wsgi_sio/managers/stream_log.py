"""A Redis stream used as the cluster's log: written in order across outages, read from where
the reader stopped, and the sessions of connection state recovery kept beside it.

:class:`StreamWriter` appends entries (``XADD ... MAXLEN ~ max_len *``); while Redis is away an
entry waits in a bounded queue and goes out, in order, when it is back. :class:`StreamReader`
reads (``XREAD COUNT .. BLOCK ..``) from where it stopped, so an outage loses nothing the
stream still keeps, and says so when it may have. :class:`SessionStore` keeps sessions
(``SET <prefix><pid> ... PX``) and gives them back with the broadcasts they missed
(``MULTI GET DEL EXEC``, ``XRANGE``), as @socket.io/redis-streams-adapter 0.3.x does.

The entries' format is :mod:`.streams_wire`'s; what the entries mean is the manager's
(:mod:`.redis_streams`), which these classes call back.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from ..protocol.socketio import Packet, PacketType
from . import streams_wire as sw
from .recovery import Restored, SessionRecord
from .remote import Link
from .wire import WireError

log = logging.getLogger("wsgi_sio.redis_streams")

_RESTORE_XRANGE_CALLS = 100  # adapter.ts RESTORE_SESSION_MAX_XRANGE_CALLS
_RESTORE_BATCH = 1000  # entries per XRANGE (Node asks for all of them at once)


@dataclass
class Shared:
    """What the three parts share with the manager."""

    client: Any  # redis.Redis for short commands; Any: redis-py's stubs type replies loosely
    counters: Counter[str]
    link: Link
    runtime: Any  # spawn, sleep, guard, event
    retry_max_delay: float
    max_message_size: int
    drop: Callable[[WireError, str], None]  # count and log a dropped entry


class StreamWriter:
    """``append`` an entry: its id once Redis has it, or None when it waits for Redis.

    Entries wait while Redis is unreachable, and also while others wait (order is kept),
    up to ``max_pending`` entries and ``max_pending_bytes``; past that they are dropped and
    counted (``pending_dropped``). One task writes the waiting ones, with backoff.
    """

    def __init__(self, shared: Shared, max_len: int, max_pending: int, max_pending_bytes: int) -> None:
        self.shared = shared
        self.max_len = max_len
        self.max_pending = max_pending
        self.max_pending_bytes = max_pending_bytes
        self.waiting: deque[tuple[str, dict[str, bytes], int]] = deque()
        self.waiting_bytes = 0
        self.writing = False
        self.closed = False
        self.guard = shared.runtime.guard()

    def append(self, stream: str, fields: dict[str, bytes]) -> str | None:
        shared = self.shared
        with self.guard:
            wait = bool(self.waiting) or shared.link.is_down("writer")
            if wait:
                self._enqueue(stream, fields)
        if wait:
            return None
        try:
            entry_id = shared.client.xadd(stream, fields, maxlen=self.max_len, approximate=True)
        except redis.RedisError as exc:
            shared.counters["publish_failed"] += 1
            shared.link.lost("writer", exc)
            with self.guard:
                self._enqueue(stream, fields)
            return None
        shared.counters["appended"] += 1
        return entry_id.decode("ascii") if isinstance(entry_id, bytes) else str(entry_id)

    def _enqueue(self, stream: str, fields: dict[str, bytes]) -> None:
        # under self.guard
        size = sum(len(k) + len(v) for k, v in fields.items())
        counters = self.shared.counters
        if len(self.waiting) >= self.max_pending or self.waiting_bytes + size > self.max_pending_bytes:
            if counters["pending_dropped"] == 0:
                log.warning("too many entries wait for Redis: dropping new ones (the clients of "
                            "this process got them; other processes will not)")
            counters["pending_dropped"] += 1
            return
        self.waiting.append((stream, fields, size))
        self.waiting_bytes += size
        if not self.writing:
            self.writing = True
            self.shared.runtime.spawn(self._write_waiting)

    def _write_waiting(self) -> None:
        shared = self.shared
        delay = 0.05
        while not self.closed:
            with self.guard:
                if not self.waiting:
                    self.writing = False
                    return
                stream, fields, size = self.waiting[0]
            try:
                shared.client.xadd(stream, fields, maxlen=self.max_len, approximate=True)
            except redis.RedisError as exc:
                shared.link.lost("writer", exc)
                shared.runtime.sleep(delay)
                delay = min(delay * 2, shared.retry_max_delay)
                continue
            delay = 0.05
            with self.guard:
                self.waiting.popleft()
                self.waiting_bytes -= size
            shared.counters["appended"] += 1
            shared.counters["appended_late"] += 1
            shared.link.back("writer")
        self.writing = False


class StreamReader:
    """Reads ``streams`` for ever, handing each entry to ``on_entry(stream, id, fields)``.

    It starts after the last entry there is (Node: ``$``) and then goes on from the id of the
    last entry it read, also after an outage; ``ready`` is set while it reads.
    """

    def __init__(self, shared: Shared, client: Any, streams: list[str], read_count: int,
                 block_time: float, on_entry: Callable[[str, str, dict[bytes, bytes]], None],
                 idle: Callable[[], None]) -> None:
        self.shared = shared
        self.client = client  # its own connection: XREAD BLOCK holds it
        self.streams = streams
        self.read_count = read_count
        self.block_ms = int(block_time * 1000)
        self.on_entry = on_entry
        self.idle = idle
        self.ready = shared.runtime.event()
        self.closed = False

    def run(self) -> None:
        shared = self.shared
        delay = 0.05
        positions: dict[str, str] = {}
        while not self.closed:
            try:
                if not positions:
                    positions = {stream: self._tail(stream) for stream in self.streams}
                elif shared.link.is_down("reader"):
                    for stream, last in positions.items():
                        self._check_gap(stream, last)
                delay = 0.05
                shared.link.back("reader")
                self.ready.set()
                self._pump(positions)
            except redis.RedisError as exc:
                self.ready.clear()
                shared.link.lost("reader", exc)
            except Exception:  # a bug of ours must not end the reader
                shared.counters["errors"] += 1
                log.exception("Redis stream reader failed; restarting it")
            if not self.closed:
                shared.runtime.sleep(delay)
                delay = min(delay * 2, shared.retry_max_delay)

    def _tail(self, stream: str) -> str:
        """After the last entry now: Node's ``$``, as an id, which also survives an outage
        before the first entry."""
        last = self.client.xrevrange(stream, "+", "-", count=1)
        return last[0][0].decode("ascii") if last else "0-0"

    def _check_gap(self, stream: str, last: str) -> None:
        """After an outage: is the entry we read last still there? Trimming removes the oldest
        entries first, so if it is, nothing after it was trimmed; if it is gone, the stream was
        trimmed past it or lost (a Redis restarted without its data), and what other processes
        wrote and we had not read may be gone: say so."""
        if last == "0-0" or self.client.xrange(stream, last, last):
            return
        self.shared.counters["stream_gap"] += 1
        log.error("the entry %s of stream %s is gone (trimmed, or Redis lost its data): "
                  "broadcasts from other processes made while Redis was unreachable may have "
                  "been missed", last, stream)

    def _pump(self, positions: dict[str, str]) -> None:
        while not self.closed:
            response = self.client.xread(positions, count=self.read_count, block=self.block_ms)
            for stream_name, entries in response or ():
                stream = stream_name.decode("utf-8", "replace")
                for entry_id, fields in entries:
                    offset = entry_id.decode("ascii")
                    positions[stream] = offset
                    self.on_entry(stream, offset, fields)
            self.idle()


class SessionStore:
    """Sessions of connection state recovery in Redis, in the Node adapter's format."""

    def __init__(self, shared: Shared, key_prefix: str) -> None:
        self.shared = shared
        self.key_prefix = key_prefix

    def persist(self, namespace: str, record: SessionRecord, ttl_ms: int) -> None:
        """``SET <prefix><pid> <base64 msgpack> PX <ttl>`` (adapter.ts ``persistSession``);
        lost, with a counter, while Redis is down."""
        shared = self.shared
        session = sw.Session(record.sid, record.pid, sorted(record.rooms), _packable(record.data))
        try:
            value = sw.encode_session(session, namespace, record.extras)
        except (TypeError, ValueError, OverflowError) as exc:
            log.warning("the session of %s cannot be kept: %s", record.sid, exc)
            return
        try:
            shared.client.set(self.key_prefix + record.pid, value, px=max(1, ttl_ms))
        except redis.RedisError as exc:
            shared.counters["sessions_lost"] += 1
            shared.link.lost("writer", exc)
            return
        shared.counters["sessions_kept"] += 1

    def restore(self, stream: str, namespace: str, pid: str, offset: str,
                replayed: Callable[[str, str, str], None] | None = None) -> Restored | None:
        """The session ``pid`` (consumed: ``MULTI GET DEL EXEC``) and the broadcasts after
        ``offset`` it would have received, oldest first, each with its entry id appended
        (read by ``Restored.replay``, which tells ``replayed(namespace, sid, last id read)``);
        None if the pid is unknown, expired or of another namespace, or the offset is not an
        id still in the stream (adapter.ts ``restoreSession``)."""
        if not isinstance(pid, str) or not 0 < len(pid) <= 200 or not sw.valid_offset(offset):
            return None
        shared = self.shared
        client = shared.client
        try:
            with client.pipeline(transaction=True) as pipe:
                pipe.get(self.key_prefix + pid)
                pipe.delete(self.key_prefix + pid)
                raw, _ = pipe.execute()
            found = client.xrange(stream, offset, offset)
        except redis.RedisError as exc:
            shared.link.lost("writer", exc)
            return None
        if not raw or not found:
            shared.counters["restore_failed"] += 1
            return None
        try:
            session, kept_namespace, extras = sw.decode_session(raw, shared.max_message_size)
        except WireError as exc:
            shared.drop(exc, "a kept session")
            return None
        if kept_namespace is not None and kept_namespace != namespace:
            shared.counters["restore_failed"] += 1
            return None
        shared.counters["restored"] += 1
        record = SessionRecord(session.sid, session.pid, frozenset(session.rooms), session.data,
                               extras)
        rooms = set(session.rooms)

        def replay() -> tuple[list[Packet], Callable[[str], bool]] | None:
            # Read once the socket is back in the manager (Restored.replay): an entry both
            # read here and delivered to the socket meanwhile is dropped from the latter by
            # ``covered``; none falls between the two.
            read = self._missed(stream, namespace, rooms, offset)
            if read is None:
                return None
            missed, last = read
            if replayed is not None:
                replayed(namespace, record.sid, last)
            end = sw.offset_key(last)
            return missed, lambda other: sw.valid_offset(other) and sw.offset_key(other) <= end

        return Restored(record, [], replay)

    def _missed(self, stream: str, namespace: str, rooms: set[str],
                offset: str) -> tuple[list[Packet], str] | None:
        """The entries after ``offset`` this session would have received, and the id of the
        last entry read (of any kind)."""
        shared = self.shared
        missed: list[Packet] = []
        for _ in range(_RESTORE_XRANGE_CALLS):
            try:
                entries = shared.client.xrange(stream, sw.next_offset(offset), "+", count=_RESTORE_BATCH)
            except redis.RedisError as exc:
                shared.link.lost("writer", exc)
                return None
            if not entries:
                break
            for entry_id, fields in entries:
                offset = entry_id.decode("ascii")
                if fields.get(b"nsp") != namespace.encode() or fields.get(b"type") != b"3":
                    continue
                try:
                    message = sw.decode_entry(fields, shared.max_message_size)
                except WireError as exc:
                    shared.drop(exc, f"{stream} {offset}")
                    continue
                body = message.body if message is not None else None
                if (isinstance(body, sw.Broadcast) and body.request_id is None
                        and sw.should_include(rooms, body.rooms, body.except_)):
                    missed.append(Packet(PacketType.EVENT, namespace, [*body.data, offset]))
        return missed, offset


def _packable(data: Any) -> Any:
    """A kept session's data as MessagePack can carry it (None if it cannot)."""
    try:
        sw.pack_check(data)
    except (TypeError, ValueError, OverflowError):
        return None
    return data
