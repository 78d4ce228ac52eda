"""runserver_sio and runserver_socketio as real processes: one port for the site, polling and
WebSocket, the autoreloader, and the Origin refusal of a WebSocket handshake before its 101."""

from __future__ import annotations

import json
import os

import pytest
import requests
import websocket

from tests.support.live import ROOT, django_server, free_port


def check_one_port(url: str) -> None:
    handshake = requests.get(f"{url}/socket.io/?EIO=4&transport=polling", timeout=5)
    info = json.loads(handshake.text[1:])
    assert info["upgrades"] == ["websocket"]   # gevent: the upgrade is on offer
    ws = websocket.create_connection(url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
                                     timeout=5)
    try:
        assert ws.recv().startswith("0{")
    finally:
        ws.close()


def test_runserver_sio_serves_socketio_and_websocket_on_one_port():
    server = django_server("runserver_sio", "127.0.0.1:0", "--noreload")
    try:
        check_one_port(server.url)
        with pytest.raises(websocket.WebSocketBadStatusException) as info:
            websocket.create_connection(
                server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
                origin="https://evil.example", timeout=5)
        assert info.value.status_code == 403   # refused before any 101
        assert b'"code":4' in info.value.resp_body
    finally:
        output = server.stop()
    assert "Traceback" not in output, output


def test_runserver_socketio_honours_socketio_port():
    port = free_port()
    server = django_server("runserver_socketio", "--noreload", TEST_SOCKETIO_PORT=str(port))
    try:
        assert server.url == f"http://127.0.0.1:{port}"
        check_one_port(server.url)
    finally:
        server.stop()


def test_runserver_sio_restarts_on_code_changes():
    server = django_server("runserver_sio", "127.0.0.1:0")
    try:
        check_one_port(server.url)
        watched = ROOT / "tests" / "django" / "live_settings.py"
        stat = watched.stat()
        os.utime(watched, (stat.st_atime, stat.st_mtime + 5))   # as an editor's save would
        try:
            restarted = server.wait_for_address(timeout=20)  # the reloader's new child is up
        finally:
            os.utime(watched, (stat.st_atime, stat.st_mtime))
        check_one_port(restarted)
    finally:
        output = server.stop()
    assert "Watching for file changes" in output
    assert "live_settings.py changed, reloading" in output
