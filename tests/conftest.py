"""Shared fixtures: real servers in real processes, on 127.0.0.1 and a free port.

And ``--require-all``: a plain run skips what the machine lacks (Node, redis-server, the
redis extra) and says so under ``-rs``; with ``--require-all``, or ``CI=true`` in the
environment, every skip fails the run instead, so that a missing dependency cannot pass as
a few skipped tests. Skipped tests become failures; a skipped module or directory (an
``importorskip`` at import, as in tests/redis/conftest.py) becomes a collection error.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent


# -- --require-all: no silent skips ----------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--require-all", action="store_true", default=False,
                     help="fail the run on any skip (as CI=true does): every optional "
                          "dependency of the suite must be there")


def require_all(config: pytest.Config) -> bool:
    return bool(config.getoption("require_all", False)) or \
        os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _skip_fails(report: pytest.TestReport | pytest.CollectReport) -> None:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = f"skipped, and --require-all (or CI=true) allows no skip: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    # An xfail is reported as skipped too (with ``wasxfail``); it is an expected failure,
    # not a test that did not run.
    if report.skipped and not hasattr(report, "wasxfail") and require_all(item.config):
        _skip_fails(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    if report.skipped and require_all(collector.config):
        _skip_fails(report)
    return report


class LiveServer:
    """``python -m wsgi_sio APP --bind 127.0.0.1:0`` in a subprocess; ``url`` once it listens."""

    def __init__(self, app: str, *extra: str, command: list[str] | None = None,
                 ready: str = r"serving on (http://\S+?)/?$") -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        command = command or [sys.executable, "-m", "wsgi_sio", app, "--bind", "127.0.0.1:0", *extra]
        self.ready = re.compile(ready)
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        self.url = self._wait_for_address(timeout=20)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put("")

    def _wait_for_address(self, timeout: float) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise RuntimeError("server did not start:\n" + "".join(self.output)) from None
            if not line:
                raise RuntimeError("server exited:\n" + "".join(self.output))
            match = self.ready.search(line.strip())
            if match:
                return match.group(1)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._pump_thread.join(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return "".join(self.output)


def assert_only_deliberate_tracebacks(output: str) -> None:
    """The server logged no traceback but those of the handler that fails on purpose."""
    for block in output.split("Traceback (most recent call last):")[1:]:
        assert "RuntimeError: this handler fails on purpose" in block, output


@pytest.fixture(scope="session")
def interop_server() -> Iterator[LiveServer]:
    server = LiveServer("tests.apps.interop:application")
    yield server
    assert_only_deliberate_tracebacks(server.stop())


@pytest.fixture(scope="session")
def interop_server_gunicorn() -> Iterator[LiveServer]:
    """The same app under gunicorn's GeventWebSocketWorker, as deployments run it."""
    server = LiveServer("", command=[
        sys.executable, "-m", "gunicorn", "-k", "geventwebsocket.gunicorn.workers.GeventWebSocketWorker",
        "-w", "1", "--bind", "127.0.0.1:0", "tests.apps.interop:application"],
        ready=r"Listening at: (http://\S+)")
    yield server
    assert_only_deliberate_tracebacks(server.stop())


@pytest.fixture(scope="session")
def interop_server_gevent_websocket() -> Iterator[LiveServer]:
    """The same app behind gevent-websocket's WebSocketHandler instead of plain pywsgi."""
    server = LiveServer("tests.apps.interop:application", "--handler", "gevent-websocket")
    yield server
    assert_only_deliberate_tracebacks(server.stop())


@pytest.fixture
def wire() -> Iterator:
    """``wire(url)`` opens a raw connection (``Wire`` of tests/engine/test_websocket_wire.py)
    for speaking HTTP and WebSocket by hand; all are closed after the test."""
    from tests.engine.test_websocket_wire import Wire

    opened: list[Wire] = []

    def open_(url: str) -> Wire:
        conn = Wire(url)
        opened.append(conn)
        return conn

    yield open_
    for conn in opened:
        conn.close()
