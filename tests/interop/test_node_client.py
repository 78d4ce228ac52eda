"""socket.io-client 4.x (Node, from npm) against a real wsgi_sio server.

Each test runs one scenario of ``tests/interop/js/scenarios.mjs`` in a Node process; the
script prints one JSON line with what the client observed and this file checks the values.
Run over WebSocket only, long-polling only, and polling upgraded to WebSocket, behind gevent's
pywsgi handler and behind gevent-websocket's handler. Binary values come back from the script
as ``{"$hex": "..."}``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

JS_DIR = ROOT / "tests" / "interop" / "js"
SCRIPT = JS_DIR / "scenarios.mjs"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(NODE is None, reason="node is not installed (Node.js 18+ is needed)"),
    pytest.mark.skipif(not (JS_DIR / "node_modules" / "socket.io-client").is_dir(),
                       reason="tests/interop/js/node_modules is missing: run `make setup` "
                              "(npm install in tests/interop/js)"),
]

TRANSPORTS = ["websocket", "polling", "polling,websocket"]


def hexed(data: bytes) -> dict[str, str]:
    return {"$hex": data.hex()}


def run(url: str, transports: str, scenario: str) -> dict[str, Any]:
    assert NODE is not None
    proc = subprocess.run([NODE, str(SCRIPT), url, transports, scenario], cwd=ROOT,
                          check=False, capture_output=True, text=True, timeout=60)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    result = json.loads(lines[0])
    assert result["ok"] is True and proc.returncode == 0, (result, proc.stderr)
    assert result["scenario"] == scenario
    assert result["transports"] == transports.split(",")
    return result


@pytest.fixture(params=["pywsgi", "gevent-websocket"])
def url(request: pytest.FixtureRequest) -> str:
    name = "interop_server" if request.param == "pywsgi" else "interop_server_gevent_websocket"
    return request.getfixturevalue(name).url


@pytest.fixture(params=TRANSPORTS)
def transports(request: pytest.FixtureRequest) -> str:
    return request.param


def final_transport(transports: str) -> str:
    return transports.split(",")[-1]


def test_connect_with_auth_gets_welcome_and_distinct_ids(url, transports):
    seen = run(url, transports, "connect_auth")
    assert seen["welcome"] == [{"user": "ann"}]
    assert seen["whoami"] == {"sid": seen["sid"], "namespace": "/chat", "auth": {"user": "ann"}}
    assert isinstance(seen["sid"], str) and seen["sid"]
    assert isinstance(seen["engine_id"], str) and seen["engine_id"]
    assert seen["sid"] != seen["engine_id"]  # the Socket.IO id is not the Engine.IO id
    assert seen["transport_at_open"] == transports.split(",")[0]
    assert seen["transport"] == final_transport(transports)  # upgrade really ends on websocket


def test_refused_connection_reports_message_and_data(url, transports):
    seen = run(url, transports, "refused")
    assert seen["error"] == {"message": "refused", "data": {"code": 401}}


def test_unknown_namespace_is_refused(url, transports):
    seen = run(url, transports, "invalid_namespace")
    # socket.io-client sets err.data only when the CONNECT_ERROR payload has "data"
    assert seen["error"] == {"message": "Invalid namespace", "data": None}


def test_acks_both_ways_and_binary(url, transports):
    seen = run(url, transports, "acks_binary")
    # client -> server with ack; Buffer and Uint8Array nested in the arguments, both ways
    assert seen["echo"] == [
        {"blob": hexed(b"\x00\x01\xff"),
         "list": [hexed(b"abc"), 1, "é"],
         "nested": {"deep": [{"bytes": hexed("€".encode())}]}},
        hexed(b"raw"),
    ]
    assert seen["echo_binary_types"] == [True, True]  # binary, not JSON-ified objects
    # function handler; a returned tuple is the ack's argument list
    assert seen["ping"] == [1, "2"]
    # catch-all handler
    assert seen["catch_all"] == ["caught", "unheard_of", 5]
    # server -> client event with binary
    assert seen["bytes"] == [hexed(b"\x10\x20")]
    # server -> client call waiting for the client's ack, inside a handler
    assert seen["ask"] == "answer to life"
    # server -> client emit with a callback
    assert seen["told"] == ["answer to x"]
    assert seen["questions"] == [["question", "life"], ["question", "x"]]
    if "," not in transports:
        assert seen["transport"] == transports
    else:
        assert seen["transport"] in ("polling", "websocket")  # the upgrade races the traffic


def test_failing_handler_keeps_the_connection(url, transports):
    seen = run(url, transports, "failing_handler")
    assert seen["echo"] == "still here"
    assert seen["connected"] is True


def test_rooms_and_broadcast_across_three_clients(url, transports):
    seen = run(url, transports, "rooms")
    assert seen["joins"] == [["red"], ["red"]]
    assert seen["to_room"] == [True, True]
    assert seen["to_room_others"] is True
    assert seen["broadcast"] is True
    assert seen["leave"] == []
    assert seen["syncs"] == ["sync", "sync"]
    # a: room emits including itself, not its own to_room_others, the broadcast, news after b left
    # b: left the room before news 2; c: never in the room, only the broadcast
    assert seen["received"] == {
        "a": [["welcome", {}], ["news", {"n": 1}], ["all", hexed(b"\x01")], ["news", {"n": 2}]],
        "b": [["welcome", {}], ["news", {"n": 1}], ["gossip"], ["all", hexed(b"\x01")]],
        "c": [["welcome", {}], ["all", hexed(b"\x01")]],
    }


def test_disconnect_both_ways(url, transports):
    seen = run(url, transports, "disconnect")
    assert seen["client_side_reason"] == "io client disconnect"
    # The server's disconnect log is shared by every client of the session's server, so other
    # entries may appear in the window; the one for this client must be there.
    assert ["/chat", "client namespace disconnect"] in seen["server_saw_client"]
    # server-initiated namespace disconnect, with the reference reasons on both sides
    assert seen["server_disconnect_reason"] == "io server disconnect"
    assert seen["other_connected"] is False
    assert seen["other_sid_cleared"] is True
    assert ["/chat", "server namespace disconnect"] in seen["server_saw_server"]
    assert seen["observer_echo"] == "still here"


@pytest.mark.parametrize("allowed", ["polling", "polling,websocket"])
def test_polling_with_upgrade_off_stays_on_polling(url, allowed):
    seen = run(url, allowed, "polling_only_upgrade_off")
    assert seen["transport_at_open"] == "polling"
    assert seen["transport"] == "polling"
    assert seen["upgrade_events"] == 0
    assert seen["echoes"] == [0, 1, 2, 3, 4]
