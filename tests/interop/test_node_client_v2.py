"""socket.io-client 2.5.0 (Engine.IO v3, Socket.IO protocol v4; npm alias socket.io-client-v2)
against a real wsgi_sio server with ``allow_eio3=True`` (tests/apps/eio3.py), alone and in a
room with a socket.io-client 4.x, over WebSocket, long-polling and the upgrade.

Each test runs one scenario of ``tests/interop/js/scenarios_v2.mjs``, which prints one JSON
line of what the clients observed. In Node, socket.io-client 2.x polls with ``b64=1`` (its
XMLHttpRequest has no XHR2 binary), so the XHR2 payloads are covered on the wire
(tests/engine/test_eio3_wire.py) rather than here.
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
SCRIPT = JS_DIR / "scenarios_v2.mjs"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(NODE is None, reason="node is not installed (Node.js 18+ is needed)"),
    pytest.mark.skipif(not (JS_DIR / "node_modules" / "socket.io-client-v2").is_dir(),
                       reason="tests/interop/js/node_modules/socket.io-client-v2 is missing: run "
                              "`make setup` (npm install in tests/interop/js)"),
]


def hexed(data: bytes) -> dict[str, str]:
    return {"$hex": data.hex()}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = LiveServer("tests.apps.eio3:application")
    yield server.url
    assert_only_deliberate_tracebacks(server.stop())


@pytest.fixture(scope="module")
def url_gevent_websocket() -> Iterator[str]:
    server = LiveServer("tests.apps.eio3:application", "--handler", "gevent-websocket")
    yield server.url
    assert_only_deliberate_tracebacks(server.stop())


@pytest.fixture(params=["websocket", "polling", "polling,websocket"])
def transports(request: pytest.FixtureRequest) -> str:
    return request.param


def run(url: str, transports: str, scenario: str) -> dict[str, Any]:
    assert NODE is not None
    proc = subprocess.run([NODE, str(SCRIPT), url, transports, scenario], cwd=ROOT,
                          check=False, capture_output=True, text=True, timeout=60)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    result = json.loads(lines[0])
    assert result["ok"] is True and proc.returncode == 0, (result, proc.stderr)
    assert result["scenario"] == scenario
    return result


def test_events_acks_and_binary_both_ways(url, transports):
    seen = run(url, transports, "basics")
    assert seen["welcome"] == {}  # connected to "/" without asking; auth is {}
    assert seen["id"] == seen["engine_id"]  # 2.x derives the id of "/" from the engine's
    assert seen["whoami"] == [{"sid": seen["id"], "namespace": "/", "auth": {}}]
    assert seen["echo"] == [{"blob": hexed(b"\x00\x01\xff"), "n": 1}, hexed(b"raw"), "é😀"]
    assert seen["echo_is_binary"] is True
    assert seen["bytes"] == [hexed(b"\x10\x20")]
    assert seen["ask"] == ["answer to life"]  # the server's call() answered by the client
    assert seen["told"] == ["answer to x"]
    assert seen["transport"] == transports.split(",")[-1]


def test_namespaces_with_query_auth_and_refusals(url, transports):
    seen = run(url, transports, "namespaces")
    assert seen["welcome"] == {"user": "ann"}
    assert seen["id"] == f"/chat#{seen['engine_id']}"
    assert seen["whoami"] == [{"sid": seen["id"], "namespace": "/chat", "auth": {"user": "ann"}}]
    assert seen["refused"] == {"code": 42}
    assert seen["refused_plain"] == "Not authorized"
    assert seen["invalid"] == "Invalid namespace"


def test_a_v2_and_a_v4_client_share_a_room(url, transports):
    seen = run(url, transports, "mixed_room")
    assert seen["modern_got"] == ["v2 says", hexed(b"\x01\x02\x03")]
    assert seen["old_got_own"] == ["v2 says", hexed(b"\x01\x02\x03")]
    assert seen["old_got"] == ["v4 says", hexed(b"\x04\x05")]


@pytest.mark.parametrize("transports", ["websocket", "polling"])
def test_client_pings_and_server_pongs(url, transports):
    seen = run(url, transports, "heartbeat")
    assert seen["echo"] == ["still here"]
    assert seen["connected"] is True


@pytest.mark.parametrize("transports", ["websocket", "polling,websocket"])
def test_behind_gevent_websocket(url_gevent_websocket, transports):
    seen = run(url_gevent_websocket, transports, "basics")
    assert seen["echo"] == [{"blob": hexed(b"\x00\x01\xff"), "n": 1}, hexed(b"raw"), "é😀"]
    assert seen["bytes"] == [hexed(b"\x10\x20")]
    assert seen["transport"] == "websocket"
