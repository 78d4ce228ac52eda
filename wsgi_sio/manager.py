"""Who is in which room, and delivering one packet to many sockets.

The in-process manager is the default: rooms are dictionaries in this process. Every emit,
broadcast and room operation of the server goes through a manager, so one that spans
processes (Redis) can take its place without the API changing.

A broadcast is encoded once: the Socket.IO packet becomes its Engine.IO packets a single
time, and every recipient gets the same objects queued.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from .namespaces import CONNECTED, to_engine_packets
from .protocol import socketio as sio_proto

if TYPE_CHECKING:
    from .namespaces import Namespace
    from .server import Server


def as_set(value: str | Iterable[str] | None) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return {value}
    return set(value)


class InProcessManager:
    """Rooms and broadcasts for the sockets of this process."""

    def __init__(self) -> None:
        # namespace -> room -> {sid: socket}, for named rooms. Every socket is also in the
        # room named by its sid; that one is answered from ``sockets`` instead of a dict per
        # socket, which thousands of connections would each carry.
        self.rooms: dict[str, dict[str, dict[str, Namespace]]] = {}
        # namespace -> sid -> socket
        self.sockets: dict[str, dict[str, Namespace]] = {}

    # -- membership ---------------------------------------------------------------------------

    def add(self, socket: Namespace) -> None:
        self.sockets.setdefault(socket.namespace, {})[socket.sid] = socket
        socket._rooms.add(socket.sid)

    def remove(self, socket: Namespace) -> None:
        nsp_rooms = self.rooms.get(socket.namespace, {})
        for room in socket._rooms:
            members = nsp_rooms.get(room)
            if members is not None:
                members.pop(socket.sid, None)
                if not members:
                    del nsp_rooms[room]
        socket._rooms.clear()
        nsp_sockets = self.sockets.get(socket.namespace)
        if nsp_sockets is not None:
            nsp_sockets.pop(socket.sid, None)
            if not nsp_sockets:  # dynamic namespaces come and go: keep no empty tables
                del self.sockets[socket.namespace]
                self.rooms.pop(socket.namespace, None)

    def join(self, socket: Namespace, room: str) -> None:
        if room != socket.sid:
            self.rooms.setdefault(socket.namespace, {}).setdefault(room, {})[socket.sid] = socket
        socket._rooms.add(room)

    def leave(self, socket: Namespace, room: str) -> None:
        members = self.rooms.get(socket.namespace, {}).get(room)
        if members is not None:
            members.pop(socket.sid, None)
            if not members:
                del self.rooms[socket.namespace][room]
        socket._rooms.discard(room)

    def close_room(self, namespace: str, room: str) -> None:
        members = self.rooms.get(namespace, {}).pop(room, {})
        for socket in members.values():
            socket._rooms.discard(room)

    def get(self, namespace: str, sid: str) -> Namespace | None:
        return self.sockets.get(namespace, {}).get(sid)

    def has_room(self, namespace: str, room: str) -> bool:
        """Whether a socket of this process is in ``room`` (sid rooms included)."""
        return room in self.rooms.get(namespace, ()) or room in self.sockets.get(namespace, ())

    def room_names(self, namespace: str) -> set[str]:
        """Every room of the namespace in this process, sid rooms included (as Node lists them)."""
        return set(self.rooms.get(namespace, ())) | set(self.sockets.get(namespace, ()))

    def members(self, namespace: str, rooms: str | Iterable[str] | None = None,
                skip: str | Iterable[str] | None = None) -> list[Namespace]:
        """The sockets in any of ``rooms`` (all of the namespace when None) and in none of ``skip``.

        ``skip`` names rooms too; a sid is the name of its socket's own room.
        """
        nsp_sockets = self.sockets.get(namespace, {})
        nsp_rooms = self.rooms.get(namespace, {})
        if rooms is None:
            chosen = dict(nsp_sockets)
        else:
            chosen = {}
            for room in as_set(rooms):
                named = nsp_rooms.get(room)
                if named is not None:
                    chosen.update(named)
                else:
                    socket = nsp_sockets.get(room)
                    if socket is not None and room in socket._rooms:
                        chosen[room] = socket
        if skip:
            for room in as_set(skip):
                for sid in nsp_rooms.get(room, ()):
                    chosen.pop(sid, None)
                socket = chosen.get(room)
                if socket is not None and room in socket._rooms:
                    del chosen[room]  # a sid: its own room
        return list(chosen.values())

    # -- delivery -----------------------------------------------------------------------------

    def emit(self, packet: sio_proto.Packet, rooms: str | Iterable[str] | None = None,
             skip: str | Iterable[str] | None = None, *, volatile: bool = False) -> int:
        """Deliver ``packet`` to every matching socket of its namespace; returns how many.

        ``volatile``: skip the sockets whose transport cannot write at once (see
        ``EngineSocket.ready_to_write``) instead of queueing for them.
        """
        recipients = self.members(packet.namespace, rooms, skip)
        if not recipients:
            return 0
        encoded = to_engine_packets(packet)
        for socket in recipients:
            if socket.state is CONNECTED:
                sock = socket.client.sock
                if volatile and not sock.ready_to_write():
                    continue
                sock.send_packets(encoded)
            elif not volatile:
                socket._deliver(encoded)  # held while its on_connect runs
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
        return [(s.sid, set(s._rooms)) for s in self.members(namespace, rooms)]

    # -- hooks for managers that span processes (no-ops here) ---------------------------------

    def attach(self, server: Server) -> None:
        """Called once by the server using this manager; a cluster manager starts listening here."""

    def join_remote(self, namespace: str, sid: str, room: str) -> None:
        """``Server.enter_room`` for a sid that is not in this process."""
        raise KeyError(f"no client {sid!r} in namespace {namespace!r}")

    def leave_remote(self, namespace: str, sid: str, room: str) -> None:
        """``Server.leave_room`` for a sid that is not in this process."""
        raise KeyError(f"no client {sid!r} in namespace {namespace!r}")

    def disconnect_remote(self, namespace: str, sid: str) -> None:
        """``Server.disconnect`` for a sid that is not in this process: nothing to do in one."""


__all__ = ["InProcessManager", "to_engine_packets"]
