"""Helpers of the lifecycle, slow-consumer and shutdown tests of tests/hardening/, against
tests/apps/lifecycle_app.py.

``Monitor`` is a WebSocket client connected to the main namespace that answers every server
ping, so it lives as long as the test, and asks the app's test-only events (``stats``,
``disconnects``) over it. Waiting for a condition is ``wait_until``: it asks again and again
until the condition holds or a generous deadline passes, with no sleep in between (each
question is a round trip to the server).
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.support.live import LiveServer
from tests.support.wire import Wire, answer, polling

APP = "tests.apps.lifecycle_app:application"
PING_INTERVAL = 0.5
PING_TIMEOUT = 0.5
DEADLINE = 30.0


class Monitor:
    def __init__(self, url: str) -> None:
        self.ws = Wire(url)
        assert self.ws.upgrade() == 101, (self.ws.status, self.ws.body)
        assert self.ws.recv_text().startswith('0{"sid":')
        self.ws.send_text("40")
        reply = self.ws.recv_text()
        assert reply.startswith("40{"), reply
        self._ack = 0
        self._lock = threading.Lock()
        self._texts: queue.Queue[str] = queue.Queue()
        # A reader of its own answers every ping at once, whatever the test is waiting on.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            while True:
                text = self.ws.recv_text()
                if text == "2":
                    with self._lock:
                        self.ws.send_text("3")
                else:
                    self._texts.put(text)
        except (OSError, EOFError, AssertionError) as exc:
            self._texts.put(f"<gone: {exc!r}>")

    def call(self, event: str, *args: Any) -> Any:
        self._ack += 1
        prefix = f"43{self._ack}"
        with self._lock:
            self.ws.send_text(prefix.replace("43", "42", 1) + json.dumps([event, *args]))
        while True:
            text = self._texts.get(timeout=DEADLINE)
            if text.startswith(prefix):
                return json.loads(text[len(prefix):])[0]
            assert text.startswith("42"), text

    def stats(self) -> dict[str, int]:
        return self.call("stats")

    def close(self) -> None:
        try:
            self.ws.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ws.close()
        self._reader.join(timeout=DEADLINE)


def wait_until(condition: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    """Ask ``condition()`` until it is truthy; fail after ``deadline`` seconds saying ``what``."""
    end = time.monotonic() + deadline
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"{what}: still not the case after {deadline} s")


def polling_member(url: str, room: str) -> str:
    status, body = answer(polling(url))
    assert status == 200
    sid = json.loads(body[1:])["sid"]
    assert answer(polling(url, "POST", sid, b"40")) == (200, b"ok")
    assert answer(polling(url, sid=sid))[1].startswith(b"40{")
    assert answer(polling(url, "POST", sid, f'421["join","{room}"]'.encode())) == (200, b"ok")
    status, body = answer(polling(url, sid=sid))
    assert body.split(b"\x1e")[-1] == b'431["joined"]', body
    return sid


def log_of(live: LiveServer) -> str:
    return "".join(live.output)
