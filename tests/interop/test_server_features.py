"""Server features beyond the basic scenarios, through python-socketio's client over WebSocket:
dynamic namespaces, emits to lists of rooms with exclusions, closing rooms, server calls that
time out, and a connect handler that raises."""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest

from tests.support.python_client import TIMEOUT, connect, refused

WS = ["websocket"]


@pytest.fixture
def url(interop_server) -> str:
    return interop_server.url


def test_dynamic_namespace_by_pattern(url):
    client, rec = connect(url, WS, namespace="/room-42")
    try:
        assert rec.next("welcome") == ({},)
        assert client.call("whoami", namespace="/room-42", timeout=TIMEOUT)["namespace"] == "/room-42"
    finally:
        client.disconnect()
    assert refused(url, WS, "/room-x") == {"message": "Invalid namespace"}


def test_dynamic_namespace_by_callable_sees_auth(url):
    client, _ = connect(url, WS, namespace="/team/blue", auth={"token": "t"})
    client.disconnect()
    assert refused(url, WS, "/team/blue") == {"message": "Invalid namespace"}  # no auth: no match


def test_connect_handler_that_raises_refuses_the_connection(url):
    assert refused(url, WS, "/broken") == {"message": "Internal server error"}


def test_emit_to_rooms_with_exclusions(url):
    members = [connect(url, WS) for _ in range(4)]
    try:
        (a, ra), (b, rb), (c, rc), (d, rd) = members
        a.call("join", "x", namespace="/chat", timeout=TIMEOUT)
        b.call("join", "y", namespace="/chat", timeout=TIMEOUT)
        c.call("join", "y", namespace="/chat", timeout=TIMEOUT)
        c.call("join", "quiet", namespace="/chat", timeout=TIMEOUT)
        # rooms x and y, minus the room "quiet": a and b (c is in y but skipped; d in neither)
        assert d.call("to_rooms", (["x", "y"], ["quiet"], "hello", 1), namespace="/chat", timeout=TIMEOUT)
        assert ra.next("hello") == (1,)
        assert rb.next("hello") == (1,)
        # minus a sid
        b_sid = b.get_sid("/chat")
        assert d.call("to_rooms", (["x", "y"], [b_sid], "hello", 2), namespace="/chat", timeout=TIMEOUT)
        assert ra.next("hello") == (2,)
        assert rc.next("hello") == (2,)
        # a sid is a room of its own
        assert d.call("to_rooms", ([b_sid], [], "direct", 3), namespace="/chat", timeout=TIMEOUT)
        assert rb.next("direct") == (3,)
        # closing a room empties it
        assert d.call("close_room", "y", namespace="/chat", timeout=TIMEOUT)
        assert d.call("to_rooms", (["y", "x"], [], "after", 4), namespace="/chat", timeout=TIMEOUT)
        assert ra.next("after") == (4,)
        # One connection's packets arrive in order: once a client's "sync" ack is back, any
        # event emitted to it earlier would be in its queue already.
        for client in (b, c):
            assert client.call("echo", "sync", namespace="/chat", timeout=TIMEOUT) == "sync"
        assert rb.empty("hello")  # hello 2 skipped b by its sid
        assert rb.empty("after") and rc.empty("after")  # room y was closed
        assert rc.empty("direct") and rd.empty("hello") and rd.empty("direct")
    finally:
        for client, _ in members:
            client.disconnect()


def test_server_call_times_out(url):
    client, _ = connect(url, WS)
    release = threading.Event()
    seen: queue.Queue[Any] = queue.Queue()

    def slow_answer(*args: Any) -> None:
        # python-socketio acknowledges every event once its handler returns: hold it back
        seen.put(args)
        release.wait(TIMEOUT)

    client.on("never_acked", slow_answer, namespace="/chat")
    try:
        assert client.call("unanswered_call", 0.3, namespace="/chat", timeout=TIMEOUT) == "timeout"
        assert seen.get(timeout=TIMEOUT) == ()
    finally:
        release.set()
        client.disconnect()
