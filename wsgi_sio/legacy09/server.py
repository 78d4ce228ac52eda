"""socket.io 0.9 clients on the same path as v4/v5 ones: ``<path>1/...`` (``/socket.io/1/``).

What is served (socket.io 0.9.16 ``lib/manager.js``, gevent-socketio ``socketio/handler.py``;
``PROTOCOL-NOTES-WAVE2`` §2):

* the handshake, ``GET /socket.io/1/`` (any method): ``<sid>:<heartbeat timeout>:<close
  timeout>:<transports>`` in seconds, as text, or ``io.j[<n>]("...");`` for ``?jsonp=<n>``;
* ``/socket.io/1/websocket/<sid>``: one frame per WebSocket message;
* ``/socket.io/1/xhr-polling/<sid>``: a GET waits up to ``polling_duration`` for frames
  (then ``8::``), a POST carries a payload and is answered ``1``;
* ``/socket.io/1/<anything>/<sid>?disconnect=1``: the client leaves (page unload).

``jsonp-polling``, ``htmlfile`` and ``flashsocket`` are not offered in the handshake, so
clients never try them; a request for one gets 400 ``transport not supported``. An unknown
sid gets the error frame ``7:::1+0`` (client not handshaken, reconnect): the client makes a
new handshake. The checks of the v4 path apply: ``allow_request`` (Django's ALLOWED_HOSTS and
Origin) and the origin policy, each refusal a 403 saying why.

Each connection is a :class:`~.socket.LegacySocket` with an ordinary Socket.IO ``Client``
on it: the server's namespaces, handlers, rooms and manager serve it as any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol, cast

from ..engine import http
from ..engine.http import BodyTooLarge
from ..engine.scheduler import Scheduler
from ..engine.server import EngineServer
from ..engine.socket import EngineSocket
from ..engine.websocket import WebSocketTransport
from ..protocol import session as states
from ..protocol.errors import HandshakeError
from ..protocol.legacy09 import (
    MAX_ENDPOINT,
    MAX_FRAMES,
    ErrorAdvice,
    ErrorReason,
    Frame,
    Legacy09Error,
    decode_frame,
    decode_payload,
    encode_frame,
)
from ..protocol.routing import new_token
from ..protocol.websocket import CloseCode, accept_handshake, environ_headers
from ..runtime import Runtime
from ..socketio.client import Client
from ..socketio.client import Host as SocketIOHost
from .socket import LegacySocket, encode_polling_body

log = logging.getLogger("wsgi_sio")

TEXT = "text/plain; charset=UTF-8"
NOT_HANDSHAKEN = encode_frame(Frame.error(ErrorReason.CLIENT_NOT_HANDSHAKEN, ErrorAdvice.RECONNECT))
TRANSPORTS = ("websocket", "xhr-polling")


class Host(SocketIOHost, Protocol):
    """The Socket.IO server 0.9 clients join (``wsgi_sio.Server``): its engine too."""

    @property
    def engine(self) -> EngineServer: ...


class LegacyServer:
    """Serves socket.io 0.9 clients for a Socket.IO server (``Server(allow_legacy_09=True)``).

    Times in seconds, with socket.io 0.9's defaults but the heartbeat interval, which is the
    server's ``ping_interval``.
    """

    def __init__(self, host: Host, *, heartbeat_interval: float | None = None,
                 heartbeat_timeout: float = 60, close_timeout: float = 60,
                 polling_duration: float = 20, max_frames: int = MAX_FRAMES,
                 max_endpoint: int = MAX_ENDPOINT) -> None:
        self.host = host
        self.engine = host.engine
        self.heartbeat_interval = (heartbeat_interval if heartbeat_interval is not None
                                   else self.engine.ping_interval)
        self.heartbeat_timeout = heartbeat_timeout
        self.close_timeout = close_timeout
        self.polling_duration = polling_duration
        self.max_frames = max_frames
        self.max_endpoint = max_endpoint
        #: "/socket.io/1": everything under it is ours
        self.prefix = self.engine.path + "1"
        self.sockets: dict[str, LegacySocket] = {}
        self._claimed = False

    @property
    def runtime(self) -> Runtime:
        return self.engine.runtime

    @property
    def scheduler(self) -> Scheduler:
        return self.engine.scheduler

    def handles(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    def forget(self, sock: LegacySocket) -> None:
        if self.sockets.get(sock.sid) is sock:
            del self.sockets[sock.sid]

    def close_all(self) -> None:
        for sock in list(self.sockets.values()):
            sock.close(states.SERVER_SHUTTING_DOWN)

    def transports(self, start_response: Callable[..., Any]) -> list[str]:
        """The transports offered in the handshake (the client tries only these)."""
        offered = ["xhr-polling"] if "polling" in self.engine.transports else []
        if "websocket" in self.engine.transports and self.runtime.websocket_capable(start_response):
            offered.insert(0, "websocket")
        return offered

    # -- WSGI ---------------------------------------------------------------------------------------

    def handle_request(self, environ: dict[str, Any],
                       start_response: Callable[..., Any]) -> Iterable[bytes]:
        engine = self.engine
        if not self._claimed:
            self._claimed = self.runtime.claim_upgrades(environ, start_response, engine.handles)
        try:
            params = http.parse_query(environ.get("QUERY_STRING", ""))
        except ValueError:
            return _text(start_response, "400 Bad Request", "bad query string")
        if engine.allow_request is not None:
            refusal = engine.allow_request(environ)
            if refusal is not None:
                return _text(start_response, "403 Forbidden", f"handshake unauthorized: {refusal}")
        if not engine.origins.allows(environ):
            return _text(start_response, "403 Forbidden", "handshake bad origin")
        cors = engine.origins.headers(environ)
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "OPTIONS" and environ.get("HTTP_ORIGIN") and cors:
            return engine.origins.preflight(environ, start_response)
        parts = [p for p in environ.get("PATH_INFO", "")[len(self.prefix):].split("/") if p]
        if "disconnect" in params and parts:
            sock = self.sockets.get(parts[-1])
            if sock is not None:
                sock.close("client namespace disconnect", notify_client=False)
            return _text(start_response, "200 OK", "", cors)
        if not parts:
            return self._handshake(environ, start_response, params, cors)
        if len(parts) != 2:
            return _text(start_response, "400 Bad Request", "expected /1/<transport>/<sid>", cors)
        transport, sid = parts
        if transport not in TRANSPORTS or transport not in self.transports(start_response):
            return _text(start_response, "400 Bad Request", f"transport not supported: {transport[:32]}",
                         cors)
        sock = self.sockets.get(sid)
        if transport == "websocket":
            return self._websocket(sock, environ, start_response)
        if sock is None:
            return _text(start_response, "200 OK", NOT_HANDSHAKEN, cors)
        if sock.transport == "websocket":
            return _text(start_response, "400 Bad Request", "this session is on websocket", cors)
        if method == "GET":
            frames = sock.poll(self.polling_duration)
            return _text(start_response, "200 OK", encode_polling_body(frames), cors)
        if method == "POST":
            return self._post(sock, environ, start_response, cors)
        return _text(start_response, "400 Bad Request", f"{method[:16]} is not a polling method", cors)

    # -- the handshake --------------------------------------------------------------------------------

    def _handshake(self, environ: dict[str, Any], start_response: Callable[..., Any],
                   params: dict[str, str], cors: list[tuple[str, str]]) -> Iterable[bytes]:
        engine = self.engine
        if engine.shutting_down:
            return _text(start_response, "503 Service Unavailable", "handshake error: shutting down",
                         [*cors, ("Retry-After", "5")])
        sid = new_token()
        kept = http.session_environ(environ, anonymous=engine.origins.anonymous(environ))
        sock = LegacySocket(self, sid, kept)
        # The Socket.IO layer sees an Engine.IO socket (see .socket): typed as one here.
        client = Client(self.host, cast(EngineSocket, sock))
        sock.context = client
        self.sockets[sid] = sock
        client.opened()
        sock.start()  # a handshake unused for close_timeout is dropped
        body = ":".join([sid, _seconds(self.heartbeat_timeout), _seconds(self.close_timeout),
                         ",".join(self.transports(start_response))])
        jsonp = params.get("jsonp")
        if jsonp is not None:
            if not jsonp.isdigit() or len(jsonp) > 9:
                return _text(start_response, "400 Bad Request", "jsonp must be a number", cors)
            return http.respond(start_response, "200 OK", f'io.j[{jsonp}]("{body}");'.encode(),
                                "application/javascript; charset=UTF-8", [*cors, ("Cache-Control", "no-store")])
        return _text(start_response, "200 OK", body, cors)

    # -- transports -------------------------------------------------------------------------------------

    def _decode_message(self, text: str) -> list[Frame]:
        return [decode_frame(text, max_frame=self.engine.max_http_buffer_size, max_endpoint=self.max_endpoint)]

    def _post(self, sock: LegacySocket, environ: dict[str, Any], start_response: Callable[..., Any],
              cors: list[tuple[str, str]]) -> Iterable[bytes]:
        limit = self.engine.max_http_buffer_size
        try:
            body = http.read_body(environ, limit)
        except BodyTooLarge:
            return _text(start_response, "413 Payload Too Large", f"a payload is at most {limit} bytes",
                         [*cors, *([("Connection", "close")] if self.runtime.honours_connection_close else [])])
        except (ValueError, OSError):
            return _text(start_response, "400 Bad Request", "unreadable body", cors)
        try:
            frames = decode_payload(body.decode("utf-8"), max_frames=self.max_frames, max_frame=limit,
                                    max_endpoint=self.max_endpoint)
        except (UnicodeDecodeError, Legacy09Error) as exc:
            reason = "the body is not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
            log.info("0.9 session %s: bad payload: %s", sock.sid, reason)
            return _text(start_response, "400 Bad Request", reason, cors)
        sock.receive(frames)
        return _text(start_response, "200 OK", "1", cors)

    def _websocket(self, sock: LegacySocket | None, environ: dict[str, Any],
                   start_response: Callable[..., Any]) -> Iterable[bytes]:
        runtime = self.runtime
        conn = runtime.raw_connection(environ, start_response)
        if conn is None:
            return _text(start_response, "400 Bad Request", "not a WebSocket upgrade")
        if not conn.handshake_done:
            try:
                headers = accept_handshake(environ_headers(environ))
            except HandshakeError as exc:
                status = "426 Upgrade Required" if exc.status == 426 else "400 Bad Request"
                return _text(start_response, status, exc.reason, [*exc.headers, ("Connection", "close")])
            write = start_response("101 Switching Protocols", headers)
            write(b"")
            conn.handshake_sent()
        ws = WebSocketTransport(conn, runtime, self.engine.max_http_buffer_size)
        if sock is None or sock.transport:
            # an unknown sid, or a session already served: the client handshakes again
            ws.send_message(NOT_HANDSHAKEN)
            ws.close(CloseCode.NORMAL)
            return []
        sock.serve_websocket(ws, self._decode_message)
        return []


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _text(start_response: Callable[..., Any], status: str, body: str | bytes,
          headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return http.respond(start_response, status, data, TEXT, [*(headers or []), ("Cache-Control", "no-store")])


__all__ = ["LegacyServer"]
