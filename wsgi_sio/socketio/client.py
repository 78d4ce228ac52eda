"""One Engine.IO connection seen from Socket.IO: decoding, and dispatch of its packets.

Reading and dispatching are split on purpose. Packets are decoded in the greenlet that read
them; acknowledgements are resolved there at once, so a handler blocked in ``call()`` gets
its answer. Everything else (connects, events, disconnects) runs in order through
``EngineSocket.run_in_order`` (in the WebSocket reader, or a polling connection's worker):
one client's events are handled in the order they were sent, and a slow handler holds up no
other client.

The server is known here as the :class:`Host` protocol: it finds namespaces and handlers, runs
them (``run_handler``), and is told when a socket connects and disconnects.

Connection state recovery (see :mod:`wsgi_sio.managers.recovery`) happens here too: a
namespace closed for a recoverable reason leaves its session with the manager, and a CONNECT
whose auth carries ``pid`` and ``offset`` strings may take it back (:meth:`Client._recover`).

A client over Engine.IO v3 (socket.io-client 1.x/2.x) speaks Socket.IO protocol v4, which
differs from v5 only around connections (PROTOCOL-NOTES-WAVE2 §1; socket.io's ``client.ts``,
``socket.ts``, ``namespace.ts``, search ``protocol === 3``): the server connects it to ``/``
unasked; its CONNECT names ``/nsp?query`` (the query is the auth); the reply carries no data;
its socket id is the engine sid (``/nsp#<engine sid>`` off ``/``); a refusal's data is a
string (or the refusal's data); it cannot recover a session.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import parse_qsl

from ..engine.server import EngineServer
from ..engine.socket import EngineSocket
from ..managers.in_process import (
    CONNECTED,
    CONNECTING,
    DISCONNECTED,
    SocketState,
    to_engine_packets,
)
from ..managers.recovery import RECOVERABLE_REASONS, RecoveryOptions, SessionRecord, new_pid
from ..protocol import engineio
from ..protocol import session as states
from ..protocol.errors import SocketIOError
from ..protocol.routing import new_token
from ..protocol.socketio import Decoder, Packet, PacketType
from .namespace import ConnectionRefused, Namespace, NamespaceSpec, ServerAPI, ack_arguments

log = logging.getLogger("wsgi_sio")

#: seconds between a CONNECT reply and what on_connect emitted, over WebSocket (see
#: ``EngineSocket.write_alone``): enough for a client to read the reply on its own
CONNECT_PAUSE = 0.005


class Host(ServerAPI, Protocol):
    """What a client needs of its Socket.IO server (``wsgi_sio.Server`` is one)."""

    connect_timeout: float
    max_attachments: int
    recovery: RecoveryOptions | None

    def run_handler(self, fn: Callable[..., Any], *args: Any) -> Any: ...
    def find_namespace(self, name: str, auth: Any) -> NamespaceSpec | None: ...
    def dispatch_connect(self, socket: Namespace, spec: NamespaceSpec, auth: Any) -> Any: ...
    def handler_for(self, socket: Namespace, event: Any) -> Callable[..., Any] | None: ...
    def error_handler_for(self, socket: Namespace) -> Callable[[Any, BaseException], Any] | None: ...
    def dispatch_disconnect(self, socket: Namespace, reason: str) -> None: ...
    def socket_connected(self, socket: Namespace) -> None: ...
    def recovery_extras(self, socket: Namespace) -> dict[str, Any]: ...
    def may_recover(self, socket: Namespace) -> bool: ...


class Client:
    """The Socket.IO side of one Engine.IO connection: its decoder and its namespaces."""

    __slots__ = ("decoder", "legacy", "server", "sock", "sockets")

    def __init__(self, server: Host, sock: EngineSocket) -> None:
        self.server = server
        self.sock = sock
        self.decoder = Decoder(max_attachments=server.max_attachments)
        #: namespace -> its socket, or CONNECTING while on_connect decides
        self.sockets: dict[str, Namespace | SocketState] = {}
        #: Socket.IO protocol v4 over Engine.IO v3 (socket.io-client 1.x/2.x)
        self.legacy = sock.protocol == 3

    # -- Engine.IO events (reading greenlet) --------------------------------------------------

    def opened(self) -> None:
        # Spec: a client that joins no namespace within connect_timeout is dropped.
        sock = self.sock
        sock.set_alarm(sock.runtime.monotonic() + self.server.connect_timeout,
                       Client.connect_timed_out, self)
        if self.legacy:
            # protocol v4: every client is on "/" without asking (socket.io index.ts
            # ``onconnection``: ``client.connect("/")``, auth {})
            self.sockets["/"] = CONNECTING
            sock.run_in_order(self.server.run_handler, self._connect, Packet(PacketType.CONNECT, "/", {}))

    def connect_timed_out(self) -> None:
        if not self.sockets and not self.sock.closed:
            log.info("Engine.IO session %s joined no namespace in time", self.sock.sid)
            self.sock.close(states.FORCED_CLOSE)

    def receive(self, data: str | bytes) -> None:
        """One Engine.IO message: decode it; resolve an ack at once, queue other work in order."""
        sock = self.sock
        try:
            packet = self.decoder.feed(data)
        except SocketIOError as exc:
            log.info("closing Engine.IO session %s: %s", sock.sid, exc)
            sock.close(states.PARSE_ERROR)
            return
        if packet is None:
            return
        ptype = packet.type
        nsp = packet.namespace
        current = self.sockets.get(nsp)
        server = self.server
        if ptype is PacketType.CONNECT:
            if self.legacy:
                packet = _legacy_connect(packet)
                nsp = packet.namespace
                current = self.sockets.get(nsp)
                if current is not None and nsp == "/":
                    return  # it is connected to "/" already (see ``opened``)
            if current is not None:
                return self._protocol_violation(f"second CONNECT for {nsp}")
            self.sockets[nsp] = CONNECTING
            sock.run_in_order(server.run_handler, self._connect, packet)
        elif current is None:
            self._protocol_violation(f"{ptype.name} for unconnected namespace {nsp}")
        elif ptype is PacketType.EVENT or ptype is PacketType.BINARY_EVENT:
            sock.run_in_order(server.run_handler, self._event, packet)
        elif ptype is PacketType.ACK or ptype is PacketType.BINARY_ACK:
            if isinstance(current, Namespace):
                self._ack(current, packet)
        elif ptype is PacketType.DISCONNECT:
            sock.run_in_order(server.run_handler, self._client_disconnect, nsp)
        else:  # CONNECT_ERROR comes only from servers
            self._protocol_violation("CONNECT_ERROR from a client")

    def closing(self) -> None:
        """The Engine.IO connection is closing: a call() waiting on this client raises now."""
        for socket in self.sockets.values():
            if isinstance(socket, Namespace):
                socket.fail_acks()

    def closed(self, reason: str) -> None:
        """The Engine.IO connection is gone: every namespace of it disconnects."""
        self.sock.cancel_alarm()
        for socket in list(self.sockets.values()):
            if isinstance(socket, Namespace):
                self.close_namespace(socket, reason)
        self.sockets.clear()

    def close_namespace(self, socket: Namespace, reason: str) -> None:
        """``socket`` leaves: out of the manager at once, its disconnect handlers in order."""
        if socket.state is DISCONNECTED:
            return
        was_connected = socket.state is CONNECTED
        socket.state = DISCONNECTED
        if self.sockets.get(socket.namespace) is socket:
            del self.sockets[socket.namespace]
        server = self.server
        if (was_connected and server.recovery is not None and reason in RECOVERABLE_REASONS
                and not self.legacy):
            self._persist(socket)
        server.manager.remove(socket)
        socket.fail_acks()
        self.sock.run_in_order(server.run_handler, server.dispatch_disconnect, socket, reason)

    def _persist(self, socket: Namespace) -> None:
        # Node keeps the session as the socket leaves (socket.ts ``_onclose``); its rooms
        # are read before the manager forgets them.
        server = self.server
        try:
            record = SessionRecord(socket.sid, socket.pid or new_pid(), socket.rooms,
                                   socket.session, server.recovery_extras(socket))
            server.manager.persist_session(socket.namespace, record)  # type: ignore[attr-defined]
        except Exception:
            log.exception("cannot keep the session of %s on %s for recovery", socket.sid,
                          socket.namespace)

    def _protocol_violation(self, what: str) -> None:
        log.info("closing Engine.IO session %s: %s", self.sock.sid, what)
        self.sock.close(states.PARSE_ERROR)

    # -- ordered work (the connection's worker) -------------------------------------------------

    def _connect(self, packet: Packet) -> None:
        nsp = packet.namespace
        sock = self.sock
        if sock.closed:
            return
        server = self.server
        auth = packet.data
        spec = server.find_namespace(nsp, auth)
        if spec is None:
            self.sockets.pop(nsp, None)
            self._reply(Packet(PacketType.CONNECT_ERROR, nsp,
                               "Invalid namespace" if self.legacy else {"message": "Invalid namespace"}))
            return
        recovery = None if self.legacy else server.recovery
        recovered = self._recover(spec, nsp, auth) if recovery is not None else None
        if recovered is not None:
            socket, missed = recovered
        else:
            if self.legacy:  # the id socket.io-client 2.x derives (manager.js ``generateId``)
                sid = sock.sid if nsp == "/" else f"{nsp}#{sock.sid}"
            else:
                sid = new_token()
            socket, missed = spec.cls(server, self, nsp, sid, auth), []
            if recovery is not None:
                socket.pid = new_pid()
            server.manager.add(socket)
        refusal: dict[str, Any] | None = None
        if not (socket.recovered and recovery is not None and recovery.skip_middlewares):
            try:
                accepted = server.dispatch_connect(socket, spec, auth)
            except ConnectionRefused as exc:
                refusal = exc.payload()
            except Exception:
                log.exception("connect handler of %s raised; refusing the connection", nsp)
                refusal = {"message": "Internal server error"}
            else:
                refusal = None if accepted is not False else {"message": "Connection rejected by server"}
        if refusal is not None or sock.closed:
            socket.state = DISCONNECTED
            server.manager.remove(socket)
            self.sockets.pop(nsp, None)
            if refusal is not None:
                self._reply(Packet(PacketType.CONNECT_ERROR, nsp,
                                   _legacy_refusal(refusal) if self.legacy else refusal))
            return
        if socket.state is DISCONNECTED:
            # on_connect called self.disconnect(): as the Node server does, the client learns
            # it was connected, then that it no longer is (its DISCONNECT is among the held
            # packets); the socket never becomes CONNECTED, so nothing reaches it after.
            self.sockets.pop(nsp, None)
            self._send_missed(missed)
            self._reply(Packet(PacketType.CONNECT, nsp, self._connect_reply(socket)))
            sock.write_alone(CONNECT_PAUSE)
            socket.release_held()
            return
        self._accept(socket, missed)

    def _accept(self, socket: Namespace, missed: list[Packet]) -> None:
        """The CONNECT reply (after what a recovered socket missed), then what was held."""
        sock = self.sock
        sock.cancel_alarm()
        self.sockets[socket.namespace] = socket
        self._send_missed(missed)
        self._reply(Packet(PacketType.CONNECT, socket.namespace, self._connect_reply(socket)))
        # The acknowledgement leaves alone, before what on_connect emitted: coalescing both in
        # one write is legal, but clients that read one frame at a time and wait for the
        # CONNECT (the official test-suite, many hand-written clients) would miss the rest.
        sock.write_alone(CONNECT_PAUSE if socket.has_held() else 0.0)
        socket.state = CONNECTED
        socket.release_held()
        self.server.socket_connected(socket)

    def _recover(self, spec: NamespaceSpec, nsp: str, auth: Any) -> tuple[Namespace, list[Packet]] | None:
        """The socket that takes over the kept session named in ``auth`` (added to the
        manager, CONNECTING), with the packets it missed; None: connect it as a new one.

        As the reference server: only when ``auth.pid`` and ``auth.offset`` are strings; the
        manager checks the pid (known, unexpired, single use) and the offset."""
        if not isinstance(auth, dict):
            return None
        pid, offset = auth.get("pid"), auth.get("offset")
        if not isinstance(pid, str) or not isinstance(offset, str):
            return None
        server = self.server
        manager = server.manager
        try:
            restored = manager.restore_session(nsp, pid, offset)  # type: ignore[attr-defined]
        except Exception:
            log.exception("restoring a session on %s failed; connecting as a new socket", nsp)
            return None
        if restored is None:
            return None
        record = restored.record
        if manager.get(nsp, record.sid) is not None:
            log.warning("a kept session of %s on %s is live: not restored", record.sid, nsp)
            return None
        socket = spec.cls(server, self, nsp, record.sid, auth)
        socket.pid = record.pid
        socket.recovered = True
        if isinstance(record.data, dict):
            socket.session = record.data
        if record.extras:
            socket.extras.update(record.extras)
        # Added before the last check, which may block: what is emitted meanwhile is held
        # and follows the missed packets.
        manager.add(socket)
        for room in record.rooms:
            if room != record.sid:
                manager.join(socket, room)
        try:
            allowed = server.may_recover(socket)
        except Exception:
            log.exception("may_recover raised; %s on %s connects as a new socket", record.sid, nsp)
            allowed = False
        missed = restored.missed
        if allowed is True and restored.replay is not None:
            # Read now that the socket is in the manager: what was delivered to it meanwhile is
            # held, and dropped where the replay carries it too.
            try:
                replayed = restored.replay()
            except Exception:
                log.exception("replaying what %s on %s missed failed", record.sid, nsp)
                replayed = None
            if replayed is None:
                allowed = False
            else:
                missed, covered = replayed
                socket.drop_held(lambda packets: _carried(packets, covered))
        if allowed is not True:
            socket.state = DISCONNECTED
            manager.remove(socket)
            return None
        return socket, missed

    def _send_missed(self, missed: list[Packet]) -> None:
        # Before the CONNECT reply, as the reference server (the client buffers them until
        # it is connected, then emits them in order).
        for packet in missed:
            self.sock.send_packets(to_engine_packets(packet))

    def _connect_reply(self, socket: Namespace) -> dict[str, Any] | None:
        if self.legacy:
            return None  # protocol v4: a bare CONNECT
        if socket.pid is None:
            return {"sid": socket.sid}
        return {"sid": socket.sid, "pid": socket.pid}

    def _reply(self, packet: Packet) -> None:
        self.sock.send_packets(to_engine_packets(packet))

    def _event(self, packet: Packet) -> None:
        socket = self.sockets.get(packet.namespace)
        if not isinstance(socket, Namespace) or socket.state is not CONNECTED:
            return  # refused or gone meanwhile
        event, *args = packet.data
        handler = self.server.handler_for(socket, event)
        if handler is None:
            log.debug("no handler for event %r on %s", event, packet.namespace)
            return
        try:
            result = handler(*args)
        except Exception as exc:
            # Only here, past the fast path: the error hook may answer the ack.
            on_error = self.server.error_handler_for(socket)
            if on_error is None:
                log.exception("handler for event %r on %s raised", event, packet.namespace)
                return
            try:
                result = on_error(event, exc)
            except Exception:
                log.exception("error handler for event %r on %s raised", event, packet.namespace)
                return
        if packet.id is not None and socket.state is CONNECTED:
            socket.send_packet(Packet(PacketType.ACK, packet.namespace, ack_arguments(result),
                                      packet.id))

    def _ack(self, socket: Namespace, packet: Packet) -> None:
        callback = socket.take_ack(packet.id)  # type: ignore[arg-type]
        if callback is None:
            log.debug("unknown ack id %s on %s", packet.id, packet.namespace)
            return
        args = packet.data
        if getattr(callback, "immediate", False):
            callback(*args)
        else:
            self.sock.run_in_order(self.server.run_handler, callback, *args)

    def _client_disconnect(self, nsp: str) -> None:
        socket = self.sockets.get(nsp)
        if isinstance(socket, Namespace):
            self.close_namespace(socket, "client namespace disconnect")


def _legacy_connect(packet: Packet) -> Packet:
    """A protocol v4 CONNECT: ``/nsp?a=1`` names the namespace and its auth (socket.io
    client.ts ``_parseNamespace``: the query's strings, the last of a repeated key)."""
    path, _, query = packet.namespace.partition("?")
    auth = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    return Packet(PacketType.CONNECT, path or "/", auth)


def _legacy_refusal(refusal: dict[str, Any]) -> str | dict[str, Any]:
    """A refusal as protocol v4 words it: its data if any (JavaScript ``err.data ||
    err.message``), else the message, as a JSON string (socket.io namespace.ts)."""
    data = refusal.get("data")
    if isinstance(data, dict) or (isinstance(data, str) and data):
        return data
    return str(refusal.get("message", ""))


class SocketIOEngine(EngineServer):
    """The Engine.IO server under a Socket.IO server: one :class:`Client` per connection."""

    def __init__(self, host: Host, **kw: Any) -> None:
        super().__init__(**kw)
        self.host = host

    def handle_connect(self, sock: EngineSocket) -> None:
        client = Client(self.host, sock)
        sock.context = client
        client.opened()

    def handle_message(self, sock: EngineSocket, data: str | bytes) -> None:
        sock.context.receive(data)

    def handle_close(self, sock: EngineSocket) -> None:
        client: Client | None = sock.context
        if client is not None:
            client.closing()

    def handle_disconnect(self, sock: EngineSocket, reason: str) -> None:
        client: Client | None = sock.context
        if client is not None:
            client.closed(reason)


__all__ = ["CONNECT_PAUSE", "Client", "Host", "SocketIOEngine"]


def _carried(packets: list[engineio.Packet], covered: Callable[[str], bool]) -> bool:
    """Whether an encoded event's offset (its last argument) is one ``covered`` says a replay
    carries. Read off the text: the first ``[`` opens the arguments (a namespace with a ``[``
    in its name fails to parse, and the packet is kept)."""
    data = packets[0].data if packets else None
    if not isinstance(data, str) or data[:1] not in ("2", "5"):
        return False
    start = data.find("[")
    try:
        args = json.loads(data[start:]) if start >= 0 else None
    except ValueError:
        return False
    return isinstance(args, list) and bool(args) and isinstance(args[-1], str) and covered(args[-1])
