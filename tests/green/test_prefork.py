"""``python -m wsgi_sio APP --workers N`` (wsgi_sio.green.prefork), with real processes.

The workers share the port, a dead worker is replaced, SIGTERM stops them all, a master whose
workers cannot start gives up, and a child outlives no master. Which worker answered comes
from tests/apps/prefork_app.py (``/pid``); fresh connections let the kernel pick again.
"""

from __future__ import annotations

import http.client
import os
import queue
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.live import LiveServer, assert_only_deliberate_tracebacks
from tests.support.python_client import connect

APP = "tests.apps.prefork_app"
#: hang guard for the waits below, never a measure of anything
PATIENCE = 30.0


@pytest.fixture
def three() -> Iterator[LiveServer]:
    server = LiveServer(APP, "--workers", "3")
    yield server
    server.stop()


def answering_pid(url: str) -> int:
    """The pid of the worker that answers ``/pid`` on a fresh connection."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", "/pid", headers={"Connection": "close"})
        response = conn.getresponse()
        assert response.status == 200
        return int(response.read())
    finally:
        conn.close()


def pids_until(url: str, done: Callable[[set[int]], bool]) -> set[int]:
    """Ask ``/pid`` on fresh connections until ``done(pids seen)`` (a hang guard bounds it)."""
    seen: set[int] = set()
    deadline = time.monotonic() + PATIENCE
    while not done(seen):
        assert time.monotonic() < deadline, f"only {seen} answered"
        seen.add(answering_pid(url))
    return seen


def _stat(pid: int) -> tuple[str, int] | None:
    """State and parent of process ``pid`` from /proc, or None when it is gone."""
    try:
        state, ppid = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[:2]
    except (OSError, ValueError):
        return None
    return state, int(ppid)


def children_of(pid: int) -> set[int]:
    """Live children of ``pid`` (a zombie is not live)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] != "Z":
                found.add(int(entry.name))
    return found


def _live(pids: set[int]) -> set[int]:
    """Which of ``pids`` still run (a zombie, left for whoever adopted it, does not)."""
    return {pid for pid in pids if (stat := _stat(pid)) is not None and stat[0] != "Z"}


def wait_for_line(server: LiveServer, text: str) -> str:
    """The next line the server prints that contains ``text``."""
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            line = server.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no {text!r} in:\n" + "".join(server.output)) from None
        assert line, f"the server exited before {text!r}:\n" + "".join(server.output)
        if text in line:
            return line


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)  # polling a condition the OS gives no event for


def test_the_workers_share_the_port_and_the_master_says_so_once(three: LiveServer) -> None:
    seen = pids_until(three.url, lambda pids: len(pids) >= 2)
    assert seen <= children_of(three.proc.pid)
    assert three.proc.pid not in seen
    output = three.stop()
    assert output.count("serving on") == 1
    assert "wsgi_sio: 3 workers\n" in output
    assert_only_deliberate_tracebacks(output)


def test_a_killed_worker_is_replaced(three: LiveServer) -> None:
    wait_until(lambda: len(children_of(three.proc.pid)) == 3, "not 3 workers")
    before = children_of(three.proc.pid)
    victim = answering_pid(three.url)
    os.kill(victim, signal.SIGKILL)
    wait_for_line(three, f"worker {victim} was killed by SIGKILL; starting another")
    wait_until(lambda: len(children_of(three.proc.pid)) == 3, "no third worker again")
    newcomer, = children_of(three.proc.pid) - before
    seen = pids_until(three.url, lambda pids: newcomer in pids)  # the new worker serves
    assert victim not in seen
    assert_only_deliberate_tracebacks(three.stop())


def test_sigterm_stops_the_master_and_every_worker(three: LiveServer) -> None:
    pids_until(three.url, lambda pids: len(pids) >= 2)
    workers = children_of(three.proc.pid)
    assert len(workers) == 3
    three.proc.send_signal(signal.SIGTERM)
    assert three.proc.wait(timeout=PATIENCE) == 0, "".join(three.output)
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert_only_deliberate_tracebacks(three.stop())


def test_workers_that_cannot_start_make_the_master_give_up() -> None:
    server = LiveServer("tests.apps.no_such_module", "--workers", "2")
    try:
        assert server.proc.wait(timeout=PATIENCE) == 1
    finally:
        output = server.stop()
    assert "ModuleNotFoundError: No module named 'tests.apps.no_such_module'" in output
    assert "5 times in a row; stopping" in output


def test_workers_stop_when_their_master_dies() -> None:
    server = LiveServer(APP, "--workers", "2")
    try:
        pids_until(server.url, lambda pids: len(pids) >= 1)
        workers = children_of(server.proc.pid)
        server.proc.kill()
        server.proc.wait(timeout=PATIENCE)
        wait_until(lambda: not _live(workers), f"workers {workers} outlived the master")
    finally:
        server.stop()


def test_a_socketio_client_over_websocket_works_with_two_workers() -> None:
    server = LiveServer(APP, "--workers", "2")
    try:
        client, recorder = connect(server.url, ["websocket"])
        try:
            assert recorder.next("welcome") == ({},)
            assert client.call("echo", ("hello", 42), namespace="/chat", timeout=10) == ("hello", 42)
        finally:
            client.disconnect()
    finally:
        output = server.stop()
    assert_only_deliberate_tracebacks(output)
