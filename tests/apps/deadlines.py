"""The server of tests/hardening/test_http_deadlines.py: how long a request may take to arrive,
and whether a response says ``Connection: close`` when the connection ends after it.

The site answers ``/read`` after reading its whole body, every other path without reading
any. Socket.IO at ``/socket.io/`` with a 100 kB body limit, a ping every 2 s (so a long-poll
outlasts the tests' 1 s deadlines) and ``echo`` answered with its arguments.
"""

from __future__ import annotations

import wsgi_sio

LIMIT = 100_000
PING_INTERVAL = 2

sio = wsgi_sio.Server(ping_interval=PING_INTERVAL, ping_timeout=5, max_http_buffer_size=LIMIT)


@sio.on("echo")
def echo(socket, *args):
    return args


def site(environ, start_response):
    if environ["PATH_INFO"] == "/read":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
        answer = b"read %d bytes" % len(body)
    else:
        answer = b"site"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))])
    return [answer]


application = wsgi_sio.SocketIOMiddleware(site, sio)
