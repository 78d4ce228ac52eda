"""Long-polling fallback under a WSGI server without gevent or WebSocket (a threaded wsgiref,
like Django's runserver): same app, no configuration change, the handshake offers no upgrade."""

from __future__ import annotations

import json
import socketserver
import threading
import urllib.request
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import socketio

from tests.apps.interop import application


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def threaded_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, application, server_class=ThreadingWSGIServer,
                         handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_handshake_offers_no_upgrade(threaded_url: str) -> None:
    with urllib.request.urlopen(threaded_url + "/socket.io/?EIO=4&transport=polling", timeout=5) as r:
        body = r.read().decode()
    assert body.startswith("0{")
    assert json.loads(body[1:])["upgrades"] == []


def test_site_is_passed_through(threaded_url: str) -> None:
    with urllib.request.urlopen(threaded_url + "/anything", timeout=5) as r:
        assert r.read() == b"the wrapped WSGI app"


def test_python_client_works_over_polling(threaded_url: str) -> None:
    client = socketio.Client(reconnection=False)
    client.on("question", lambda q: "answer to " + q, namespace="/chat")
    try:
        client.connect(threaded_url, namespaces=["/chat"], transports=["polling", "websocket"],
                       auth={"user": "t"}, wait_timeout=10)
        assert client.transport() == "polling"
        echoed = client.call("echo", (b"\x01\x02", "é"), namespace="/chat", timeout=10)
        assert echoed == (b"\x01\x02", "é")
        # a handler blocking on the client's ack, with threads instead of greenlets
        assert client.call("ask", "q", namespace="/chat", timeout=10) == "answer to q"
    finally:
        client.disconnect()
