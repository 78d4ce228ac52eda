"""python-socketio's own ``socketio.Client`` (from PyPI), as the interop tests drive it:
``connect`` returns a client and a ``Recorder`` of every event it receives (``next(event)``
waits for one, with ``TIMEOUT``); ``refused`` connects expecting a refusal and returns the
``connect_error`` payload. The interop app (tests/apps/interop.py) asks a ``question`` event
for an ack, which the recorder answers."""

from __future__ import annotations

import queue
from typing import Any

import pytest
import socketio

TIMEOUT = 10


class Recorder:
    """Collects events a client receives; ``next(event)`` waits for one with a timeout."""

    def __init__(self, client: socketio.Client, namespace: str) -> None:
        self.queues: dict[str, queue.Queue[tuple[Any, ...]]] = {}
        self.namespace = namespace
        client.on("*", self._any, namespace=namespace)

    def _queue(self, event: str) -> queue.Queue[tuple[Any, ...]]:
        return self.queues.setdefault(event, queue.Queue())

    def _any(self, event: str, *args: Any) -> Any:
        self._queue(event).put(args)
        if event == "question":
            return "answer to " + str(args[0])
        return None

    def next(self, event: str) -> tuple[Any, ...]:
        try:
            return self._queue(event).get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no {event!r} within {TIMEOUT} s") from None

    def empty(self, event: str) -> bool:
        return self._queue(event).empty()


def connect(url: str, transports: list[str], namespace: str = "/chat",
            auth: Any = None) -> tuple[socketio.Client, Recorder]:
    client = socketio.Client(reconnection=False)
    recorder = Recorder(client, namespace)
    client.connect(url, namespaces=[namespace], transports=transports, auth=auth,
                   wait_timeout=TIMEOUT)
    return client, recorder


def refused(url: str, transports: list[str], namespace: str, auth: Any = None) -> Any:
    """Connect expecting a refusal; returns the connect_error payload the client received."""
    client = socketio.Client(reconnection=False)
    errors: queue.Queue[Any] = queue.Queue()
    client.on("connect_error", errors.put, namespace=namespace)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(url, namespaces=[namespace], transports=transports, auth=auth,
                           wait_timeout=TIMEOUT)
        return errors.get(timeout=TIMEOUT)
    finally:
        client.eio.disconnect()
