"""Issue 6, point 8: graceful shutdown on SIGTERM, with real processes and real clients.

``python -m wsgi_sio`` and gunicorn's ``GeventWebSocketWorker`` (SIGTERM to the master, as a
deployment stops it) serving tests/apps/lifecycle_app.py. At SIGTERM a raw WebSocket client
gets the Engine.IO ``close`` packet and then a Close frame 1001 "going away"; a
python-socketio client on long-polling sees its disconnect; a request for a new session on
a connection that was already open gets 503; the process exits with status 0, and gunicorn's
worker does so without reaching its graceful timeout (it would log "graceful timeout").
(``manage.py runserver_sio`` is tested the same way in tests/django/test_shutdown_runserver.py.)
"""

from __future__ import annotations

import http.client
import json
import signal
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
import socketio

from tests.support.lifecycle import APP
from tests.support.live import LiveServer
from tests.support.wire import Wire

TIMEOUT = 20


def ws_client(url: str) -> Wire:
    ws = Wire(url)
    assert ws.upgrade() == 101
    assert ws.recv_text().startswith('0{"sid":')
    ws.send_text("40")
    assert ws.recv_text().startswith("40{")
    return ws


def polling_client(url: str) -> tuple[socketio.Client, threading.Event]:
    gone = threading.Event()
    client = socketio.Client(reconnection=False)
    client.on("disconnect", lambda *args: gone.set())
    client.connect(url, transports=["polling"], wait_timeout=TIMEOUT)
    return client, gone


def keep_alive_connection(url: str) -> http.client.HTTPConnection:
    """An HTTP/1.1 connection that has served one request and is kept open."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.status == 200 and response.read() == b"lifecycle"
    return conn


def get(conn: http.client.HTTPConnection, target: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn.request("POST" if body is not None else "GET", target, body=body)
    response = conn.getresponse()
    return response.status, response.read()


class IdlePoller:
    """A long-polling session between two polls at SIGTERM: its close packet waits for its
    next GET, and the server keeps draining (new handshakes: 503) until it comes."""

    def __init__(self, url: str) -> None:
        self.conn = keep_alive_connection(url)
        status, body = get(self.conn, "/socket.io/?EIO=4&transport=polling")
        self.target = f"/socket.io/?EIO=4&transport=polling&sid={json.loads(body[1:])['sid']}"
        assert get(self.conn, self.target, b"40") == (200, b"ok")
        status, body = get(self.conn, self.target)
        assert status == 200 and body.startswith(b"40{"), body

    def next_poll(self) -> bytes:
        while True:
            status, body = get(self.conn, self.target)
            assert status == 200, body
            if body != b"2":
                return body
            assert get(self.conn, self.target, b"3") == (200, b"ok")


def check_graceful_shutdown(server: LiveServer, signal_target: Any) -> str:
    ws = ws_client(server.url)
    client, gone = polling_client(server.url)
    idle = IdlePoller(server.url)
    spare = keep_alive_connection(server.url)
    try:
        signal_target.send_signal(signal.SIGTERM)
        # The WebSocket client: the close packet, then Close 1001 "going away", then EOF.
        texts = []
        while True:
            frame = ws.recv_frame()
            if frame.opcode == 0x8:
                break
            texts.append(frame.text)
            if frame.text == "2":
                ws.send_text("3")
        assert texts and texts[-1] == "1", texts
        assert frame.close_code == 1001 and frame.payload[2:] == b"going away", frame
        ws.assert_eof()
        # The polling client learns it from its pending GET.
        assert gone.wait(TIMEOUT), "the polling client saw no disconnect"
        # New sessions are refused while the process drains.
        status, body = get(spare, "/socket.io/?EIO=4&transport=polling")
        assert status == 503 and json.loads(body)["message"] == "Server shutting down", body
        # The idle poller's next GET brings its close packet; then the process is done.
        assert idle.next_poll().split(b"\x1e")[-1] == b"1"
        assert server.proc.wait(timeout=60) == 0
    finally:
        ws.close()
        spare.close()
        idle.conn.close()
        client.disconnect()
        output = server.stop()
    return output


def test_python_m_wsgi_sio_shuts_down_gracefully_on_sigterm():
    server = LiveServer(APP)
    output = check_graceful_shutdown(server, server.proc)
    assert "Traceback" not in output, output


@pytest.mark.parametrize("worker", ["geventwebsocket.gunicorn.workers.GeventWebSocketWorker"])
def test_gunicorn_worker_shuts_down_gracefully_on_sigterm(worker):
    server = LiveServer("", command=[
        sys.executable, "-m", "gunicorn", "-k", worker, "-w", "1", "--graceful-timeout", "60",
        "--bind", "127.0.0.1:0", APP], ready=r"Listening at: (http://\S+)")
    output = check_graceful_shutdown(server, server.proc)
    assert "graceful timeout" not in output, output
    assert "Traceback" not in output, output
