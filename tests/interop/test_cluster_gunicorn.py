"""Sessions across the workers of one gunicorn (``-w 4``, one port): any request of a session
may reach any worker, and the session must work all the same (issue 11; the plan is §9.2 of
docs/design/sessions-across-workers.md).

The workers share the master's listening socket, so the kernel gives each new connection to
whichever worker accepts first: a long-polling session's requests land on several workers,
and those not its owner's must be handed to the owner. Each variant runs 100 socket.io-client
sessions of 20 ordered acks from one Node process (tests/interop/js/sessions.mjs), over
polling only, polling upgraded to WebSocket, and WebSocket only; then python-socketio's client
over polling; then rooms and broadcasts through the Redis manager. Checked: every session
connects once, never disconnects, and gets every ack in order; more than one worker answered.
Not checked: how evenly the workers share the work (gunicorn's shared accept can give a burst
of connections to one worker).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import socketio

from tests.support.cluster import (
    Gunicorn,
    assert_sessions_succeeded,
    check_adopted,
    redis_env,
    run_sessions,
)
from tests.support.live import assert_only_deliberate_tracebacks

APP = "tests.apps.cluster:application"
WORKERS = 4
SESSIONS, CALLS = 100, 20
TIMEOUT = 10

# (transports, upgrade): the three ways a socket.io-client session can run
VARIANTS = {
    "polling": (["polling"], False),
    "polling-upgrade": (["polling", "websocket"], True),
    "websocket": (["websocket"], False),
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Gunicorn]:
    server = Gunicorn(APP, WORKERS)
    server.wait_for_workers()
    yield server
    assert_only_deliberate_tracebacks(server.stop())


@pytest.mark.node
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_node_sessions_survive_any_worker(cluster, variant):
    transports, upgrade = VARIANTS[variant]
    summary = run_sessions(cluster.url, SESSIONS, CALLS, transports, upgrade=upgrade)
    assert_sessions_succeeded(summary, SESSIONS, CALLS)
    assert set(summary["pids"]) <= set(cluster.worker_pids)
    final = "websocket" if "websocket" in transports else "polling"
    assert {s["transport"] for s in summary["sessions"]} == {final}
    if upgrade:
        assert all(s["upgraded"] for s in summary["sessions"])
    if variant != "websocket":
        check_adopted(summary)


def python_session(url: str, index: int) -> dict[str, Any]:
    """One python-socketio client over polling: CALLS ordered ``echo_ack`` calls."""
    seen: dict[str, Any] = {"index": index, "connects": 0, "disconnects": [], "acks": [],
                            "pids": set(), "error": None}
    client = socketio.Client(reconnection=False)
    client.on("connect", lambda: seen.__setitem__("connects", seen["connects"] + 1))
    client.on("disconnect", lambda *reason: seen["disconnects"].append(reason))
    try:
        client.connect(url, transports=["polling"], wait_timeout=TIMEOUT)
        for i in range(CALLS):
            answer = client.call("echo_ack", i, timeout=TIMEOUT)
            seen["acks"].append(answer["args"])
            seen["pids"].add(answer["pid"])
    except (socketio.exceptions.SocketIOError, KeyError, TypeError) as exc:  # reported, not raised
        seen["error"] = repr(exc)
    finally:
        seen["disconnects_before_close"] = list(seen["disconnects"])
        client.disconnect()
    return seen


def test_python_socketio_clients_over_polling(cluster):
    with ThreadPoolExecutor(10) as pool:
        sessions = list(pool.map(lambda i: python_session(cluster.url, i), range(10)))
    failed = [s for s in sessions if s["error"] or s["connects"] != 1
              or s["disconnects_before_close"] or s["acks"] != [[i] for i in range(CALLS)]]
    assert not failed, failed[:3]
    assert len(set().union(*(s["pids"] for s in sessions))) >= 2


# -- rooms and broadcasts through Redis ------------------------------------------------------


@pytest.fixture(scope="module")
def redis_cluster(redis_url) -> Iterator[Gunicorn]:
    server = Gunicorn(APP, WORKERS, env=redis_env(redis_url))
    server.wait_for_workers()
    yield server
    assert_only_deliberate_tracebacks(server.stop())


class Listener:
    """A python-socketio client that counts each ``news`` payload it receives and sets an
    event when the ``end`` marker arrives."""

    def __init__(self, url: str, transports: list[str]) -> None:
        self.news: list[Any] = []
        self.ended = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("news", self.news.append)
        self.client.on("end", lambda *_: self.ended.set())
        self.client.connect(url, transports=transports, wait_timeout=TIMEOUT)
        ready = self.client.call("ready", timeout=TIMEOUT)
        assert ready["ready"] is True, ready
        self.pid = ready["pid"]


def test_room_broadcast_reaches_every_member_once(redis_cluster):
    url = redis_cluster.url
    transports = [["websocket"], ["polling"]]
    listeners: list[Listener] = []
    try:
        # members on at least two workers (which worker accepts is the kernel's choice)
        while len(listeners) < 4 or (len({m.pid for m in listeners}) < 2 and len(listeners) < 16):
            listeners.append(Listener(url, transports[len(listeners) % 2]))
        members = listeners[:]
        assert len({m.pid for m in members}) >= 2, [m.pid for m in members]
        outsider = Listener(url, ["polling"])
        listeners.append(outsider)
        for member in members:
            assert member.client.call("join", "lobby", timeout=TIMEOUT)["rooms"] == ["lobby"]
        sender = members[-1]
        sender.client.call("to", ("lobby", "news", "first"), timeout=TIMEOUT)
        sender.client.call("to", ("lobby", "news", "second"), timeout=TIMEOUT)
        # to everyone, after the news: the Redis channel keeps the order, so when a client has
        # the marker, a duplicate of the news would have come before it
        sender.client.call("to", (None, "end"), timeout=TIMEOUT)
        for listener in listeners:
            assert listener.ended.wait(TIMEOUT), f"no end marker for the client on {listener.pid}"
        assert [m.news for m in members] == [["first", "second"]] * len(members)
        assert outsider.news == []
    finally:
        for listener in listeners:
            listener.client.disconnect()
