"""Connection state recovery with socket.io-client 4.x (Node) against a real wsgi_sio server.

Each test runs one scenario of ``tests/interop/js/recovery.mjs`` against
``tests/apps/recovery_app.py`` over WebSocket and over long-polling; the script prints what
the client observed as one JSON line. The connection is lost with
``socket.io.engine.close()`` and restored with ``socket.connect()``; every wait is on an
event (expiry moves the server's injected recovery clock).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import LiveServer, assert_only_deliberate_tracebacks

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "tests" / "interop" / "js"
SCRIPT = JS_DIR / "recovery.mjs"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(NODE is None, reason="node is not installed (Node.js 18+ is needed)"),
    pytest.mark.skipif(not (JS_DIR / "node_modules" / "socket.io-client").is_dir(),
                       reason="tests/interop/js/node_modules is missing: run `make setup`"),
]

RECOVERABLE = {"transport close", "transport error"}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer("tests.apps.recovery_app:application")
    yield live
    assert_only_deliberate_tracebacks(live.stop())


@pytest.fixture(params=["websocket", "polling"])
def transports(request: pytest.FixtureRequest) -> str:
    return request.param


def run(server: LiveServer, transports: str, scenario: str) -> dict[str, Any]:
    assert NODE is not None
    proc = subprocess.run([NODE, str(SCRIPT), server.url, transports, scenario], cwd=ROOT,
                          check=False, capture_output=True, text=True, timeout=90)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    result = json.loads(lines[0])
    assert result["ok"] is True and proc.returncode == 0, (result, proc.stderr)
    return result


def test_a_lost_transport_recovers_every_number_once_in_order(server, transports):
    seen = run(server, transports, "stream")
    assert seen["serverReason"] in RECOVERABLE
    assert seen["id"] == seen["before"]
    assert seen["recovered"] is True
    assert seen["numbers"] == list(range(150))
    assert seen["offsetsAreStrings"] is True
    assert seen["missedFrom"] < 150  # it came back before the stream ended...
    assert seen["numbers"][seen["missedFrom"]] <= 60  # ...and had missed numbers to replay
    # a private socket.emit while it was away is kept for it too
    assert [args[0] for args in seen["privates"]] == ["while away"]
    assert isinstance(seen["privates"][0][-1], str)
    who = seen["whoami"]
    assert who["sid"] == seen["before"] and who["recovered"] is True
    assert len(who["rooms"]) == 1  # its room came back
    assert who["connects"] == 1  # skip_middlewares: on_connect did not run again


def test_a_forged_pid_gets_a_fresh_socket_and_leaves_the_owner_alone(server, transports):
    seen = run(server, transports, "forged")
    forger = seen["forger"]
    assert forger["recovered"] is False
    assert forger["id"] != seen["before"]["id"]
    assert forger["whoami"]["rooms"] == []
    # on_connect ran and still sees the auth the client sent
    assert forger["whoami"]["auth"] == {"pid": "x" * 22, "offset": seen["before"]["offset"]}
    assert seen["owner"] == {"id": seen["before"]["id"], "recovered": True}


def test_a_pid_works_once(server, transports):
    seen = run(server, transports, "reused")
    assert seen["owner"] == {"id": seen["before"]["id"], "recovered": True}
    assert seen["again"]["recovered"] is False
    assert seen["again"]["id"] != seen["before"]["id"]


def test_an_expired_session_is_not_recovered(server, transports):
    seen = run(server, transports, "expired")
    assert seen["after"]["recovered"] is False
    assert seen["after"]["id"] != seen["before"]["id"]
    assert seen["whoami"]["rooms"] == []
    assert seen["whoami"]["auth"]["pid"] == seen["before"]["pid"]


def test_an_explicit_disconnect_is_not_recovered(server, transports):
    seen = run(server, transports, "explicit")
    assert seen["serverReason"] == "client namespace disconnect"
    assert seen["after"]["recovered"] is False
    assert seen["after"]["id"] != seen["before"]
    assert seen["whoami"]["rooms"] == []


def test_without_skip_middlewares_on_connect_runs_again(server, transports):
    seen = run(server, transports, "strict_accepted")
    assert seen["after"] == {"id": seen["before"]["id"], "recovered": True}
    who = seen["whoami"]
    assert who["recovered_in_on_connect"] is True and who["connects"] == 2
    assert len(who["rooms"]) == 1


def test_without_skip_middlewares_on_connect_may_refuse(server, transports):
    seen = run(server, transports, "strict_refused")
    assert seen["refusal"] == "no recovery here"
