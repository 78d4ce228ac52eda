"""Sessions across hosts: two gunicorns (``-w 2`` each, two ports) behind nginx with a plain
round-robin upstream and no sticky sessions (issue 11; §9.3 of
docs/design/sessions-across-workers.md). A session's requests alternate between the two
gunicorns, so besides the hand-off between the workers of one gunicorn, a request that reaches
the other gunicorn has to be relayed to the owner's (found through the Redis manager).

The same checks as tests/interop/test_cluster_gunicorn.py: 100 socket.io-client sessions of 20
ordered acks over polling only, polling upgraded to WebSocket, and WebSocket only; every session
connects once, never disconnects, and gets every ack in order; more than one worker answered.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import (
    Gunicorn,
    Nginx,
    assert_sessions_succeeded,
    check_adopted,
    redis_env,
    run_sessions,
)
from tests.support.live import assert_only_deliberate_tracebacks

APP = "tests.apps.cluster:application"
SESSIONS, CALLS = 100, 20

VARIANTS = {
    "polling": (["polling"], False),
    "polling-upgrade": (["polling", "websocket"], True),
    "websocket": (["websocket"], False),
}


@pytest.fixture(scope="module")
def gunicorns(redis_url: str) -> Iterator[list[Gunicorn]]:
    env = redis_env(redis_url)  # one channel prefix: the two are one cluster
    servers: list[Gunicorn] = []
    try:
        for _ in range(2):
            servers.append(Gunicorn(APP, 2, env=env))
        for server in servers:
            server.wait_for_workers()
        yield servers
    finally:
        outputs = [server.stop() for server in servers]
    for output in outputs:
        assert_only_deliberate_tracebacks(output)


@pytest.fixture(scope="module")
def nginx(gunicorns: list[Gunicorn], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    prefix: Path = tmp_path_factory.mktemp("nginx")
    server = Nginx(prefix, [g.address for g in gunicorns])
    yield server
    output = server.stop()
    assert "[emerg]" not in output and "[alert]" not in output, output


def test_nginx_alternates_between_the_gunicorns(nginx, gunicorns):
    """The setup itself: plain requests through nginx reach both gunicorns (round robin)."""
    pids = set()
    for _ in range(4):
        with urllib.request.urlopen(nginx.url + "/whoami", timeout=10) as response:
            pids.add(int(response.read()))
    assert {g for g in range(2) if pids & set(gunicorns[g].worker_pids)} == {0, 1}, pids


@pytest.mark.node
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_node_sessions_survive_round_robin(nginx, gunicorns, variant):
    transports, upgrade = VARIANTS[variant]
    summary = run_sessions(nginx.url, SESSIONS, CALLS, transports, upgrade=upgrade)
    assert_sessions_succeeded(summary, SESSIONS, CALLS)
    assert set(summary["pids"]) <= {pid for g in gunicorns for pid in g.worker_pids}
    final = "websocket" if "websocket" in transports else "polling"
    assert {s["transport"] for s in summary["sessions"]} == {final}
    if upgrade:
        assert all(s["upgraded"] for s in summary["sessions"])
    if variant != "websocket":
        check_adopted(summary)
