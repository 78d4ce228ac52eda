"""Sessions across the workers of ``python -m wsgi_sio --workers 4`` (issue 11, design §6 and
step 4): the project's own pre-fork server shares one port between its workers as gunicorn
does, and hands a session's requests to their owner the same way. The checks of
tests/interop/test_cluster_gunicorn.py: 100 socket.io-client sessions of 20 ordered acks, over
polling, polling upgraded to WebSocket, and WebSocket; every session connects once, never
disconnects, gets every ack in order; more than one worker answered, and owners adopted
requests that reached their siblings.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import assert_sessions_succeeded, check_adopted, run_sessions
from tests.support.live import LiveServer, assert_only_deliberate_tracebacks

APP = "tests.apps.cluster:application"
WORKERS = 4
SESSIONS, CALLS = 100, 20
VARIANTS = {
    "polling": (["polling"], False),
    "polling-upgrade": (["polling", "websocket"], True),
    "websocket": (["websocket"], False),
}


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(p) for p in (task / "children").read_text().split()}
    return found


@pytest.fixture(scope="module")
def prefork() -> Iterator[LiveServer]:
    server = LiveServer(APP, "--workers", str(WORKERS))
    try:
        # the master listens before its workers have loaded the app: wait until they all answer
        answered: set[int] = set()
        deadline = time.monotonic() + 30
        while len(answered) < WORKERS and time.monotonic() < deadline:
            with urllib.request.urlopen(server.url + "/pid", timeout=10) as response:
                answered.add(int(response.read()))
        assert len(answered) == WORKERS, answered
        yield server
    finally:
        output = server.stop()
    assert_only_deliberate_tracebacks(output)


@pytest.mark.node
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_node_sessions_survive_any_prefork_worker(prefork: LiveServer, variant: str) -> None:
    transports, upgrade = VARIANTS[variant]
    summary = run_sessions(prefork.url, SESSIONS, CALLS, transports, upgrade=upgrade)
    assert_sessions_succeeded(summary, SESSIONS, CALLS)
    workers = children(prefork.proc.pid)
    assert set(summary["pids"]) <= workers, (summary["pids"], workers)
    if variant != "websocket":
        check_adopted(summary)
