"""A raw WebSocket echo endpoint on wsgi_sio's own WebSocket layer, for Autobahn|Testsuite.

Every byte goes through the code Socket.IO clients meet: ``accept_handshake`` for the 101,
``raw_connection`` for the socket takeover, and ``WebSocketTransport`` (``FrameDecoder`` in,
the encoders out, pings answered, closes answered, protocol errors closed with their code).
Only the Engine.IO packet decoding is left out, so text and binary messages are echoed as is.

    python autobahn/echo_app.py [port]       # serves ws://127.0.0.1:9001/ by default
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterable

from wsgi_sio.green import GeventRuntime, make_server, raw_connection
from wsgi_sio.engine.websocket import ConnectionGone, WebSocketTransport
from wsgi_sio.protocol.errors import HandshakeError, WebSocketError
from wsgi_sio.protocol.websocket import accept_handshake, environ_headers

# Above every message of cases 1-7 and 10; the 9.x cases (up to 16 MB) are not run.
MAX_MESSAGE_SIZE = 16 * 1024 * 1024

runtime = GeventRuntime()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    conn = raw_connection(environ, start_response)
    if conn is None:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"websocket only\n"]
    if not conn.handshake_done:
        try:
            headers = accept_handshake(environ_headers(environ))
        except HandshakeError as exc:
            start_response(f"{exc.status} Refused",
                           exc.headers + [("Content-Type", "text/plain"), ("Connection", "close")])
            return [exc.reason.encode()]
        start_response("101 Switching Protocols", headers)(b"")
    ws = WebSocketTransport(conn, runtime, MAX_MESSAGE_SIZE)
    try:
        while True:
            for message in ws.read_messages():
                ws.send_message(message)
    except ConnectionGone:
        pass
    except WebSocketError as exc:
        ws.close(exc.code, exc.reason)
    finally:
        ws.close(1000)
    return []


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9001
    server = make_server(app, "127.0.0.1", port)
    print(f"echo server on ws://127.0.0.1:{server.address[1]}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
