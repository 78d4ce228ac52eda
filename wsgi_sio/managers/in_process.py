"""Who is in which room, and delivering one packet to many sockets, in this process.

The manager alone owns room membership: it keeps, per namespace, the sockets by sid, the
members of each named room, and the rooms of each socket. A socket's ``rooms`` asks it;
nothing else changes membership. Every emit, broadcast and room operation of the server goes
through a manager, so one that spans processes (:class:`~wsgi_sio.managers.RedisManager`,
which has one of these for its own sockets) can take its place without the API changing.

A broadcast is encoded once: the Socket.IO packet becomes its Engine.IO packets a single
time, and every recipient gets the same objects queued.

This module sits below the Socket.IO layer (:mod:`wsgi_sio.socketio`), so it knows sockets
only as the small :class:`Member` protocol, and defines the socket states both layers share.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..engine.socket import EngineSocket
from ..protocol import engineio
from ..protocol.socketio import Packet
from ..protocol.socketio import encode as sio_encode
from .recovery import MemoryRecovery, RecoveryOptions, Restored, SessionRecord, stampable


class SocketState(enum.Enum):
    """Where a socket of a namespace stands, set by the Socket.IO layer; the manager reads it
    to send at once (CONNECTED), hold (CONNECTING: its ``on_connect`` is running) or skip."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


CONNECTING = SocketState.CONNECTING
CONNECTED = SocketState.CONNECTED
DISCONNECTED = SocketState.DISCONNECTED

_MESSAGE = engineio.PacketType.MESSAGE


def to_engine_packets(packet: Packet) -> list[engineio.Packet]:
    """Encode a Socket.IO packet once into the Engine.IO messages that carry it."""
    return [engineio.Packet(_MESSAGE, part) for part in sio_encode(packet)]


def as_set(value: str | Iterable[str] | None) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return {value}
    return set(value)


class Connection(Protocol):
    """What a manager needs of a socket's connection: its Engine.IO socket."""

    @property
    def sock(self) -> EngineSocket: ...


class Member(Protocol):
    """What a manager needs of a socket (``wsgi_sio.Namespace`` is one)."""

    @property
    def sid(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def state(self) -> SocketState: ...
    @property
    def client(self) -> Connection: ...
    def deliver(self, packets: list[engineio.Packet]) -> None: ...
    def disconnect(self) -> None: ...


class Manager(Protocol):
    """What the Socket.IO server asks of a manager: :class:`InProcessManager` and
    ``RedisManager`` both are one. Sockets are passed as :class:`Member`."""

    def attach(self, server: Any) -> None: ...
    def add(self, socket: Any) -> None: ...
    def remove(self, socket: Any) -> None: ...
    def join(self, socket: Any, room: str) -> None: ...
    def leave(self, socket: Any, room: str) -> None: ...
    def close_room(self, namespace: str, room: str) -> None: ...
    def rooms_of(self, socket: Any) -> frozenset[str]: ...
    def get(self, namespace: str, sid: str) -> Any: ...
    def members(self, namespace: str, rooms: str | Iterable[str] | None = None,
                skip: str | Iterable[str] | None = None) -> list[Any]: ...
    def emit(self, packet: Packet, rooms: str | Iterable[str] | None = None,
             skip: str | Iterable[str] | None = None, *, volatile: bool = False) -> int: ...
    def disconnect(self, namespace: str, rooms: str | Iterable[str] | None = None,
                   skip: str | Iterable[str] | None = None) -> None: ...
    def join_remote(self, namespace: str, sid: str, room: str) -> None: ...
    def leave_remote(self, namespace: str, sid: str, room: str) -> None: ...
    def disconnect_remote(self, namespace: str, sid: str) -> None: ...


class InProcessManager:
    """Rooms and broadcasts for the sockets of this process.

    It also keeps what connection state recovery needs when the server turns it on
    (:class:`~wsgi_sio.managers.recovery.SessionRecovery`): the sessions of disconnected
    sockets and the log of stamped packets, in this process. ``clock``: the monotonic clock
    those expire by (tests pass their own).
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        #: the recovery store, once the server enables recovery
        self.recovery: MemoryRecovery | None = None
        # namespace -> room -> {sid: socket}, for named rooms. Every socket is also in the
        # room named by its sid; that one is answered from ``sockets`` instead of a dict per
        # socket, which thousands of connections would each carry.
        self.rooms: dict[str, dict[str, dict[str, Any]]] = {}
        # namespace -> sid -> socket
        self.sockets: dict[str, dict[str, Any]] = {}
        # namespace -> sid -> the rooms of that socket (its sid room included while it is in it)
        self.joined: dict[str, dict[str, set[str]]] = {}

    # -- membership ---------------------------------------------------------------------------

    def add(self, socket: Member) -> None:
        self.sockets.setdefault(socket.namespace, {})[socket.sid] = socket
        self.joined.setdefault(socket.namespace, {}).setdefault(socket.sid, set()).add(socket.sid)

    def remove(self, socket: Member) -> None:
        nsp = socket.namespace
        nsp_rooms = self.rooms.get(nsp, {})
        nsp_joined = self.joined.get(nsp)
        for room in nsp_joined.pop(socket.sid, ()) if nsp_joined is not None else ():
            members = nsp_rooms.get(room)
            if members is not None:
                members.pop(socket.sid, None)
                if not members:
                    del nsp_rooms[room]
        nsp_sockets = self.sockets.get(nsp)
        if nsp_sockets is not None:
            nsp_sockets.pop(socket.sid, None)
            if not nsp_sockets:  # dynamic namespaces come and go: keep no empty tables
                del self.sockets[nsp]
                self.rooms.pop(nsp, None)
                self.joined.pop(nsp, None)

    def join(self, socket: Member, room: str) -> None:
        if room != socket.sid:
            self.rooms.setdefault(socket.namespace, {}).setdefault(room, {})[socket.sid] = socket
        self.joined.setdefault(socket.namespace, {}).setdefault(socket.sid, set()).add(room)

    def leave(self, socket: Member, room: str) -> None:
        members = self.rooms.get(socket.namespace, {}).get(room)
        if members is not None:
            members.pop(socket.sid, None)
            if not members:
                del self.rooms[socket.namespace][room]
        rooms = self.joined.get(socket.namespace, {}).get(socket.sid)
        if rooms is not None:
            rooms.discard(room)

    def close_room(self, namespace: str, room: str) -> None:
        members = self.rooms.get(namespace, {}).pop(room, {})
        nsp_joined = self.joined.get(namespace, {})
        for sid in members:
            rooms = nsp_joined.get(sid)
            if rooms is not None:
                rooms.discard(room)

    def rooms_of(self, socket: Member) -> frozenset[str]:
        """The rooms ``socket`` is in (its sid room included), as ``Namespace.rooms`` reports."""
        return frozenset(self.joined.get(socket.namespace, {}).get(socket.sid, ()))

    def get(self, namespace: str, sid: str) -> Any:
        """The socket ``sid`` of ``namespace`` in this process, or None."""
        return self.sockets.get(namespace, {}).get(sid)

    def has_room(self, namespace: str, room: str) -> bool:
        """Whether a socket of this process is in ``room`` (sid rooms included)."""
        return room in self.rooms.get(namespace, ()) or room in self.sockets.get(namespace, ())

    def room_names(self, namespace: str) -> set[str]:
        """Every room of the namespace in this process, sid rooms included (as Node lists them)."""
        return set(self.rooms.get(namespace, ())) | set(self.sockets.get(namespace, ()))

    def members(self, namespace: str, rooms: str | Iterable[str] | None = None,
                skip: str | Iterable[str] | None = None) -> list[Any]:
        """The sockets in any of ``rooms`` (all of the namespace when None) and in none of ``skip``.

        ``skip`` names rooms too; a sid is the name of its socket's own room.
        """
        nsp_sockets = self.sockets.get(namespace, {})
        nsp_rooms = self.rooms.get(namespace, {})
        if rooms is None:
            chosen = dict(nsp_sockets)
        else:
            chosen = {}
            nsp_joined = self.joined.get(namespace, {})
            for room in as_set(rooms):
                named = nsp_rooms.get(room)
                if named is not None:
                    chosen.update(named)
                else:
                    socket = nsp_sockets.get(room)
                    if socket is not None and room in nsp_joined.get(room, ()):
                        chosen[room] = socket
        if skip:
            nsp_joined = self.joined.get(namespace, {})
            for room in as_set(skip):
                for sid in nsp_rooms.get(room, ()):
                    chosen.pop(sid, None)
                if room in chosen and room in nsp_joined.get(room, ()):
                    del chosen[room]  # a sid: its own room
        return list(chosen.values())

    # -- delivery -----------------------------------------------------------------------------

    def emit(self, packet: Packet, rooms: str | Iterable[str] | None = None,
             skip: str | Iterable[str] | None = None, *, volatile: bool = False) -> int:
        """Deliver ``packet`` to every matching socket of its namespace; returns how many.

        ``volatile``: skip the sockets whose transport cannot write at once (see
        ``EngineSocket.ready_to_write``) instead of queueing for them.
        """
        recipients = self.members(packet.namespace, rooms, skip)
        store = self.recovery
        if store is not None and stampable(packet, volatile):
            # Logged whoever receives it now: a socket that comes back may have missed it.
            packet = store.stamp(packet)
            encoded = to_engine_packets(packet)
            store.append(packet, rooms, skip, sum(len(p.data or "") for p in encoded), self.clock())
            if not recipients:
                return 0
        elif not recipients:
            return 0
        else:
            encoded = to_engine_packets(packet)
        # The per-recipient loop of every broadcast: a connected socket's engine socket is
        # written here directly rather than through a method of the socket.
        for socket in recipients:
            if socket.state is CONNECTED:
                sock = socket.client.sock
                if volatile and not sock.ready_to_write():
                    continue
                sock.send_packets(encoded)
            elif not volatile:
                socket.deliver(encoded)  # held while its on_connect runs
        return len(recipients)

    def disconnect(self, namespace: str, rooms: str | Iterable[str] | None = None,
                   skip: str | Iterable[str] | None = None) -> None:
        for socket in self.members(namespace, rooms, skip):
            socket.disconnect()

    def join_many(self, namespace: str, room: str, rooms: str | Iterable[str] | None = None,
                  skip: str | Iterable[str] | None = None) -> None:
        for socket in self.members(namespace, rooms, skip):
            self.join(socket, room)

    def leave_many(self, namespace: str, room: str, rooms: str | Iterable[str] | None = None,
                   skip: str | Iterable[str] | None = None) -> None:
        for socket in self.members(namespace, rooms, skip):
            self.leave(socket, room)

    def list_sockets(self, namespace: str, rooms: str | Iterable[str] | None = None) -> list[tuple[str, set[str]]]:
        return [(s.sid, set(self.rooms_of(s))) for s in self.members(namespace, rooms)]

    # -- connection state recovery (SessionRecovery) --------------------------------------------

    def enable_recovery(self, options: RecoveryOptions) -> None:
        """From now on, stamp and log what ``emit`` sends, and keep sessions (see
        :mod:`.recovery`)."""
        self.recovery = MemoryRecovery(options)

    def persist_session(self, namespace: str, record: SessionRecord) -> None:
        if self.recovery is not None:
            self.recovery.persist(namespace, record, self.clock())

    def restore_session(self, namespace: str, pid: str, offset: str) -> Restored | None:
        if self.recovery is None:
            return None
        return self.recovery.restore(namespace, pid, offset, self.clock())

    # -- hooks for managers that span processes (no-ops here) ---------------------------------

    def attach(self, server: Any) -> None:
        """Called once by the server using this manager; a cluster manager starts listening here."""

    def join_remote(self, namespace: str, sid: str, room: str) -> None:
        """``Server.enter_room`` for a sid that is not in this process."""
        raise KeyError(f"no client {sid!r} in namespace {namespace!r}")

    def leave_remote(self, namespace: str, sid: str, room: str) -> None:
        """``Server.leave_room`` for a sid that is not in this process."""
        raise KeyError(f"no client {sid!r} in namespace {namespace!r}")

    def disconnect_remote(self, namespace: str, sid: str) -> None:
        """``Server.disconnect`` for a sid that is not in this process: nothing to do in one."""


__all__ = ["CONNECTED", "CONNECTING", "DISCONNECTED", "InProcessManager", "Manager", "Member",
           "as_set", "to_engine_packets"]
