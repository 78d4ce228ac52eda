"""Namespaces: where users write their server code, and the state of one socket.

A namespace is a class whose ``on_<event>`` methods handle the client's events. One instance
is made for every client connection to the namespace, so state kept on ``self`` belongs to
that client; the instance is also the handle for talking back to it (``emit``, ``call``,
``join``, ``disconnect``). Function handlers registered with ``Server.on`` receive the same
instance as their first argument.

The instance owns its connection state (``state``), the acknowledgements it waits for and the
packets held for it; room membership is the manager's (``rooms`` asks it).

Delivery rule: packets for a socket whose CONNECT is still being decided (its ``on_connect``
is running) are held, and sent after the CONNECT acknowledgement; if the connection is
refused they are dropped. That is what lets ``on_connect`` emit a welcome and join rooms.

This is the lowest module of :mod:`wsgi_sio.socketio`: it knows the server and the
per-connection client only as the :class:`ServerAPI` and :class:`ClientAPI` protocols.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..engine.socket import EngineSocket
from ..managers.in_process import CONNECTED, CONNECTING, DISCONNECTED, Manager, to_engine_packets
from ..managers.recovery import RecoveryOptions
from ..protocol import engineio
from ..protocol.socketio import Packet, PacketType
from ..runtime import Runtime

log = logging.getLogger("wsgi_sio")

_GONE = object()  # handed to a waiting call() when the client disconnects first


class ServerAPI(Protocol):
    """What a namespace (and user code, as ``self.server``) may use of its server."""

    manager: Manager
    #: connection state recovery's options, None when it is off
    recovery: RecoveryOptions | None

    @property
    def runtime(self) -> Runtime: ...
    def emit(self, event: str, *args: Any, to: str | Iterable[str] | None = None,
             room: str | Iterable[str] | None = None, skip_sid: str | Iterable[str] | None = None,
             namespace: str = "/", callback: Callable[..., Any] | None = None,
             volatile: bool = False) -> None: ...
    def send(self, data: Any, **kw: Any) -> None: ...
    def call(self, event: str, *args: Any, to: str, namespace: str = "/",
             timeout: float = 60) -> Any: ...
    def to(self, room: str | Iterable[str], namespace: str = "/") -> BroadcastOperator: ...
    def enter_room(self, sid: str, room: str, namespace: str = "/") -> None: ...
    def leave_room(self, sid: str, room: str, namespace: str = "/") -> None: ...
    def close_room(self, room: str, namespace: str = "/") -> None: ...
    def rooms(self, sid: str, namespace: str = "/") -> frozenset[str]: ...
    def get_socket(self, sid: str, namespace: str = "/") -> Namespace | None: ...
    def disconnect(self, sid: str, namespace: str = "/") -> None: ...


class ClientAPI(Protocol):
    """What a namespace uses of its connection (``wsgi_sio.socketio.client.Client``)."""

    @property
    def sock(self) -> EngineSocket: ...
    def close_namespace(self, socket: Namespace, reason: str) -> None: ...


class ConnectionRefused(Exception):
    """Raise in ``on_connect`` to refuse the client; it gets ``connect_error`` with these."""

    def __init__(self, message: str = "Connection refused", data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"message": self.message}
        if self.data is not None:
            payload["data"] = self.data
        return payload


def ack_arguments(result: Any) -> list[Any]:
    """A handler's return value as acknowledgement arguments: a tuple spreads, None is none."""
    if result is None:
        return []
    if isinstance(result, tuple):
        return list(result)
    return [result]


class BroadcastOperator:
    """A target for broadcasts: some rooms of a namespace, minus some rooms (or sids).

    Made by ``Namespace.to()``/``broadcast`` and ``Server.to()``; chain ``to()`` and
    ``except_()`` to narrow it, then ``emit``.
    """

    def __init__(self, server: ServerAPI, namespace: str, rooms: frozenset[str] | None = None,
                 skip: frozenset[str] = frozenset(), volatile: bool = False) -> None:
        self._server = server
        self._namespace = namespace
        self._rooms = rooms
        self._skip = skip
        self._volatile = volatile

    def to(self, room: str | Iterable[str]) -> BroadcastOperator:
        added = frozenset([room] if isinstance(room, str) else room)
        return BroadcastOperator(self._server, self._namespace, (self._rooms or frozenset()) | added,
                                 self._skip, self._volatile)

    in_ = to

    def except_(self, room: str | Iterable[str]) -> BroadcastOperator:
        added = frozenset([room] if isinstance(room, str) else room)
        return BroadcastOperator(self._server, self._namespace, self._rooms, self._skip | added,
                                 self._volatile)

    @property
    def volatile(self) -> BroadcastOperator:
        """The same target, with events dropped for clients not ready to receive them."""
        return BroadcastOperator(self._server, self._namespace, self._rooms, self._skip, True)

    def emit(self, event: str, *args: Any) -> None:
        self._server.emit(event, *args, to=self._rooms, skip_sid=self._skip or None,
                          namespace=self._namespace, volatile=self._volatile)

    def send(self, data: Any) -> None:
        self.emit("message", data)

    def disconnect(self) -> None:
        self._server.manager.disconnect(self._namespace, self._rooms, self._skip)


class _Volatile:
    __slots__ = ("_socket",)

    def __init__(self, socket: Namespace) -> None:
        self._socket = socket

    def emit(self, event: str, *args: Any) -> None:
        socket = self._socket
        if socket.state is CONNECTED and socket.client.sock.ready_to_write():
            # straight to the socket: a volatile packet is never stamped nor logged for recovery
            socket.send_packet(Packet(PacketType.EVENT, socket.namespace, [event, *args]))

    def send(self, data: Any) -> None:
        self.emit("message", data)


class Namespace:
    """Subclass it, add ``on_<event>`` methods, register it with ``@server.namespace(path)``.

    Per connection: ``sid`` (the Socket.IO id, not the Engine.IO one), ``eio_sid``,
    ``namespace``, ``environ`` (the handshake request), ``auth`` (the CONNECT payload),
    ``session`` (a dict of your own), ``rooms``; ``extras`` is for integrations.

    With connection state recovery on (``Server(connection_state_recovery=...)``):
    ``recovered`` is True for a socket that took over a session kept after its connection
    was lost (same ``sid``, rooms and ``session``; what it missed was sent before its
    CONNECT reply), and ``pid`` is the private id the client recovers with.
    """

    #: True when this socket recovered a kept session (connection state recovery)
    recovered: bool = False
    #: the private session id sent in the CONNECT reply, when recovery is on
    pid: str | None = None

    # made when first needed (class-level None until then): most sockets never hold packets,
    # wait for an ack, or carry an integration's state
    _held: list[list[engineio.Packet]] | None = None
    _acks: dict[int, Callable[..., Any]] | None = None
    _extras: dict[str, Any] | None = None

    def __init__(self, server: ServerAPI, client: ClientAPI, namespace: str, sid: str,
                 auth: Any) -> None:
        self.server = server
        self.client = client
        self.namespace = namespace
        self.sid = sid
        self.auth = auth
        self.session: dict[str, Any] = {}
        #: CONNECTING while on_connect decides, then CONNECTED, then DISCONNECTED
        self.state = CONNECTING
        self._next_ack = 0

    # -- what users override ------------------------------------------------------------------

    def on_connect(self, auth: Any) -> Any:
        """Accept the connection (the default). Raise ``ConnectionRefused`` or return False to refuse."""
        return None

    def on_disconnect(self, reason: str) -> None:
        """The connection ended; ``reason`` as the reference server names it."""

    def catch_all(self, event: str, *args: Any) -> Any:
        """Override to receive events that have no ``on_<event>`` handler (ignored otherwise)."""
        return None

    # on_error(self, event, exc): define it to handle what an event handler of this namespace
    # raises; its return value answers the client's ack (see ``Server.error_handler_for``).
    # Not defined here, so that the server knows whether a class has one; it is never the
    # handler of a client's "error" event (that goes to ``Server.on("error")`` or catch_all).

    # -- facts --------------------------------------------------------------------------------

    @property
    def eio_sid(self) -> str:
        return self.client.sock.sid

    @property
    def environ(self) -> dict[str, Any]:
        return self.client.sock.environ

    @property
    def rooms(self) -> frozenset[str]:
        """The rooms this socket is in, its own sid room included (the manager keeps them)."""
        return self.server.manager.rooms_of(self)

    @property
    def connected(self) -> bool:
        return self.state is CONNECTED

    @property
    def extras(self) -> dict[str, Any]:
        """Per-socket state for integrations (the Django one keeps the handshake's request and
        session key here), keyed by a name of the integration's own, such as
        ``"django.request"``. Users keep theirs in ``session`` or on ``self``."""
        extras = self._extras
        if extras is None:
            extras = self._extras = {}
        return extras

    # -- talking to this client ---------------------------------------------------------------

    def emit(self, event: str, *args: Any, callback: Callable[..., Any] | None = None) -> None:
        """Send ``event`` to this client; ``callback(*ack_args)`` runs when it acknowledges."""
        if callback is None and self.server.recovery is not None:
            # As the reference server with recovery on: through the manager to the sid's room,
            # so the packet is stamped and logged (and kept for this sid if it is away now).
            self.server.manager.emit(Packet(PacketType.EVENT, self.namespace, [event, *args]), self.sid)
            return
        ack_id = self._register_ack(callback) if callback is not None else None
        self.send_packet(Packet(PacketType.EVENT, self.namespace, [event, *args], ack_id))

    def send(self, data: Any, callback: Callable[..., Any] | None = None) -> None:
        self.emit("message", data, callback=callback)

    def call(self, event: str, *args: Any, timeout: float = 60) -> Any:
        """Emit and wait for the client's acknowledgement; returns its argument(s).

        One argument comes back as itself, none as None, several as a tuple. Raises
        ``TimeoutError`` if no acknowledgement comes within ``timeout`` seconds, and
        ``ConnectionError`` if the client disconnects first.
        """
        sock = self.client.sock
        done = sock.runtime.event()
        box: list[Any] = []

        def resolve(*ack: Any) -> None:
            box.append(ack)
            done.set()

        resolve.immediate = True  # type: ignore[attr-defined]
        ack_id = self._register_ack(resolve)
        self.send_packet(Packet(PacketType.EVENT, self.namespace, [event, *args], ack_id))
        if not sock.wait(done, timeout):
            if self._acks is not None:
                self._acks.pop(ack_id, None)
            raise TimeoutError(f"no acknowledgement of {event!r} within {timeout} s")
        if box[0][:1] == (_GONE,):
            raise ConnectionError("the client disconnected before acknowledging")
        ack = box[0]
        return None if not ack else ack[0] if len(ack) == 1 else ack

    def join(self, room: str) -> None:
        self.server.manager.join(self, room)

    def leave(self, room: str) -> None:
        if room != self.sid:
            self.server.manager.leave(self, room)

    def to(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Everyone in ``room`` but this client (as ``socket.to(room)`` in the Node server)."""
        return BroadcastOperator(self.server, self.namespace, skip=frozenset([self.sid])).to(room)

    in_ = to

    @property
    def volatile(self) -> _Volatile:
        """``self.volatile.emit(...)``: dropped, not queued, if this client's transport is not
        ready to write it now (see ``Server.emit``'s ``volatile``)."""
        return _Volatile(self)

    @property
    def broadcast(self) -> BroadcastOperator:
        """Everyone in this namespace but this client."""
        return BroadcastOperator(self.server, self.namespace, skip=frozenset([self.sid]))

    def disconnect(self) -> None:
        """Disconnect this client from this namespace (it gets a DISCONNECT packet)."""
        if self.state is DISCONNECTED:
            return
        self.send_packet(Packet(PacketType.DISCONNECT, self.namespace))
        self.client.close_namespace(self, "server namespace disconnect")

    # -- packets, held packets and acknowledgements (for the Socket.IO layer and managers) -----

    def send_packet(self, packet: Packet) -> None:
        """Send a Socket.IO packet to this client now, or hold it while CONNECTING."""
        self.deliver(to_engine_packets(packet))

    def deliver(self, packets: list[engineio.Packet]) -> None:
        """Send already encoded packets (a broadcast's, encoded once for all) as ``send_packet``."""
        if self.state is CONNECTED:
            self.client.sock.send_packets(packets)
        elif self.state is CONNECTING:
            if self._held is None:
                self._held = []
            self._held.append(packets)

    def has_held(self) -> bool:
        """Whether something was emitted to this client before its CONNECT reply (by
        ``on_connect``): it is held until the reply is sent."""
        return bool(self._held)

    def drop_held(self, duplicate: Callable[[list[engineio.Packet]], bool]) -> None:
        """Forget the held packets for which ``duplicate(packets)`` is true (a recovered
        socket's: those that the replay of what it missed already carries)."""
        if self._held:
            self._held = [packets for packets in self._held if not duplicate(packets)]

    def release_held(self) -> None:
        """Send what was held for this client, whatever its state now: called once its CONNECT
        reply is out (also when on_connect disconnected it: the client then learns both)."""
        held, self._held = self._held or [], None
        for packets in held:
            self.client.sock.send_packets(packets)

    def take_ack(self, ack_id: int) -> Callable[..., Any] | None:
        """The callback waiting for acknowledgement ``ack_id``, forgotten; None if unknown."""
        acks = self._acks
        return acks.pop(ack_id, None) if acks else None

    def fail_acks(self) -> None:
        """The client is gone: every ``call()`` waiting on it raises ConnectionError now; the
        callbacks of plain ``emit``s are forgotten."""
        acks, self._acks = self._acks or {}, None
        for callback in acks.values():
            if getattr(callback, "immediate", False):
                callback(_GONE)

    def _register_ack(self, callback: Callable[..., Any]) -> int:
        ack_id = self._next_ack
        self._next_ack += 1
        if self._acks is None:
            self._acks = {}
        self._acks[ack_id] = callback
        return ack_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.namespace} sid={self.sid} {self.state}>"


class NamespaceSpec:
    """A registration: the class made for each connection, and the function handlers."""

    __slots__ = ("cls", "handlers")

    def __init__(self, cls: type[Namespace]) -> None:
        self.cls = cls
        self.handlers: dict[str, Callable[..., Any]] = {}


__all__ = ["BroadcastOperator", "ClientAPI", "ConnectionRefused", "Namespace", "NamespaceSpec",
           "ServerAPI", "ack_arguments"]
