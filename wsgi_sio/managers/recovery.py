"""Connection state recovery (Socket.IO >= 4.6): kept sessions and the log of what they missed.

When a client loses its connection for a reason that is not its own choice (the reasons in
:data:`RECOVERABLE_REASONS`, as the reference server's ``RECOVERABLE_DISCONNECT_REASONS``),
the server keeps its *session* (:class:`SessionRecord`: sid, private id ``pid``, rooms,
``Namespace.session``) for ``max_disconnection_duration`` seconds. Every EVENT the server
sends without an ack id and not volatile is *stamped*: an offset is appended as the last
element of its data, and the packet is kept in a log for the same time. A client that comes
back sends ``{"pid": ..., "offset": <the last offset it saw>, ...auth}`` in its CONNECT; if
the pid is known, unexpired and the offset still in the log, it gets its old sid, rooms and
session back, and the logged packets after that offset meant for it (same namespace, one of
its rooms or the whole namespace, none of the excluded rooms), before its CONNECT reply.

Rules of this module (as the reference in-memory ``SessionAwareAdapter``, except where said):

* A pid is single use: a restore attempt with a known pid consumes the session, whether it
  succeeds or not (stricter than Node, which keeps it until it expires).
* Restore fails for an unknown, expired or other-namespace pid, and for an offset that is
  not in the log (never stamped here, or already dropped): the caller then makes an
  ordinary new connection.
* Both tables are bounded by count and by bytes (:class:`RecoveryOptions`); when one is
  full the oldest entries go first. A client whose offset was dropped cannot recover.
* Nothing here owns a clock, a socket or a timer: every call is given ``now`` (seconds, any
  monotonic clock), and expired entries are dropped on the next call.

The manager interface (:class:`SessionRecovery`) is what the Socket.IO layer asks of a
manager; :class:`MemoryRecovery` is the in-process implementation the in-process manager
(and, for the sockets of one process, the Redis pub/sub manager) uses.
"""

from __future__ import annotations

import secrets
import sys
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..protocol.socketio import Packet, PacketType

#: Close reasons after which a session is kept (socket.io ``lib/socket.ts``); not kept after
#: a namespace disconnect by either side, a parse error, or a slow consumer.
RECOVERABLE_REASONS = frozenset({
    "transport error", "transport close", "forced close", "ping timeout",
    "server shutting down", "forced server close",
})


def new_pid() -> str:
    """A private session id: 128 random bits, URL-safe (sent in the CONNECT reply only)."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class RecoveryOptions:
    """``Server(connection_state_recovery={...})``; durations in seconds.

    ``max_disconnection_duration``: how long a session and the packets it may miss are kept.
    ``skip_middlewares``: a recovered socket is accepted without running ``on_connect``
    again (False: it runs, sees ``self.recovered``, and may refuse).
    ``max_sessions``/``max_session_bytes`` and ``max_packets``/``max_packet_bytes`` bound the
    memory of the kept sessions and of the packet log (oldest dropped first).
    """

    max_disconnection_duration: float = 120.0
    skip_middlewares: bool = True
    max_sessions: int = 10_000
    max_session_bytes: int = 16_000_000
    max_packets: int = 10_000
    max_packet_bytes: int = 32_000_000

    @classmethod
    def from_config(cls, config: RecoveryOptions | Mapping[str, Any] | bool | None) -> RecoveryOptions | None:
        """None/False: off; True: the defaults; a mapping of the field names (seconds, not
        Node's milliseconds; Node's camelCase names are refused, not guessed)."""
        if config is None or config is False:
            return None
        if config is True:
            return cls()
        if isinstance(config, RecoveryOptions):
            return config
        if not isinstance(config, Mapping):
            raise TypeError("connection_state_recovery must be a dict, True, or None")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(config) - known)
        if unknown:
            raise TypeError(f"unknown connection_state_recovery keys: {', '.join(map(str, unknown))}; "
                            f"known: {', '.join(sorted(known))}")
        options = cls(**config)
        if not options.max_disconnection_duration > 0:
            raise ValueError("max_disconnection_duration must be positive (seconds)")
        return options


@dataclass
class SessionRecord:
    """What is kept of a socket between its disconnection and its recovery.

    ``rooms`` includes the socket's own sid room; ``data`` is its ``Namespace.session``;
    ``extras`` is what integrations keep (``Server.recovery_extras``): small plain values.
    """

    sid: str
    pid: str
    rooms: frozenset[str]
    data: Any
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class Restored:
    """A successful restore: the session, and the stamped packets it missed, oldest first.

    A manager whose log is read over the network (the Redis Streams manager) leaves
    ``missed`` empty and gives ``replay`` instead: the caller calls it once the socket is in
    the manager, so that nothing emitted meanwhile falls between the read and the socket's
    return. It answers the missed packets (None: the restore failed after all) and
    ``covered``, which tells whether a packet's offset is among or before them: a packet
    delivered to the socket meanwhile with such an offset is a duplicate.
    """

    record: SessionRecord
    missed: list[Packet]
    replay: Callable[[], tuple[list[Packet], Callable[[str], bool]] | None] | None = None


class SessionRecovery(Protocol):
    """What a manager does for connection state recovery (``InProcessManager`` and
    ``RedisManager`` are one; a Redis Streams manager implements it with stream ids as
    offsets and ``SET sio:session:<pid> ... PX``, see protocol notes wave 2, §4).

    * ``enable_recovery(options)``: called once by the server, before any client connects,
      when recovery is on. From then on ``emit(packet, rooms, skip, volatile=...)`` must, for
      an EVENT/BINARY_EVENT packet with ``id is None`` and not volatile, append an offset
      (a ``str``) to ``packet.data`` *as sent to the clients* and keep the packet with
      ``rooms``/``skip`` for ``max_disconnection_duration``; it must do so also when no
      socket receives it now (a private emit to a disconnected sid is what it keeps for it).
      Other packets are sent as before.
    * ``persist_session(namespace, record)``: a socket of ``namespace`` left for one of
      :data:`RECOVERABLE_REASONS`; keep ``record`` under ``record.pid`` for
      ``max_disconnection_duration``. Must not block for long (it runs in the connection's
      close path).
    * ``restore_session(namespace, pid, offset) -> Restored | None``: consume the session
      ``pid`` (single use: gone after this call, whatever the answer) and return it with the
      stamped packets after ``offset`` that it would have received, oldest first; None when
      the pid is unknown, expired or of another namespace, or ``offset`` is not known.
      ``pid`` and ``offset`` come from the client: validate them, never trust them. The
      caller adds the socket right after this returns: packets emitted between a read of the
      log and then would be lost, so an implementation whose log is not in this process
      reads it later, in ``Restored.replay``.
    """

    def enable_recovery(self, options: RecoveryOptions) -> None: ...
    def persist_session(self, namespace: str, record: SessionRecord) -> None: ...
    def restore_session(self, namespace: str, pid: str, offset: str) -> Restored | None: ...


def approximate_size(value: Any, depth: int = 0) -> int:
    """Bytes a kept value roughly costs: lengths of strings and bytes, plus a little per item.
    Cheap and bounded (nested deeper than 32 levels counts as 1 kB)."""
    if depth > 32:
        return 1024
    if isinstance(value, (str, bytes, bytearray)):
        return len(value) + 8
    if isinstance(value, Mapping):
        return 16 + sum(approximate_size(k, depth + 1) + approximate_size(v, depth + 1)
                        for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return 16 + sum(approximate_size(v, depth + 1) for v in value)
    return min(sys.getsizeof(value), 1024)


def stampable(packet: Packet, volatile: bool) -> bool:
    """Whether ``packet`` gets an offset and goes into the log (socket.io-adapter
    ``broadcast``: no ack id, not volatile; only events)."""
    return (not volatile and packet.id is None
            and (packet.type is PacketType.EVENT or packet.type is PacketType.BINARY_EVENT))


class _Entry:
    __slots__ = ("at", "packet", "rooms", "seq", "size", "skip")

    def __init__(self, seq: int, at: float, packet: Packet, rooms: frozenset[str] | None,
                 skip: frozenset[str], size: int) -> None:
        self.seq = seq
        self.at = at
        self.packet = packet
        self.rooms = rooms
        self.skip = skip
        self.size = size


class _Kept:
    __slots__ = ("at", "namespace", "record", "size")

    def __init__(self, namespace: str, record: SessionRecord, at: float, size: int) -> None:
        self.namespace = namespace
        self.record = record
        self.at = at
        self.size = size


def _frozen(value: str | Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value]) if isinstance(value, str) else frozenset(value)


class MemoryRecovery:
    """Kept sessions and the packet log of one process (sans-IO: ``now`` is passed in).

    Offsets are ``<8 hex chars of this store>-<sequence number>``: the prefix tells this
    store's offsets from another's (an earlier process, another server), the number finds
    the packet in the log at once.
    """

    def __init__(self, options: RecoveryOptions) -> None:
        self.options = options
        self.prefix = secrets.token_hex(4) + "-"
        self._log: deque[_Entry] = deque()
        self._log_bytes = 0
        self._next_seq = 1
        self._sessions: dict[str, _Kept] = {}  # pid -> kept, oldest first
        self._session_bytes = 0
        #: what was dropped and why (read by tests and ``stats``)
        self.dropped = {"sessions_expired": 0, "sessions_evicted": 0, "packets_expired": 0,
                        "packets_evicted": 0, "restore_failed": 0, "restored": 0}

    # -- the packet log -------------------------------------------------------------------------

    def stamp(self, packet: Packet) -> Packet:
        """``packet`` with the offset the next :meth:`append` gives, as the last data element."""
        return Packet(packet.type, packet.namespace,
                      [*packet.data, f"{self.prefix}{self._next_seq}"], packet.id)

    def append(self, stamped: Packet, rooms: str | Iterable[str] | None,
               skip: str | Iterable[str] | None, size: int, now: float) -> None:
        """Keep ``stamped`` (just made by :meth:`stamp`), sent to ``rooms`` (None: the whole
        namespace) minus ``skip``; ``size``: its encoded bytes."""
        self._log.append(_Entry(self._next_seq, now, stamped, _frozen(rooms),
                                _frozen(skip) or frozenset(), size))
        self._next_seq += 1
        self._log_bytes += size
        self._trim_log(now)

    def _trim_log(self, now: float) -> None:
        log = self._log
        horizon = now - self.options.max_disconnection_duration
        while log and log[0].at < horizon:
            self._log_bytes -= log.popleft().size
            self.dropped["packets_expired"] += 1
        options = self.options
        while log and (len(log) > options.max_packets or self._log_bytes > options.max_packet_bytes):
            self._log_bytes -= log.popleft().size
            self.dropped["packets_evicted"] += 1

    def _position(self, offset: str) -> int | None:
        """The index in the log of the packet stamped ``offset``, or None."""
        if not offset.startswith(self.prefix):
            return None
        digits = offset[len(self.prefix):]
        if not (digits.isascii() and digits.isdigit() and len(digits) < 20):
            return None
        log = self._log
        if not log:
            return None
        index = int(digits) - log[0].seq
        if 0 <= index < len(log) and log[index].seq == int(digits):
            return index
        return None

    # -- sessions -------------------------------------------------------------------------------

    def persist(self, namespace: str, record: SessionRecord, now: float) -> None:
        """Keep ``record`` until ``now + max_disconnection_duration``."""
        self.prune(now)
        previous = self._sessions.pop(record.pid, None)
        if previous is not None:
            self._session_bytes -= previous.size
        size = (approximate_size(record.sid) + approximate_size(record.pid) + approximate_size(namespace)
                + approximate_size(record.rooms) + approximate_size(record.data)
                + approximate_size(record.extras))
        options = self.options
        if size > options.max_session_bytes:
            self.dropped["sessions_evicted"] += 1
            return
        self._sessions[record.pid] = _Kept(namespace, record, now, size)
        self._session_bytes += size
        sessions = self._sessions
        while len(sessions) > options.max_sessions or self._session_bytes > options.max_session_bytes:
            oldest = next(iter(sessions))
            self._session_bytes -= sessions.pop(oldest).size
            self.dropped["sessions_evicted"] += 1

    def restore(self, namespace: str, pid: str, offset: str, now: float) -> Restored | None:
        """Consume session ``pid`` and return it with what it missed after ``offset``; None if
        it cannot be recovered (see the module's rules)."""
        self.prune(now)
        kept = self._sessions.pop(pid, None)
        if kept is None:
            self.dropped["restore_failed"] += 1
            return None
        self._session_bytes -= kept.size
        position = self._position(offset)
        if kept.namespace != namespace or position is None:
            self.dropped["restore_failed"] += 1
            return None
        record = kept.record
        rooms = record.rooms
        missed = []
        log = self._log
        for index in range(position + 1, len(log)):
            entry = log[index]
            packet = entry.packet
            if packet.namespace != namespace:
                continue
            if entry.rooms is not None and entry.rooms.isdisjoint(rooms):
                continue
            if not entry.skip.isdisjoint(rooms):
                continue
            missed.append(packet)
        self.dropped["restored"] += 1
        return Restored(record, missed)

    def prune(self, now: float) -> None:
        """Drop what expired by ``now``: sessions and packets older than the window."""
        horizon = now - self.options.max_disconnection_duration
        sessions = self._sessions
        while sessions:
            oldest = next(iter(sessions))
            if sessions[oldest].at >= horizon:
                break
            self._session_bytes -= sessions.pop(oldest).size
            self.dropped["sessions_expired"] += 1
        self._trim_log(now)

    def stats(self) -> dict[str, int]:
        """Sizes now, and the drop counters."""
        return {"sessions": len(self._sessions), "session_bytes": self._session_bytes,
                "packets": len(self._log), "packet_bytes": self._log_bytes, **self.dropped}


__all__ = ["RECOVERABLE_REASONS", "MemoryRecovery", "RecoveryOptions", "Restored", "SessionRecord",
           "SessionRecovery", "approximate_size", "new_pid", "stampable"]
