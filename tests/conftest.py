"""Shared fixtures: real servers in real processes, on 127.0.0.1 and a free port (the
helpers they are built on are in tests/support/, which test modules import).

And ``--require-all``: a plain run skips what the machine lacks (Node, redis-server, the
redis extra) and says so under ``-rs``; with ``--require-all``, or ``CI=true`` in the
environment, every skip fails the run instead, so that a missing dependency cannot pass as
a few skipped tests. Skipped tests become failures; a skipped module or directory (an
``importorskip`` at import, as in tests/managers/conftest.py) becomes a collection error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import LiveServer, assert_only_deliberate_tracebacks
from tests.support.wire import Wire

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


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The Redis on 127.0.0.1:6379 when one answers, else a private ``redis-server`` on a
    free port, for the whole session (so ``make test`` passes on a fresh machine). Tests that
    share it keep apart by key. Skips the test without the redis extra: the import is here,
    not at the top, so that tests needing no Redis run without it."""
    from tests.support.redis_peers import RedisServer, answers

    shared = "redis://127.0.0.1:6379/0"
    if answers(shared):
        yield shared
        return
    server = RedisServer()
    try:
        yield server.url
    finally:
        server.cleanup()


@pytest.fixture
def wire() -> Iterator:
    """``wire(url)`` opens a raw connection (``Wire`` of tests/support/wire.py) for speaking
    HTTP and WebSocket by hand; all are closed after the test."""
    opened: list[Wire] = []

    def open_(url: str) -> Wire:
        conn = Wire(url)
        opened.append(conn)
        return conn

    yield open_
    for conn in opened:
        conn.close()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless Chromium, driven by Playwright (no browser download): one for the
    whole run, since Playwright's sync API allows one running instance per thread."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield launched
        launched.close()
