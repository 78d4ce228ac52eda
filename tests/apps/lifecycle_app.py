"""The server of tests/hardening/test_lifecycle_*.py, test_slow_consumers.py, test_shutdown.py.

Short timers (heartbeat, connect and upgrade timeouts) so tests can watch them fire, and a
test-only event ``stats`` that reports what a leak would grow: Engine.IO sessions and pending
timers (``EngineServer.stats()``), greenlets (counted through ``gc``), open file descriptors
(``/proc/self/fd``) and the resident set size. ``disconnects`` returns every disconnect
reason seen so far; ``flood`` makes the server emit to a room from a handler, as a busy chat
would, and ``volatile_flood`` does the same with volatile emits.
"""

from __future__ import annotations

import gc
import os

import greenlet

import wsgi_sio

OPTIONS = {"ping_interval": 0.5, "ping_timeout": 0.5, "connect_timeout": 1.0,
           "upgrade_timeout": 0.5, "cors_allowed_origins": ["https://allowed.example"]}
sio = wsgi_sio.Server(**OPTIONS)
disconnects: list[str] = []


def process_stats() -> dict[str, int]:
    gc.collect()
    rss_kb = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    return {
        **sio.engine.stats(),
        "greenlets": sum(1 for o in gc.get_objects() if isinstance(o, greenlet.greenlet)),
        "fds": len(os.listdir("/proc/self/fd")),
        "rss_kb": rss_kb,
    }


class Main(wsgi_sio.Namespace):
    def on_disconnect(self, reason):
        disconnects.append(reason)

    def on_disconnects(self):
        return disconnects

    def on_stats(self):
        return process_stats()

    def on_join(self, room):
        self.join(room)
        return "joined"

    def on_flood(self, room, count, size):
        data = "x" * size
        for i in range(count):
            self.server.emit("flood", i, data, to=room)
        return "flooded"

    def on_volatile_flood(self, room, count):
        for i in range(count):
            self.server.emit("tick", i, to=room, volatile=True)
        self.server.emit("done", count, to=room)
        return "flooded"

    def on_ready(self, sid):
        """Whether the transport of client ``sid`` could write at once (volatile emits go)."""
        socket = self.server.get_socket(sid)
        return socket is not None and socket.client.sock.ready_to_write()

    def on_volatile_self(self, count):
        for i in range(count):
            self.volatile.emit("tick", i)
        self.emit("done", count)
        return "sent"


sio.register_namespace(Main, "/")


def site(environ, start_response):
    body = b"lifecycle"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = wsgi_sio.SocketIOMiddleware(site, sio)
