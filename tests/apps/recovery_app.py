"""A server with connection state recovery, driven by tests/interop/js/recovery.mjs.

Two servers in one process: ``/socket.io/`` recovers without running ``on_connect`` again
(``skip_middlewares``), ``/strict.io/`` runs it again (it may refuse). Everything the tests
need of the server is a client event: joining, a paced numbered stream to a room, waiting
until a socket is gone or the stream is past a number, and moving the recovery clock forward
(an injected clock: expiry without waiting).
"""

from __future__ import annotations

import time
from typing import Any

import wsgi_sio

skew = [0.0]


def clock() -> float:
    return time.monotonic() + skew[0]


OPTIONS: dict[str, Any] = {"cors_allowed_origins": "*", "ping_interval": 5, "ping_timeout": 5}
sio = wsgi_sio.Server(**OPTIONS, manager=wsgi_sio.InProcessManager(clock=clock),
                      connection_state_recovery={"max_disconnection_duration": 60})
strict = wsgi_sio.Server(**OPTIONS, path="/strict.io/",
                         manager=wsgi_sio.InProcessManager(clock=clock),
                         connection_state_recovery={"max_disconnection_duration": 60,
                                                    "skip_middlewares": False})

#: sid -> the reason of its last disconnect
gone: dict[str, str] = {}
#: room -> the last number its stream emitted
progress: dict[str, int] = {}
#: sid -> its socket (also after it left: a private emit to it is kept for its recovery)
sockets: dict[str, wsgi_sio.Namespace] = {}
changed = [sio.runtime.event()]


def notify() -> None:
    event, changed[0] = changed[0], sio.runtime.event()
    event.set()


def wait_until(condition: Any, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        left = deadline - time.monotonic()
        if left <= 0 or not changed[0].wait(left) and not condition():
            return bool(condition())
    return True


class Recovering(wsgi_sio.Namespace):
    def on_connect(self, auth: Any) -> None:
        if isinstance(auth, dict) and auth.get("refuse_recovery") and self.recovered:
            raise wsgi_sio.ConnectionRefused("no recovery here")
        self.session["auth"] = auth
        self.session["recovered_in_on_connect"] = self.recovered
        self.session["connects"] = self.session.get("connects", 0) + 1
        sockets[self.sid] = self

    def on_disconnect(self, reason: str) -> None:
        gone[self.sid] = reason
        notify()

    def on_whoami(self) -> dict[str, Any]:
        return {"sid": self.sid, "recovered": self.recovered, "auth": self.session.get("auth"),
                "connects": self.session.get("connects"),
                "recovered_in_on_connect": self.session.get("recovered_in_on_connect"),
                "rooms": sorted(self.rooms - {self.sid})}

    def on_join(self, room: str) -> bool:
        self.join(room)
        return True

    def on_stream(self, room: str, count: int, pause: float) -> bool:
        """Emit ``n`` 0..count-1 to ``room``, one every ``pause`` seconds (pacing: the test
        waits on events, never on this)."""
        server = self.server

        def run() -> None:
            for number in range(count):
                server.emit("n", number, to=room, namespace=self.namespace)
                progress[room] = number
                notify()
                server.runtime.sleep(pause)

        server.runtime.spawn(run)
        return True

    def on_publish(self, room: str, first: int, last: int) -> bool:
        for number in range(first, last + 1):
            self.server.emit("n", number, to=room, namespace=self.namespace)
        return True

    def on_private(self, sid: str, text: str) -> bool:
        """``socket.emit`` on another client's socket, connected or not."""
        sockets[sid].emit("private", text)
        return True

    def on_wait_gone(self, sid: str) -> str | None:
        wait_until(lambda: sid in gone)
        return gone.pop(sid, None)

    def on_wait_past(self, room: str, number: int) -> bool:
        return wait_until(lambda: progress.get(room, -1) >= number)

    def on_advance_clock(self, seconds: float) -> bool:
        skew[0] += seconds
        return True


for server in (sio, strict):
    server.register_namespace(Recovering, "/")
    server.register_namespace(Recovering, "/chat")

application = wsgi_sio.SocketIOMiddleware(wsgi_sio.SocketIOMiddleware(None, strict), sio)
