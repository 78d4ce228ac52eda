"""The Socket.IO v5 server: registration of namespaces and handlers, and the public API.

Per-connection work (decoding, dispatch of connects, events, acks and disconnects) is
:mod:`.client`'s; what a namespace is and holds is :mod:`.namespace`'s; who is in which room
is the manager's. This module finds the handlers and runs them.

Extension points, for integrations such as :mod:`wsgi_sio.django` (override in a subclass):
``run_handler`` (around every unit of handler work), ``socket_connecting`` (before a
socket's connect handler), ``socket_connected`` (a socket has just connected) and ``socket_disconnected`` (a socket has left, before its disconnect
handler); with connection state recovery, ``recovery_extras`` (what of a socket's
``extras`` its kept session carries) and ``may_recover`` (a last check before a session is
restored). Per-socket state of an integration goes in ``Namespace.extras``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from re import Pattern
from typing import Any

from ..managers.in_process import InProcessManager, Manager
from ..managers.recovery import RecoveryOptions
from ..protocol.socketio import Packet, PacketType
from ..runtime import Runtime
from .client import SocketIOEngine
from .namespace import BroadcastOperator, Namespace, NamespaceSpec

NamespaceMatcher = str | Pattern[str] | Callable[[str, Any], bool]


class Server:
    """A Socket.IO server. Mount it with :class:`~wsgi_sio.middleware.SocketIOMiddleware`.

    ``cors_allowed_origins``: None (same origin only); a list of trusted origins, or a callable
    ``(origin, environ) -> bool``, whose pages may use the user's cookies; ``"*"``: any origin,
    but a foreign one without the user's cookies (see ``engine.http.OriginPolicy``).
    ``ping_interval``/``ping_timeout``/``connect_timeout`` in seconds. ``max_http_buffer_size``
    bounds a message and a polling body. ``cookie``: name of an Engine.IO sid cookie, or None.
    ``manager``: who keeps rooms; the in-process manager unless you pass one (e.g. Redis).
    ``allow_legacy_09``: serve socket.io 0.9.x clients too (``enable_legacy_09``).
    ``allow_eio3``: serve socket.io-client 1.x/2.x (Engine.IO v3) too, on the same path
    (an option of the engine, passed on with the others; see ``engine.server``).
    ``connection_state_recovery``: off when None; a dict of
    :class:`~wsgi_sio.managers.recovery.RecoveryOptions` fields (e.g.
    ``{"max_disconnection_duration": 120, "skip_middlewares": True}``, seconds) turns it on:
    a client whose connection was lost gets its sid, rooms, ``session`` and the events it
    missed back if it returns in time (socket.io-client >= 4.6 does this by itself).
    """

    def __init__(self, *, path: str = "/socket.io/",
                 cors_allowed_origins: str | Iterable[str] | Callable[[str, dict[str, Any]], bool] | None = None,
                 ping_interval: float = 25, ping_timeout: float = 20,
                 max_http_buffer_size: int = 1_000_000, connect_timeout: float = 45,
                 cookie: str | None = None, manager: Manager | None = None,
                 async_mode: str | None = None, max_attachments: int = 10,
                 connection_state_recovery: RecoveryOptions | dict[str, Any] | bool | None = None,
                 allow_legacy_09: bool = False,
                 **engine_options: Any) -> None:
        self.engine = SocketIOEngine(self, path=path, cors_allowed_origins=cors_allowed_origins,
                                     ping_interval=ping_interval, ping_timeout=ping_timeout,
                                     max_http_buffer_size=max_http_buffer_size, cookie=cookie,
                                     async_mode=async_mode, **engine_options)
        self.connect_timeout = connect_timeout
        self.max_attachments = max_attachments
        self.manager: Manager = manager or InProcessManager()
        self._static: dict[str, NamespaceSpec] = {"/": NamespaceSpec(Namespace)}
        self._dynamic: list[tuple[NamespaceMatcher, NamespaceSpec]] = []
        self._connect_takes_auth: dict[Callable[..., Any], bool] = {}
        self._error_handlers: dict[str, Callable[..., Any]] = {}
        self._default_error_handler: Callable[..., Any] | None = None
        #: connection state recovery's options; None when off
        self.recovery = RecoveryOptions.from_config(connection_state_recovery)
        if self.recovery is not None:
            enable = getattr(self.manager, "enable_recovery", None)
            if enable is None:
                raise TypeError(f"{type(self.manager).__name__} cannot recover connection state "
                                "(it has no enable_recovery: see wsgi_sio.managers.recovery)")
            enable(self.recovery)
        self.manager.attach(self)
        #: serves socket.io 0.9 clients under ``<path>1/`` when on (``enable_legacy_09``)
        self.legacy: Any = None
        if allow_legacy_09:
            self.enable_legacy_09()

    def enable_legacy_09(self, **options: Any) -> None:
        """Serve socket.io 0.9.x clients (gevent-socketio's protocol) too, on the same path
        and with the same namespaces (see :mod:`wsgi_sio.legacy09`); ``options`` are
        ``LegacyServer``'s (heartbeat and close timeouts). Does nothing when already on."""
        if self.legacy is None:
            from ..legacy09.server import LegacyServer  # only servers that want it load it

            self.legacy = LegacyServer(self, **options)

    # -- registration -------------------------------------------------------------------------

    def namespace(self, name: NamespaceMatcher = "/") -> Callable[[type[Namespace]], type[Namespace]]:
        """Class decorator: ``@sio.namespace("/chat")``.

        ``name`` is a path, a compiled regular expression matched against the whole path, or a
        callable ``(path, auth) -> bool``; the last two make dynamic namespaces.
        """
        def register(cls: type[Namespace]) -> type[Namespace]:
            self.register_namespace(cls, name)
            return cls
        return register

    def register_namespace(self, cls: type[Namespace], name: NamespaceMatcher = "/") -> None:
        if not (isinstance(cls, type) and issubclass(cls, Namespace)):
            raise TypeError("a namespace must be a subclass of wsgi_sio.Namespace")
        if isinstance(name, str):
            if not name.startswith("/"):
                raise ValueError("a namespace path starts with '/'")
            handlers = self._static[name].handlers if name in self._static else {}
            spec = NamespaceSpec(cls)
            spec.handlers = handlers
            self._static[name] = spec
        else:
            self._dynamic.append((name, NamespaceSpec(cls)))

    def on(self, event: str, handler: Callable[..., Any] | None = None, namespace: str = "/") -> Any:
        """Register a function handler ``handler(socket, *args)``; usable as a decorator.

        ``"connect"`` handlers get ``(socket, auth)``, ``"disconnect"`` ones ``(socket, reason)``,
        and ``"*"`` is the catch-all, called as ``(socket, event, *args)``.
        """
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            spec = self._static.get(namespace)
            if spec is None:
                spec = self._static[namespace] = NamespaceSpec(Namespace)
            spec.handlers[event] = fn
            return fn
        return register(handler) if handler is not None else register

    def on_error(self, namespace: str = "/") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator, as Flask-SocketIO's: ``handler(socket, event, exc)`` runs when an event
        handler of ``namespace`` raises; what it returns answers the client's ack (as an event
        handler's return value does). A ``Namespace`` class may define ``on_error(event, exc)``
        instead, which comes first."""
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._error_handlers[namespace] = fn
            return fn
        return register

    def on_error_default(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator, as Flask-SocketIO's: the error handler of every namespace that has none
        of its own (see ``on_error``)."""
        self._default_error_handler = handler
        return handler

    def error_handler_for(self, socket: Namespace) -> Callable[[Any, BaseException], Any] | None:
        """What handles an exception raised by an event handler of ``socket``, called as
        ``(event, exc)``: its class's ``on_error``, ``on_error(namespace)``'s, or
        ``on_error_default``'s; None when nothing does (it is then logged, the ack unanswered)."""
        method = getattr(socket, "on_error", None)
        if method is not None and callable(method):
            return method  # type: ignore[no-any-return]
        fn = self._error_handlers.get(socket.namespace, self._default_error_handler)
        if fn is None:
            return None
        return lambda event, exc: fn(socket, event, exc)

    def event(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``@sio.event`` registers a function under its own name on ``/``."""
        return self.on(handler.__name__, handler)

    def namespace_paths(self) -> list[str]:
        """The namespaces registered by path so far (not the dynamic ones): a manager that
        spans processes subscribes to their channels before any client connects."""
        return list(self._static)

    def find_namespace(self, name: str, auth: Any) -> NamespaceSpec | None:
        """The registration that serves a CONNECT to ``name`` with ``auth``, or None."""
        spec = self._static.get(name)
        if spec is not None:
            return spec
        for matcher, spec in self._dynamic:
            if isinstance(matcher, str):
                continue
            if hasattr(matcher, "fullmatch"):
                if matcher.fullmatch(name):  # type: ignore[union-attr]
                    return spec
            elif matcher(name, auth):  # type: ignore[operator]
                return spec
        return None

    # -- emitting from anywhere ---------------------------------------------------------------

    @property
    def runtime(self) -> Runtime:
        return self.engine.runtime

    def emit(self, event: str, *args: Any, to: str | Iterable[str] | None = None,
             room: str | Iterable[str] | None = None, skip_sid: str | Iterable[str] | None = None,
             namespace: str = "/", callback: Callable[..., Any] | None = None,
             volatile: bool = False) -> None:
        """Emit to a sid, a room or rooms (``to``/``room``), or the whole namespace.

        ``skip_sid`` excludes sids or rooms. ``callback`` needs ``to`` to name one client.
        ``volatile``: as the reference server's ``volatile`` flag, the event is dropped for
        every client whose transport is not ready to write it now (a long-poll with no GET
        waiting, a WebSocket with unsent bytes) rather than queued; for data that the next
        update makes stale anyway (positions, typing indicators, tickers).
        """
        target = to if to is not None else room
        if callback is not None:
            socket = self._single(target, namespace)
            socket.emit(event, *args, callback=callback)
            return
        packet = Packet(PacketType.EVENT, namespace, [event, *args])
        if volatile:
            self.manager.emit(packet, target, skip_sid, volatile=True)
        else:
            self.manager.emit(packet, target, skip_sid)

    def send(self, data: Any, **kw: Any) -> None:
        self.emit("message", data, **kw)

    def call(self, event: str, *args: Any, to: str, namespace: str = "/", timeout: float = 60) -> Any:
        """Emit to one client and wait for its acknowledgement (see ``Namespace.call``)."""
        return self._single(to, namespace).call(event, *args, timeout=timeout)

    def to(self, room: str | Iterable[str], namespace: str = "/") -> BroadcastOperator:
        return BroadcastOperator(self, namespace).to(room)

    def enter_room(self, sid: str, room: str, namespace: str = "/") -> None:
        socket = self._local(sid, namespace)
        if socket is None:
            self.manager.join_remote(namespace, sid, room)  # KeyError with one process
        else:
            socket.join(room)

    def leave_room(self, sid: str, room: str, namespace: str = "/") -> None:
        socket = self._local(sid, namespace)
        if socket is None:
            self.manager.leave_remote(namespace, sid, room)  # KeyError with one process
        else:
            socket.leave(room)

    def close_room(self, room: str, namespace: str = "/") -> None:
        self.manager.close_room(namespace, room)

    def rooms(self, sid: str, namespace: str = "/") -> frozenset[str]:
        return self._single(sid, namespace).rooms

    def get_socket(self, sid: str, namespace: str = "/") -> Namespace | None:
        socket: Namespace | None = self.manager.get(namespace, sid)
        return socket

    def disconnect(self, sid: str, namespace: str = "/") -> None:
        socket = self.manager.get(namespace, sid)
        if socket is not None:
            socket.disconnect()
        else:
            self.manager.disconnect_remote(namespace, sid)

    def shutdown(self) -> None:
        """Close every connection (the clients get a close packet; over WebSocket a Close
        frame 1001) and refuse new handshakes with 503 from now on."""
        self.engine.shutdown()
        if self.legacy is not None:
            self.legacy.close_all()

    def _local(self, sid: Any, namespace: str) -> Namespace | None:
        if not isinstance(sid, str):
            raise ValueError("this needs `to` to be one sid")  # noqa: TRY004 - the API's error since 0.1
        socket: Namespace | None = self.manager.get(namespace, sid)
        return socket

    def _single(self, sid: Any, namespace: str) -> Namespace:
        socket = self._local(sid, namespace)
        if socket is None:
            raise KeyError(f"no client {sid!r} in namespace {namespace!r}")
        return socket

    # -- WSGI -----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The server alone as a WSGI app (everything else gets 404)."""
        path = environ.get("PATH_INFO", "")
        if self.engine.handles(path):
            legacy = self.legacy
            if legacy is not None and legacy.handles(path):
                return legacy.handle_request(environ, start_response)  # type: ignore[no-any-return]
            return self.engine.handle_request(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]

    # -- extension points -----------------------------------------------------------------------

    def run_handler(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Every unit of handler work of a connection (connect, event, ack callback,
        disconnect), wherever it runs, is called through here. Override to set up and tear down per-call state:
        the Django integration closes database connections around it, as Django does around a
        request."""
        return fn(*args)

    def socket_connecting(self, socket: Namespace) -> None:
        """Called for a new socket just before its connect handler, under ``run_handler``:
        what it joins or emits is held until the CONNECT reply (and dropped if the connection
        is refused). Does nothing; override it (call ``super()``): the Django integration
        joins a logged-in user's socket to the user's room here."""

    def socket_connected(self, socket: Namespace) -> None:
        """Called once ``socket`` is connected (its CONNECT reply is out), in the connection's
        worker under ``run_handler``; not for refused sockets. Does nothing; override it (call
        ``super()``) to follow connections: the Django integration tracks logins here."""

    def socket_disconnected(self, socket: Namespace, reason: str) -> None:
        """Called once a connected (or connecting) ``socket`` has left its namespace (it is in
        no room any more), in the connection's worker under ``run_handler``, just before its
        disconnect handler. Does nothing; override it (call ``super()``) to forget what
        ``socket_connected`` remembered."""

    def recovery_extras(self, socket: Namespace) -> dict[str, Any]:
        """With connection state recovery: what of ``socket.extras`` its kept session carries
        over to the socket that recovers it (small plain values: a manager may store them in
        Redis). Nothing by default; the Django integration keeps the login it checks again."""
        return {}

    def may_recover(self, socket: Namespace) -> bool:
        """Last check before ``socket`` (its sid, rooms, ``session`` and the ``extras`` of
        ``recovery_extras`` restored; ``environ`` the new handshake's) takes over a kept
        session; runs under ``run_handler`` and may block. False: the session is dropped and
        the client gets an ordinary new connection. True by default; the Django integration
        refuses when the login the socket had is no longer the handshake's."""
        return True

    # -- dispatch (called by the connection's Client) ---------------------------------------------

    def dispatch_connect(self, socket: Namespace, spec: NamespaceSpec, auth: Any) -> Any:
        """Run the connect handler of ``socket`` (a function one if registered, else its
        ``on_connect``); what it returns (False refuses) or raises is the Client's to judge."""
        self.socket_connecting(socket)
        fn = spec.handlers.get("connect")
        if fn is not None:
            return fn(socket, auth) if self._takes_auth(fn, 2) else fn(socket)
        method: Any = socket.on_connect  # a subclass's may take no auth
        return method(auth) if self._takes_auth(method.__func__, 2) else method()

    def _takes_auth(self, fn: Callable[..., Any], positional: int) -> bool:
        known = self._connect_takes_auth.get(fn)
        if known is None:
            try:
                params = inspect.signature(fn).parameters.values()
                count = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
                known = count >= positional or any(p.kind is p.VAR_POSITIONAL for p in params)
            except (TypeError, ValueError):
                known = True
            self._connect_takes_auth[fn] = known
        return known

    def handler_for(self, socket: Namespace, event: Any) -> Callable[..., Any] | None:
        """What handles ``event`` for ``socket``: its ``on_<event>``, a function handler, the
        ``"*"`` function handler, or its ``catch_all``; None if nothing does."""
        name = str(event)
        method = getattr(socket, "on_" + name, None)
        if method is not None and name not in ("connect", "disconnect", "error") and callable(method):
            return method
        spec = self._static.get(socket.namespace)
        if spec is not None:
            fn = spec.handlers.get(name)
            if fn is not None and name not in ("connect", "disconnect"):
                return lambda *args: fn(socket, *args)
            catch = spec.handlers.get("*")
            if catch is not None:
                return lambda *args: catch(socket, event, *args)
        if type(socket).catch_all is not Namespace.catch_all:
            return lambda *args: socket.catch_all(event, *args)
        return None

    def dispatch_disconnect(self, socket: Namespace, reason: str) -> None:
        """``socket`` has left: ``socket_disconnected``, then its disconnect handler."""
        self.socket_disconnected(socket, reason)
        spec = self._static.get(socket.namespace)
        fn = spec.handlers.get("disconnect") if spec is not None else None
        if fn is not None:
            fn(socket, reason)
        else:
            socket.on_disconnect(reason)


__all__ = ["NamespaceMatcher", "Server"]
