"""The checks every hostile-input test of tests/hardening/ ends with, against the hardening app
(tests/apps/hardening.py): the server still serves another client (``assert_healthy``), and ran
no handler for the hostile input (``handler_calls`` before, ``assert_no_handler_ran`` after:
the app counts its handler calls and answers the count to a ``calls`` event)."""

from __future__ import annotations

import json

from tests.support.raw_http import http
from tests.support.wire import recv_app_text, ws_connected

APP = "tests.apps.hardening:application"


def handler_calls(url: str) -> int:
    """How many handler calls the server has made, asked over a fresh connection (the
    connect of that connection counts one)."""
    ws = ws_connected(url)
    try:
        ws.send_text('4290["calls"]')
        reply = recv_app_text(ws)
        assert reply.startswith("4390["), reply
        return json.loads(reply[4:])[0]
    finally:
        ws.close()


def assert_healthy(url: str) -> None:
    """Another client's echo still works, over WebSocket and over polling."""
    ws = ws_connected(url)
    try:
        ws.send_text('4277["echo","still alive"]')
        assert recv_app_text(ws) == '4377["still alive"]'
    finally:
        ws.close()
    status, _, body = http(url, "GET", "/socket.io/?EIO=4&transport=polling")
    assert status == 200 and body.startswith(b'0{"sid":'), (status, body)


def assert_no_handler_ran(url: str, before: int, connects: int = 0) -> None:
    """Since ``before`` was taken, nothing ran but the counting connection's own connect and
    at most ``connects`` connect handlers of the test's own connections."""
    assert before + 1 <= handler_calls(url) <= before + 1 + connects
