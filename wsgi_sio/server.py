"""The Socket.IO v5 server: namespaces, events, acknowledgements and rooms over Engine.IO.

Reading and dispatching are split on purpose. Packets are decoded in the greenlet that read
them; acknowledgements are resolved there at once, so a handler blocked in ``call()`` gets
its answer. Everything else (connects, events, disconnects) runs in order through
``EngineSocket.run_in_order`` (in the WebSocket reader, or a polling connection's worker):
one client's events are handled in the order they were sent, and a slow handler holds up no
other client.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Callable, Iterable, Pattern

from .engine.server import EngineServer, generate_sid
from .engine.socket import EngineSocket
from .manager import InProcessManager
from .namespaces import (CONNECTED, CONNECTING, DISCONNECTED, ConnectionRefused, Namespace,
                         ack_arguments, to_engine_packets)
from .protocol import session as states
from .protocol.errors import SocketIOError
from .protocol.socketio import Decoder, Packet, PacketType
from .runtime import Runtime

log = logging.getLogger("wsgi_sio")

NamespaceMatcher = str | Pattern[str] | Callable[[str, Any], bool]

#: seconds between a CONNECT reply and what on_connect emitted, over WebSocket (see
#: ``EngineSocket.write_alone``): enough for a client to read the reply on its own
CONNECT_PAUSE = 0.005


class Client:
    """The Socket.IO side of one Engine.IO connection: its decoder and its namespaces."""

    __slots__ = ("server", "sock", "decoder", "sockets")

    def __init__(self, server: Server, sock: EngineSocket, max_attachments: int) -> None:
        self.server = server
        self.sock = sock
        self.decoder = Decoder(max_attachments=max_attachments)
        #: namespace -> its socket, or CONNECTING while on_connect decides
        self.sockets: dict[str, Namespace | str] = {}

    def close_namespace(self, socket: Namespace, reason: str) -> None:
        if socket.state == DISCONNECTED:
            return
        socket.state = DISCONNECTED
        if self.sockets.get(socket.namespace) is socket:
            del self.sockets[socket.namespace]
        self.server.manager.remove(socket)
        socket._fail_acks()
        server = self.server
        self.sock.run_in_order(server.run_handler, server._call_disconnect, socket, reason)


class _Engine(EngineServer):
    """The Engine.IO server under a Socket.IO server, reporting to it."""

    def __init__(self, sio: Server, **kw: Any) -> None:
        super().__init__(**kw)
        self.sio = sio

    def handle_connect(self, sock: EngineSocket) -> None:
        self.sio._engine_connect(sock)

    def handle_message(self, sock: EngineSocket, data: str | bytes) -> None:
        self.sio._engine_message(sock, data)

    def handle_close(self, sock: EngineSocket) -> None:
        client: Client | None = sock.context
        if client is not None:
            for socket in client.sockets.values():
                if isinstance(socket, Namespace):
                    socket._fail_acks()  # a call() waiting on this client raises now

    def handle_disconnect(self, sock: EngineSocket, reason: str) -> None:
        self.sio._engine_disconnect(sock, reason)


class _NamespaceSpec:
    __slots__ = ("cls", "handlers")

    def __init__(self, cls: type[Namespace]) -> None:
        self.cls = cls
        self.handlers: dict[str, Callable[..., Any]] = {}


class Server:
    """A Socket.IO server. Mount it with :class:`~wsgi_sio.middleware.SocketIOMiddleware`.

    ``cors_allowed_origins``: None (same origin only); a list of trusted origins, or a callable
    ``(origin, environ) -> bool``, whose pages may use the user's cookies; ``"*"``: any origin,
    but a foreign one without the user's cookies (see ``engine.http.OriginPolicy``).
    ``ping_interval``/``ping_timeout``/``connect_timeout`` in seconds. ``max_http_buffer_size``
    bounds a message and a polling body. ``cookie``: name of an Engine.IO sid cookie, or None.
    ``manager``: who keeps rooms; the in-process manager unless you pass one (e.g. Redis).
    """

    def __init__(self, *, path: str = "/socket.io/",
                 cors_allowed_origins: str | Iterable[str] | Callable[[str, dict[str, Any]], bool] | None = None,
                 ping_interval: float = 25, ping_timeout: float = 20,
                 max_http_buffer_size: int = 1_000_000, connect_timeout: float = 45,
                 cookie: str | None = None, manager: InProcessManager | None = None,
                 async_mode: str | None = None, max_attachments: int = 10,
                 **engine_options: Any) -> None:
        self.engine = _Engine(self, path=path, cors_allowed_origins=cors_allowed_origins,
                              ping_interval=ping_interval, ping_timeout=ping_timeout,
                              max_http_buffer_size=max_http_buffer_size, cookie=cookie,
                              async_mode=async_mode, **engine_options)
        self.connect_timeout = connect_timeout
        self.max_attachments = max_attachments
        self.manager = manager or InProcessManager()
        self.manager.attach(self)
        self._static: dict[str, _NamespaceSpec] = {"/": _NamespaceSpec(Namespace)}
        self._dynamic: list[tuple[NamespaceMatcher, _NamespaceSpec]] = []
        self._connect_takes_auth: dict[Callable[..., Any], bool] = {}

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
            spec = _NamespaceSpec(cls)
            spec.handlers = handlers
            self._static[name] = spec
        else:
            self._dynamic.append((name, _NamespaceSpec(cls)))

    def on(self, event: str, handler: Callable[..., Any] | None = None, namespace: str = "/") -> Any:
        """Register a function handler ``handler(socket, *args)``; usable as a decorator.

        ``"connect"`` handlers get ``(socket, auth)``, ``"disconnect"`` ones ``(socket, reason)``,
        and ``"*"`` is the catch-all, called as ``(socket, event, *args)``.
        """
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            spec = self._static.get(namespace)
            if spec is None:
                spec = self._static[namespace] = _NamespaceSpec(Namespace)
            spec.handlers[event] = fn
            return fn
        return register(handler) if handler is not None else register

    def event(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``@sio.event`` registers a function under its own name on ``/``."""
        return self.on(handler.__name__, handler)

    def _find_namespace(self, name: str, auth: Any) -> _NamespaceSpec | None:
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

    def to(self, room: str | Iterable[str], namespace: str = "/") -> Any:
        from .namespaces import BroadcastOperator

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
        return self.manager.get(namespace, sid)

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

    def _local(self, sid: Any, namespace: str) -> Namespace | None:
        if not isinstance(sid, str):
            raise ValueError("this needs `to` to be one sid")
        return self.manager.get(namespace, sid)

    def _single(self, sid: Any, namespace: str) -> Namespace:
        socket = self._local(sid, namespace)
        if socket is None:
            raise KeyError(f"no client {sid!r} in namespace {namespace!r}")
        return socket

    # -- WSGI -----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The server alone as a WSGI app (everything else gets 404)."""
        if self.engine.handles(environ.get("PATH_INFO", "")):
            return self.engine.handle_request(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]

    def run_handler(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Every unit of handler work of a connection (connect, event, ack callback,
        disconnect), wherever it runs, is called through here. Override to set up and tear down per-call state:
        the Django integration closes database connections around it, as Django does around a
        request."""
        return fn(*args)

    # -- Engine.IO events (reading greenlet) --------------------------------------------------

    def _engine_connect(self, sock: EngineSocket) -> None:
        client = Client(self, sock, self.max_attachments)
        sock.context = client
        # Spec: a client that joins no namespace within connect_timeout is dropped.
        sock.set_alarm(self.runtime.monotonic() + self.connect_timeout, self._connect_timed_out,
                       client)

    def _connect_timed_out(self, client: Client) -> None:
        if not client.sockets and not client.sock.closed:
            log.info("Engine.IO session %s joined no namespace in time", client.sock.sid)
            client.sock.close(states.FORCED_CLOSE)

    def _engine_message(self, sock: EngineSocket, data: str | bytes) -> None:
        client: Client = sock.context
        try:
            packet = client.decoder.feed(data)
        except SocketIOError as exc:
            log.info("closing Engine.IO session %s: %s", sock.sid, exc)
            sock.close(states.PARSE_ERROR)
            return
        if packet is None:
            return
        ptype = packet.type
        nsp = packet.namespace
        current = client.sockets.get(nsp)
        if ptype is PacketType.CONNECT:
            if current is not None:
                return self._protocol_violation(sock, f"second CONNECT for {nsp}")
            client.sockets[nsp] = CONNECTING
            sock.run_in_order(self.run_handler, self._connect, client, packet)
        elif current is None:
            self._protocol_violation(sock, f"{ptype.name} for unconnected namespace {nsp}")
        elif ptype is PacketType.EVENT or ptype is PacketType.BINARY_EVENT:
            sock.run_in_order(self.run_handler, self._event, client, packet)
        elif ptype is PacketType.ACK or ptype is PacketType.BINARY_ACK:
            if isinstance(current, Namespace):
                self._ack(current, packet)
        elif ptype is PacketType.DISCONNECT:
            sock.run_in_order(self.run_handler, self._client_disconnect, client, nsp)
        else:  # CONNECT_ERROR comes only from servers
            self._protocol_violation(sock, "CONNECT_ERROR from a client")

    def _protocol_violation(self, sock: EngineSocket, what: str) -> None:
        log.info("closing Engine.IO session %s: %s", sock.sid, what)
        sock.close(states.PARSE_ERROR)

    def _engine_disconnect(self, sock: EngineSocket, reason: str) -> None:
        client: Client | None = sock.context
        if client is None:
            return
        client.sock.cancel_alarm()
        for socket in list(client.sockets.values()):
            if isinstance(socket, Namespace):
                client.close_namespace(socket, reason)
        client.sockets.clear()

    # -- ordered work (the connection's worker) -------------------------------------------------

    def _connect(self, client: Client, packet: Packet) -> None:
        nsp = packet.namespace
        sock = client.sock
        if sock.closed:
            return
        auth = packet.data
        spec = self._find_namespace(nsp, auth)
        if spec is None:
            client.sockets.pop(nsp, None)
            self._reply(sock, Packet(PacketType.CONNECT_ERROR, nsp, {"message": "Invalid namespace"}))
            return
        socket = spec.cls(self, client, nsp, generate_sid(), auth)
        self.manager.add(socket)
        try:
            accepted = self._run_connect_handler(socket, spec, auth)
        except ConnectionRefused as exc:
            refusal = exc.payload()
        except Exception:
            log.exception("connect handler of %s raised; refusing the connection", nsp)
            refusal = {"message": "Internal server error"}
        else:
            refusal = None if accepted is not False else {"message": "Connection rejected by server"}
        if refusal is not None or sock.closed:
            socket.state = DISCONNECTED
            self.manager.remove(socket)
            client.sockets.pop(nsp, None)
            if refusal is not None:
                self._reply(sock, Packet(PacketType.CONNECT_ERROR, nsp, refusal))
            return
        if socket.state == DISCONNECTED:
            # on_connect called self.disconnect(): as the Node server does, the client learns
            # it was connected, then that it no longer is (its DISCONNECT is among the held
            # packets); the socket never becomes CONNECTED, so nothing reaches it after.
            client.sockets.pop(nsp, None)
            self._reply(sock, Packet(PacketType.CONNECT, nsp, {"sid": socket.sid}))
            sock.write_alone(CONNECT_PAUSE)
            held, socket._held = socket._held or [], None
            for packets in held:
                sock.send_packets(packets)
            return
        sock.cancel_alarm()
        client.sockets[nsp] = socket
        self._reply(sock, Packet(PacketType.CONNECT, nsp, {"sid": socket.sid}))
        # The acknowledgement leaves alone, before what on_connect emitted: coalescing both in
        # one write is legal, but clients that read one frame at a time and wait for the
        # CONNECT (the official test-suite, many hand-written clients) would miss the rest.
        sock.write_alone(CONNECT_PAUSE if socket.has_held() else 0.0)
        socket.state = CONNECTED
        socket._release_held()

    def _run_connect_handler(self, socket: Namespace, spec: _NamespaceSpec, auth: Any) -> Any:
        fn = spec.handlers.get("connect")
        if fn is not None:
            return fn(socket, auth) if self._takes_auth(fn, 2) else fn(socket)
        method = socket.on_connect
        return method(auth) if self._takes_auth(method.__func__, 2) else method()  # type: ignore[attr-defined]

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

    def _reply(self, sock: EngineSocket, packet: Packet) -> None:
        sock.send_packets(to_engine_packets(packet))

    def _event(self, client: Client, packet: Packet) -> None:
        socket = client.sockets.get(packet.namespace)
        if not isinstance(socket, Namespace) or socket.state != CONNECTED:
            return  # refused or gone meanwhile
        event, *args = packet.data
        handler = self._handler_for(socket, event)
        if handler is None:
            log.debug("no handler for event %r on %s", event, packet.namespace)
            return
        try:
            result = handler(*args)
        except Exception:
            log.exception("handler for event %r on %s raised", event, packet.namespace)
            return
        if packet.id is not None and socket.state == CONNECTED:
            socket._send(Packet(PacketType.ACK, packet.namespace, ack_arguments(result), packet.id))

    def _handler_for(self, socket: Namespace, event: Any) -> Callable[..., Any] | None:
        name = str(event)
        method = getattr(socket, "on_" + name, None)
        if method is not None and name not in ("connect", "disconnect") and callable(method):
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

    def _ack(self, socket: Namespace, packet: Packet) -> None:
        acks = socket._acks
        callback = acks.pop(packet.id, None) if acks else None  # type: ignore[arg-type]
        if callback is None:
            log.debug("unknown ack id %s on %s", packet.id, packet.namespace)
            return
        args = packet.data
        if getattr(callback, "immediate", False):
            callback(*args)
        else:
            socket.client.sock.run_in_order(self.run_handler, callback, *args)

    def _client_disconnect(self, client: Client, nsp: str) -> None:
        socket = client.sockets.get(nsp)
        if isinstance(socket, Namespace):
            client.close_namespace(socket, "client namespace disconnect")

    def _call_disconnect(self, socket: Namespace, reason: str) -> None:
        spec = self._static.get(socket.namespace)
        fn = spec.handlers.get("disconnect") if spec is not None else None
        if fn is not None:
            fn(socket, reason)
        else:
            socket.on_disconnect(reason)


__all__ = ["Server", "ConnectionRefused"]
