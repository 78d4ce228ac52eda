"""The servers under test for the official conformance suites (see conformance/README.md).

Each is configured as the README of its suite configures the reference Node server:

* ``engineio_app``: engine.io-protocol's ``test-suite/``, a raw Engine.IO echo server on
  ``/engine.io/`` (pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6, CORS any origin);
  every message goes back to its sender as is.
* ``socketio_app``: socket.io-protocol's ``test-suite/``, the same options plus connectTimeout
  1000 ms on ``/socket.io/``; on ``/`` a client gets ``auth`` (its CONNECT payload, ``{}``
  without one), ``message`` is echoed as ``message-back`` and ``message-with-ack`` is answered
  through the ack with its own arguments; on ``/custom`` a client gets ``auth`` only.

    python -m wsgi_sio conformance.apps:engineio_app --bind 127.0.0.1:3000
    python -m wsgi_sio conformance.apps:socketio_app --bind 127.0.0.1:3000
"""

from __future__ import annotations

from typing import Any

import wsgi_sio

# the suites' options; ours are in seconds, the reference server's in milliseconds
PING_INTERVAL = 0.3
PING_TIMEOUT = 0.2
MAX_PAYLOAD = 1_000_000
CONNECT_TIMEOUT = 1.0


# -- Engine.IO: raw echo ----------------------------------------------------------------------

def _echo(socket: wsgi_sio.EngineSocket, data: str | bytes) -> None:
    socket.send(data)


engineio_app = wsgi_sio.EngineServer(
    path="/engine.io/",
    ping_interval=PING_INTERVAL,
    ping_timeout=PING_TIMEOUT,
    max_http_buffer_size=MAX_PAYLOAD,
    cors_allowed_origins="*",
    on_message=_echo,
)


# -- Socket.IO ----------------------------------------------------------------------------------

sio = wsgi_sio.Server(
    ping_interval=PING_INTERVAL,
    ping_timeout=PING_TIMEOUT,
    max_http_buffer_size=MAX_PAYLOAD,
    connect_timeout=CONNECT_TIMEOUT,
    cors_allowed_origins="*",
)


def _handshake_auth(socket: wsgi_sio.Namespace) -> Any:
    # Node's socket.handshake.auth is {} when the CONNECT packet carries no payload
    return socket.auth if socket.auth is not None else {}


@sio.namespace("/")
class Main(wsgi_sio.Namespace):
    def on_connect(self, auth: Any) -> None:
        self.emit("auth", _handshake_auth(self))

    def on_message(self, *args: Any) -> None:
        self.emit("message-back", *args)

    def catch_all(self, event: str, *args: Any) -> Any:
        if event == "message-with-ack":  # not a Python identifier: no on_<event> method
            return args  # a tuple: the ack gets the arguments spread out, as ack(...args)
        return None


@sio.namespace("/custom")
class Custom(wsgi_sio.Namespace):
    def on_connect(self, auth: Any) -> None:
        self.emit("auth", _handshake_auth(self))


socketio_app = wsgi_sio.SocketIOMiddleware(None, sio)
