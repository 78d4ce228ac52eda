"""Fixtures of the hardening tests: a real server of tests/apps/hardening.py per module, and one
of tests/apps/lifecycle_app.py with its ``monitor`` client. The raw HTTP helpers and the checks
every hostile-input test ends with are in tests/support/ (raw_http.py, checks.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.checks import APP
from tests.support.lifecycle import APP as LIFECYCLE_APP
from tests.support.lifecycle import Monitor
from tests.support.live import LiveServer, assert_only_deliberate_tracebacks


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(APP)
    yield live
    output = live.stop()
    assert_only_deliberate_tracebacks(output)
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """A server of the lifecycle app (tests/apps/lifecycle_app.py), one per test module."""
    server = LiveServer(LIFECYCLE_APP)
    yield server
    output = server.stop()
    assert "Traceback" not in output, output


@pytest.fixture
def monitor(live: LiveServer) -> Iterator[Monitor]:
    """A WebSocket client of ``live`` that answers pings and asks the app's test-only events."""
    mon = Monitor(live.url)
    yield mon
    mon.close()
