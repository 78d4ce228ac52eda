"""Connection state recovery re-checks the Django login, end to end: the test project under
``runserver_sio`` in its own process (recovery on, a migrated SQLite file), a user logged in
through the site's login view, and socket.io-client 4.x in Node with that session cookie
(tests/interop/js/django_recovery.mjs). The transport is lost with
``socket.io.engine.close()``; while the client is away the login either stays or is ended
through the site's logout view, and the client reconnects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.live import ROOT, LiveServer, django_server

JS_DIR = ROOT / "tests" / "interop" / "js"
SCRIPT = JS_DIR / "django_recovery.mjs"
NODE = shutil.which("node")
PASSWORD = "correct horse"

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(NODE is None, reason="node is not installed (Node.js 18+ is needed)"),
    pytest.mark.skipif(not (JS_DIR / "node_modules" / "socket.io-client").is_dir(),
                       reason="tests/interop/js/node_modules is missing: run `make setup`"),
]

RECOVERABLE = {"transport close", "transport error"}


def manage(env: dict[str, str], *args: str) -> None:
    """``python -m django ARGS`` of the live test project, which must succeed."""
    proc = subprocess.run([sys.executable, "-m", "django", *args], cwd=ROOT, check=False, timeout=120,
                          capture_output=True, text=True,
                          env={**env, "DJANGO_SETTINGS_MODULE": "tests.django.live_settings"})
    assert proc.returncode == 0, f"{args}:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = str(tmp_path_factory.mktemp("live_db") / "db.sqlite3")
    env = {"TEST_LIVE_DATABASE": database, "TEST_RECOVERY_SECONDS": "60"}
    base = dict(os.environ, **env)
    manage(base, "migrate", "--noinput")
    manage({**base, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
           "createsuperuser", "--noinput", "--username", "ann", "--email", "ann@example.com")
    live = django_server("runserver_sio", "127.0.0.1:0", "--noreload", **env)
    yield live
    output = live.stop()
    assert "Traceback" not in output, output


@pytest.fixture(params=["websocket", "polling"])
def transports(request: pytest.FixtureRequest) -> str:
    return request.param


def log_in(server: LiveServer) -> str:
    """A fresh login through the site's login view; the Cookie header a browser would send."""
    session = requests.Session()
    answer = session.post(f"{server.url}/login/", data={"username": "ann", "password": PASSWORD}, timeout=10)
    assert answer.json() == {"user": "ann"}
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


def run(server: LiveServer, transports: str, scenario: str, cookie: str) -> dict[str, Any]:
    assert NODE is not None
    proc = subprocess.run([NODE, str(SCRIPT), server.url, transports, scenario], cwd=ROOT,
                          check=False, capture_output=True, text=True, timeout=90,
                          env=dict(os.environ, DJANGO_COOKIE=cookie))
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    result = json.loads(lines[0])
    assert result["ok"] is True and proc.returncode == 0, (result, proc.stderr)
    return result


def check_away(seen: dict[str, Any]) -> None:
    """Both sockets were ann's before the drop, had an event with an offset (what a client
    recovers from), and left the server recoverably."""
    before = seen["before"]
    assert before["private"]["whoami"]["user"] == "ann"
    assert before["private"]["received"] == [{"text": "before", "offsetIsString": True}]
    assert before["open"]["whoami"]["authenticated"] is True
    assert before["open"]["whoami"]["user"] == "ann"
    assert before["open"]["received"] == [{"text": "ann", "offsetIsString": True}]
    assert seen["serverReason"]["private"] in RECOVERABLE
    assert seen["serverReason"]["open"] in RECOVERABLE


def test_a_socket_still_logged_in_recovers(server, transports):
    seen = run(server, transports, "kept", log_in(server))
    check_away(seen)
    before, after = seen["before"], seen["after"]
    for name in ("private", "open"):
        assert after[name]["recovered"] is True, name
        assert after[name]["id"] == before[name]["id"], name
    assert after["private"]["whoami"]["user"] == "ann"
    assert after["open"]["whoami"] == {**before["open"]["whoami"], "recovered": True}
    # what the announce view sent while the socket was away came with the recovery, once;
    # skip_middlewares: on_connect did not run again (no second welcome)
    assert seen["announced"] == {"status": 200, "body": {"sent": True}}
    assert [event["text"] for event in after["private"]["received"]] == ["before", "while away"]
    assert after["open"]["received"] == before["open"]["received"]


def test_a_socket_logged_out_meanwhile_connects_anew(server, transports):
    seen = run(server, transports, "logged_out", log_in(server))
    check_away(seen)
    assert seen["logout"] == {"status": 200, "body": {"user": None}}
    before, after = seen["before"], seen["after"]
    # /open takes anyone: a new socket, not the kept one; its on_connect ran and it sees no login.
    assert after["open"]["recovered"] is False
    assert after["open"]["id"] not in (None, before["open"]["id"])
    assert after["open"]["whoami"] == {"sid": after["open"]["id"], "user": "", "authenticated": False,
                                      "recovered": False}
    assert [event["text"] for event in after["open"]["received"]] == ["ann", ""]
    # /private refuses anonymous users: its on_connect ran again and refused.
    assert after["private"]["refusal"] == {"message": "log in first", "data": {"login": "/accounts/login/"}}
    assert after["private"]["recovered"] is False
    assert after["private"]["connected"] is False
