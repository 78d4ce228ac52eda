"""A worker of a gunicorn ``-w 4`` killed with SIGKILL while it owns sessions (issue 11; the plan
is §9.4 of docs/design/sessions-across-workers.md, the behaviour §4).

40 socket.io-client sessions (tests/interop/js/sessions.mjs with ``pause``) connect and ask
their owner's pid, then wait. The test kills one owner, waits until the process is gone (a
pidfd, not a sleep), asks for one of its sids with a raw polling GET, and lets the sessions
make their acks. Checked:

* the dead worker's sessions see one disconnect, reconnect (to another worker or the one
  gunicorn starts in its place) and get every ack in order, none from the dead pid;
* every other session sees no disconnect and connects once: the death of a worker costs the
  sessions it did not own nothing, even those whose connection it accepted and handed over
  (the polling-then-upgrade variant: each WebSocket may have been accepted by any worker);
* the dead worker's sid gets ``400 {"code": 1}`` from whichever worker takes the GET (under
  a hang guard, not a timing assertion).
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cluster import SESSIONS as DRIVER
from tests.support.cluster import Gunicorn, require_node
from tests.support.live import ROOT, assert_only_deliberate_tracebacks
from tests.support.raw_http import http

APP = "tests.apps.cluster:application"
WORKERS = 4
COUNT, CALLS = 40, 10
GUARD = 30  # seconds: a hang guard for each wait, never a measure of anything

VARIANTS = {"websocket": (["websocket"], False), "polling-upgrade": (["polling", "websocket"], True)}


class PausedSessions:
    """sessions.mjs with ``pause``: ``paused`` (index, owner, sid of each session) once all are
    connected; ``release()`` lets them go on; ``summary()`` is the driver's last line."""

    def __init__(self, url: str, transports: list[str], upgrade: bool) -> None:
        options = {"url": url, "count": COUNT, "calls": CALLS, "transports": transports,
                   "upgrade": upgrade, "pause": True, "timeout_ms": (GUARD * 2) * 1000}
        self.proc = subprocess.Popen([require_node(), str(DRIVER), json.dumps(options)], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        self.paused: list[dict[str, Any]] = self._line()["paused"]

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def _line(self) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=GUARD * 2 + 10)
        except queue.Empty:
            raise AssertionError("the driver printed nothing") from None
        if not line:
            assert self.proc.stderr is not None
            raise AssertionError("the driver ended early:\n" + self.proc.stderr.read())
        return json.loads(line)

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def summary(self) -> dict[str, Any]:
        result = self._line()
        self.proc.wait(timeout=GUARD)
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._pump_thread.join(timeout=GUARD)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def kill_and_wait(pid: int) -> None:
    """SIGKILL ``pid`` (not our child) and wait until it has exited: its pidfd turns readable."""
    fd = os.pidfd_open(pid)
    try:
        os.kill(pid, signal.SIGKILL)
        assert select.select([fd], [], [], GUARD)[0], f"worker {pid} still alive"
    finally:
        os.close(fd)


@pytest.fixture
def cluster() -> Iterator[Gunicorn]:
    server = Gunicorn(APP, WORKERS)
    server.wait_for_workers()
    yield server
    assert_only_deliberate_tracebacks(server.stop())


@pytest.mark.node
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_killed_workers_sessions_reconnect_and_the_others_never_notice(cluster, variant):
    transports, upgrade = VARIANTS[variant]
    driver = PausedSessions(cluster.url, transports, upgrade)
    try:
        owners = Counter(s["owner"] for s in driver.paused)
        assert None not in owners, driver.paused
        assert set(owners) <= set(cluster.worker_pids), (owners, cluster.worker_pids)
        # the busiest owner, so that others own sessions too (the kernel chose who accepted)
        victim, owned = owners.most_common(1)[0]
        assert owned < COUNT, f"one worker owns every session: {owners}"
        dead_sid = next(s["sid"] for s in driver.paused if s["owner"] == victim)
        kill_and_wait(victim)

        status, headers, body = http(cluster.url, "GET", f"/socket.io/?EIO=4&transport=polling&sid={dead_sid}")
        assert (status, json.loads(body)["code"]) == (400, 1), (status, body)
        assert int(headers["x-worker-pid"]) != victim

        driver.release()
        summary = driver.summary()
    finally:
        driver.close()

    assert summary["ok"] is True, summary.get("error")
    sessions = summary["sessions"]
    assert len(sessions) == COUNT
    problems = []
    for s in sessions:
        done = s["acks"] == CALLS and not s["bad_acks"] and not s["errors"]
        if s["owner"] == victim:
            ok = done and s["connects"] == 2 and len(s["disconnects"]) == 1 and victim not in s["pids"]
        else:
            ok = done and s["connects"] == 1 and not s["disconnects"] and s["pids"] == [s["owner"]]
        if not ok:
            problems.append(s)
    assert not problems, (f"victim {victim} owned {owned}; {len(problems)} sessions went wrong:\n"
                          + json.dumps(problems[:3]))
    # the reconnected sessions really were served by the survivors (or the new worker)
    moved = {pid for s in sessions if s["owner"] == victim for pid in s["pids"]}
    workers = cluster.wait_for_workers(WORKERS + 1, timeout=GUARD)  # gunicorn's respawn included
    assert moved and victim not in moved and moved <= set(workers), (moved, workers)
