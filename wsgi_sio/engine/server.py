"""The Engine.IO v4 server as a WSGI application.

Routing follows the reference server's ``verify()`` order: transport, origin, session id
(unknown: code 1; a polling request for an upgraded session: code 3), then for a new session
the method (code 2), protocol version (code 5) and, for ``transport=websocket``, a real
upgrade (code 3). Subclass it or pass callbacks to receive connections and messages; the
Socket.IO server does the former.

With ``allow_eio3``, a handshake whose ``EIO`` is anything but ``4`` (or missing) opens an
Engine.IO v3 session, as the reference server's ``allowEIO3`` does (PROTOCOL-NOTES-WAVE2 §1):
the session reverses the heartbeat, and its transports use the v3 framing of
:mod:`~wsgi_sio.protocol.engineio3`. ``b64=1`` on the request that makes a transport says
that the client cannot take raw binary on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from .. import runtime as runtime_mod
from .. import runtime_choice
from ..protocol import engineio, engineio3
from ..protocol import session as states
from ..protocol.errors import EngineIOError, HandshakeError
from ..protocol.session import Session
from ..protocol.websocket import CloseCode, accept_handshake, environ_headers
from . import http
from .http import (
    BAD_HANDSHAKE_METHOD,
    BAD_REQUEST,
    FORBIDDEN,
    UNKNOWN_TRANSPORT,
    UNSUPPORTED_PROTOCOL_VERSION,
    BodyTooLarge,
    OriginPolicy,
    RequestRefused,
)
from .routing import Router
from .scheduler import Scheduler
from .socket import EngineSocket
from .websocket import WebSocketTransport

log = logging.getLogger("wsgi_sio")

TRANSPORTS = ("polling", "websocket")


class EngineServer:
    """An Engine.IO server; call it as a WSGI app for requests under its path.

    ``allow_request(environ)`` returns None to let a request through, or a message to refuse
    it with 403 / code 4 before any handler runs.

    Callbacks (or override the ``handle_*`` methods): ``on_connect(socket)`` may raise
    :class:`RequestRefused` to answer 403; ``on_message(socket, data)`` gets each message
    (``str`` or ``bytes``) in order; ``on_disconnect(socket, reason)`` runs once, after the
    last message.
    """

    def __init__(self, *, path: str = "/engine.io/", ping_interval: float = 25,
                 ping_timeout: float = 20, max_http_buffer_size: int = 1_000_000,
                 cors_allowed_origins: str | Iterable[str] | Callable[[str, dict[str, Any]], bool] | None = None,
                 cookie: str | None = None, allow_upgrades: bool = True,
                 transports: Iterable[str] = TRANSPORTS, upgrade_timeout: float = 10,
                 max_queue: int = 10_000, max_queue_bytes: int = 4_000_000,
                 max_payload_packets: int = 10_000, allow_eio3: bool = False,
                 async_mode: str | None = None,
                 allow_request: Callable[[dict[str, Any]], str | None] | None = None,
                 on_connect: Callable[[EngineSocket], Any] | None = None,
                 on_message: Callable[[EngineSocket, str | bytes], Any] | None = None,
                 on_disconnect: Callable[[EngineSocket, str], Any] | None = None) -> None:
        self.path = "/" + path.strip("/") + "/"
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_http_buffer_size = max_http_buffer_size
        self.origins = OriginPolicy(cors_allowed_origins)
        self.cookie = cookie
        self.allow_upgrades = allow_upgrades
        self.transports = tuple(transports)
        self.upgrade_timeout = upgrade_timeout
        self.max_queue = max_queue
        self.max_queue_bytes = max_queue_bytes
        self.max_payload_packets = max_payload_packets
        #: serve Engine.IO v3 clients (socket.io-client 1.x/2.x) too
        self.allow_eio3 = allow_eio3
        self.close_grace = 5.0
        self.async_mode = async_mode
        self.sockets: dict[str, EngineSocket] = {}
        #: set by ``shutdown``: new handshakes get 503, responses end their connection
        self.shutting_down = False
        self._shutdown_hooked = False
        self._drained: Any = None
        self.allow_request = allow_request
        self._on_connect = on_connect
        self._on_message = on_message
        self._on_disconnect = on_disconnect
        self._runtime: runtime_mod.Runtime | None = None
        self._scheduler: Scheduler | None = None
        self._claimed = False
        #: sids naming this process, and requests for sessions that other processes hold
        self.router = Router(lambda: self.runtime,
                             lambda: self.ping_interval + self.ping_timeout + 10)

    # -- runtime ----------------------------------------------------------------------------

    @property
    def runtime(self) -> runtime_mod.Runtime:
        if self._runtime is None:
            self._runtime = runtime_choice.detect(self.async_mode)
        return self._runtime

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            self._scheduler = Scheduler(self.runtime)
        return self._scheduler

    # -- hooks for the layer above ----------------------------------------------------------

    def handle_connect(self, sock: EngineSocket) -> None:
        if self._on_connect is not None:
            self._on_connect(sock)

    def handle_message(self, sock: EngineSocket, data: str | bytes) -> None:
        """Called where the message was read; the callback runs in order (``run_in_order``)."""
        if self._on_message is not None:
            sock.run_in_order(self._on_message, sock, data)

    def handle_close(self, sock: EngineSocket) -> None:
        """Called at once when a session ends, before its queued work and ``handle_disconnect``."""

    def handle_disconnect(self, sock: EngineSocket, reason: str) -> None:
        if self._on_disconnect is not None:
            self._on_disconnect(sock, reason)

    def forget(self, sock: EngineSocket) -> None:
        if self.sockets.get(sock.sid) is sock:
            del self.sockets[sock.sid]
            if not self.sockets and self._drained is not None:
                self._drained.set()

    def stats(self) -> dict[str, int]:
        """Counts for monitoring and leak checks: open ``sessions`` (sids still known) and
        ``timers`` pending on the scheduler (heartbeats, upgrade and connect timeouts)."""
        scheduler = self._scheduler
        counts = {"sessions": len(self.sockets),
                  "timers": scheduler.pending() if scheduler is not None else 0}
        if self._runtime is not None:
            counts.update(self._runtime.handoff_counts())
        return counts

    def close_all(self, reason: str = states.SERVER_SHUTTING_DOWN) -> None:
        for sock in list(self.sockets.values()):
            sock.close(reason)

    def shutdown(self) -> None:
        """Graceful stop: refuse new handshakes (503) and close every session, each client
        getting a ``close`` packet, and over WebSocket a Close frame 1001 "going away"."""
        self.shutting_down = True
        self.close_all(states.SERVER_SHUTTING_DOWN)

    def wait_closed(self, timeout: float | None = None) -> bool:
        """After ``shutdown``: wait until every session is gone, i.e. a long-polling client
        has fetched its close packet with its next GET (or ``close_grace`` ran out)."""
        if not self.sockets:
            return True
        self._drained = self.runtime.event()
        if not self.sockets:
            return True
        return bool(self._drained.wait(timeout))

    # -- WSGI ---------------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path.startswith(self.path) or path + "/" == self.path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.handle_request(environ, start_response)

    def handle_request(self, environ: dict[str, Any],
                       start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI entry point; a plain method, so wrappers can call it without the C-level
        frame that calling an instance costs (a WebSocket's greenlet keeps its stack for life)."""
        if not self._claimed:
            self._claimed = self.runtime.claim_upgrades(environ, start_response, self.handles)
        if not self._shutdown_hooked:
            # gunicorn's workers handle SIGTERM themselves: close our clients when they do
            self._shutdown_hooked = True
            self.runtime.on_worker_exit(environ, self.shutdown)
        if environ.get("HTTP_CONNECTION", "").lower() == "close":
            # RFC 9112 §9.6: the response says it too; gevent-websocket's and gunicorn's
            # pywsgi handlers close without saying so
            start_response = self.runtime.say_close(start_response)
        if "HTTP_TRANSFER_ENCODING" in environ:
            # a chunk announced past the limit: 413 from its size line, not a wait for it
            self.runtime.limit_chunks(environ, self.max_http_buffer_size, BodyTooLarge)
        try:
            params = http.parse_query(environ.get("QUERY_STRING", ""))
        except ValueError:
            return http.error(start_response, BAD_REQUEST)
        if self.shutting_down and params.get("sid") is None:
            extra = [("Retry-After", "5")]
            if self.runtime.honours_connection_close:
                extra.append(("Connection", "close"))
            return http.respond(start_response, "503 Service Unavailable",
                                b'{"code":4,"message":"Server shutting down"}', "application/json",
                                extra)
        transport = params.get("transport")
        if transport not in self.transports:
            return http.error(start_response, UNKNOWN_TRANSPORT)
        if self.allow_request is not None:
            # e.g. Django's ALLOWED_HOSTS / CSRF_TRUSTED_ORIGINS; on every request, so the
            # WebSocket upgrade and each polling POST are checked, not only the handshake.
            # First, so that its refusal says why.
            refusal = self.allow_request(environ)
            if refusal is not None:
                return http.error(start_response, FORBIDDEN, refusal or "Forbidden")
        if not self.origins.allows(environ):
            return http.error(start_response, FORBIDDEN, "Not an accepted origin")
        method = environ.get("REQUEST_METHOD", "GET")
        cors = self.origins.headers(environ)
        sid = params.get("sid")
        if sid is not None:
            sock = self.sockets.get(sid)
            if sock is None:
                return self.router.elsewhere(sid, environ, start_response, cors)
            if transport == "websocket":
                return self._upgrade(sock, params, environ, start_response)
            if sock.transport != "polling":
                return http.error(start_response, BAD_REQUEST, extra=cors)
            if method == "GET":
                return self._poll(sock, start_response, cors)
            if method == "POST":
                return self._post(sock, environ, start_response, cors)
            if method == "OPTIONS":
                return self.origins.preflight(environ, start_response)
            return http.error(start_response, BAD_REQUEST, extra=cors)
        if method == "OPTIONS" and environ.get("HTTP_ORIGIN") and cors:
            return self.origins.preflight(environ, start_response)
        if method != "GET":
            return http.error(start_response, BAD_HANDSHAKE_METHOD, extra=cors)
        if params.get("EIO") == "4":
            protocol = 4
        elif self.allow_eio3:
            protocol = 3  # engine.io: any other value, or none, is v3
        else:
            return http.error(start_response, UNSUPPORTED_PROTOCOL_VERSION, extra=cors)
        binary = "b64" not in params
        if transport == "websocket":
            return self._websocket_handshake(environ, start_response, protocol, binary)
        return self._polling_handshake(environ, start_response, cors, protocol, binary)

    # -- handshake ----------------------------------------------------------------------------

    def _new_socket(self, transport: str, upgrades: list[str], environ: dict[str, Any],
                    start_response: Callable[..., Any], protocol: int = 4) -> EngineSocket:
        rt = self.runtime
        session = Session(self.router.new_sid(environ, start_response), transport, rt.monotonic(),
                          ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
                          max_payload=self.max_http_buffer_size, upgrades=upgrades,
                          max_queue=self.max_queue, max_queue_bytes=self.max_queue_bytes,
                          upgrade_timeout=self.upgrade_timeout, protocol=protocol)
        kept = http.session_environ(environ, anonymous=self.origins.anonymous(environ),
                                    in_place=transport == "websocket")
        return EngineSocket(self, session, kept)

    def _register(self, sock: EngineSocket) -> None:
        self.sockets[sock.sid] = sock
        sock.start()

    def _polling_handshake(self, environ: dict[str, Any], start_response: Callable[..., Any],
                           cors: list[tuple[str, str]], protocol: int = 4,
                           binary: bool = True) -> Iterable[bytes]:
        upgrades = (["websocket"] if self.allow_upgrades and "websocket" in self.transports
                    and self.runtime.websocket_capable(start_response) else [])
        sock = self._new_socket("polling", upgrades, environ, start_response, protocol)
        sock.binary = binary
        try:
            self.handle_connect(sock)
        except RequestRefused as exc:
            sock.abandon()
            return http.error(start_response, FORBIDDEN, exc.message, extra=cors)
        packets = sock.take_outgoing()  # the open packet, and anything the hook queued
        self._register(sock)
        headers = list(cors)
        if self.cookie:
            headers.append(("Set-Cookie", f"{self.cookie}={sock.sid}; Path=/; HttpOnly; SameSite=Lax"))
        return self._payload_response(start_response, packets, headers, sock)

    def _payload_response(self, start_response: Callable[..., Any], packets: list[engineio.Packet],
                          headers: list[tuple[str, str]], sock: EngineSocket) -> list[bytes]:
        content_type = "text/plain; charset=UTF-8"
        if sock.protocol == 4:
            body = engineio.encode_payload(packets).encode()
        elif sock.binary and engineio3.has_binary(packets):
            # XHR2: raw binary only when the batch holds some (engine.io parser-v3)
            body = engineio3.encode_binary_payload(packets)
            content_type = engineio3.BINARY_CONTENT_TYPE
        else:
            body = engineio3.encode_payload(packets).encode()
        headers.append(("Cache-Control", "no-store"))
        if self.shutting_down and self.runtime.honours_connection_close:
            headers.append(("Connection", "close"))  # let a draining worker's pool empty
        return http.respond(start_response, "200 OK", body, content_type, headers)

    def _accept_websocket(self, environ: dict[str, Any],
                          start_response: Callable[..., Any]) -> tuple[WebSocketTransport | None, list[bytes] | None]:
        """Switch the connection to WebSocket: (transport, None), or (None, an error answer)."""
        conn = self.runtime.raw_connection(environ, start_response)
        if conn is None:
            return None, http.error(start_response, BAD_REQUEST)
        if not conn.handshake_done:
            try:
                headers = accept_handshake(environ_headers(environ))
            except HandshakeError as exc:
                body = exc.reason.encode()
                return None, http.respond(start_response, f"{exc.status} {_reason(exc.status)}", body,
                                          "text/plain; charset=UTF-8",
                                          exc.headers + [("Connection", "close")])
            write = start_response("101 Switching Protocols", headers)
            write(b"")
            conn.handshake_sent()
        return WebSocketTransport(conn, self.runtime, self.max_http_buffer_size), None

    def _websocket_handshake(self, environ: dict[str, Any], start_response: Callable[..., Any],
                             protocol: int = 4, binary: bool = True) -> Iterable[bytes]:
        ws, refusal = self._accept_websocket(environ, start_response)
        if ws is None:
            return refusal or []
        sock = self._new_socket("websocket", [], environ, start_response, protocol)
        try:
            self.handle_connect(sock)
        except RequestRefused:
            sock.abandon()
            ws.close(CloseCode.POLICY_VIOLATION, "forbidden")
            return []
        self._register(sock)
        sock.attach_websocket(ws, binary)
        sock.serve_websocket(ws)
        return []

    # -- polling ------------------------------------------------------------------------------

    def _poll(self, sock: EngineSocket, start_response: Callable[..., Any],
              cors: list[tuple[str, str]]) -> Iterable[bytes]:
        packets = sock.poll()
        if packets is None:
            return http.error(start_response, BAD_REQUEST, extra=cors)
        if sock.closed:
            self.forget(sock)
        return self._payload_response(start_response, packets, list(cors), sock)

    def _post(self, sock: EngineSocket, environ: dict[str, Any], start_response: Callable[..., Any],
              cors: list[tuple[str, str]]) -> Iterable[bytes]:
        if not sock.begin_post():
            sock.close(states.TRANSPORT_ERROR)
            return http.error(start_response, BAD_REQUEST, "Overlapping POST", extra=cors)
        try:
            content_type = environ.get("CONTENT_TYPE", "")
            binary = sock.protocol == 3 and content_type == engineio3.BINARY_CONTENT_TYPE
            if sock.protocol == 4 and content_type.startswith(engineio3.BINARY_CONTENT_TYPE):
                # v4 polling carries binary as base64 text; a binary body is a v3 client.
                # An error close, as for a bad payload: the session goes at once, so the next
                # GET gets 400 "Session ID unknown" as with the reference server.
                sock.close(states.TRANSPORT_ERROR, notify_client=False)
                return http.error(start_response, BAD_REQUEST, "Binary payloads are not supported on EIO=4",
                                  extra=cors)
            try:
                body = http.read_body(environ, self.max_http_buffer_size)
            except BodyTooLarge:
                # The unread body makes the connection unusable. gevent's pywsgi honours an
                # app's ``Connection: close``; wsgiref-based servers (Django's runserver)
                # reject hop-by-hop headers from apps (PEP 3333) with a 500, so only gevent.
                extra = list(cors)
                if self.runtime.honours_connection_close:
                    extra.append(("Connection", "close"))
                return http.respond(start_response, "413 Payload Too Large",
                                    b'{"code":3,"message":"Payload too large"}', "application/json",
                                    extra)
            except (ValueError, OSError):
                return http.error(start_response, BAD_REQUEST, extra=cors)
            try:
                sock.receive_payload(body, self.max_payload_packets, binary)
            except EngineIOError as exc:  # the session is closed
                return http.error(start_response, BAD_REQUEST, str(exc), extra=cors)
            return http.respond(start_response, "200 OK", b"ok", "text/html; charset=UTF-8", cors)
        finally:
            sock.end_post()

    # -- websocket ----------------------------------------------------------------------------

    def _upgrade(self, sock: EngineSocket, params: dict[str, str], environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        if sock.protocol == 3:
            if params.get("EIO") == "4":
                return http.error(start_response, BAD_REQUEST)  # not the session's revision
        elif params.get("EIO") != "4":
            return http.error(start_response, UNSUPPORTED_PROTOCOL_VERSION)
        session = sock.session
        if not session.can_upgrade():
            if session.state is not states.UPGRADING and session.transport != "websocket":
                return http.error(start_response, BAD_REQUEST)  # no upgrade was offered
            # Another WebSocket while one is probing or already serves the session (a client
            # retrying, a second tab with a copied sid): as the reference server does, the
            # handshake completes and that connection alone is closed; the first goes on. A
            # refused handshake would be an error event that many WebSocket clients do not
            # handle.
            ws, refusal = self._accept_websocket(environ, start_response)
            if ws is not None:
                ws.close(CloseCode.NORMAL)
            return refusal or []
        ws, refusal = self._accept_websocket(environ, start_response)
        if ws is None:
            return refusal or []
        sock.upgrade_to(ws, "b64" not in params)
        return []


def _reason(status: int) -> str:
    return {400: "Bad Request", 426: "Upgrade Required"}.get(status, "Bad Request")
