"""socket.io 0.9 clients on the wire (tests/apps/legacy09.py under ``python -m wsgi_sio``):
the handshake, xhr-polling and WebSocket spoken by hand, hostile input, and a 0.9 client and
a v4 client in one room."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.support.live import LiveServer
from tests.support.raw_http import http
from tests.support.wire import Wire

HANDSHAKE = re.compile(r"([A-Za-z0-9_-]{20}):60:60:websocket,xhr-polling")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    live = LiveServer("tests.apps.legacy09:application")
    yield live.url
    output = live.stop()
    assert "Traceback" not in output, output


def handshake(url: str) -> str:
    status, headers, body = http(url, "GET", "/socket.io/1/?t=1")
    assert status == 200 and headers["content-type"].startswith("text/plain"), (status, body)
    match = HANDSHAKE.fullmatch(body.decode())
    assert match, body
    return match.group(1)


def frames_of(body: str) -> list[str]:
    if not body.startswith("\ufffd"):
        return [body]
    parts = body.split("\ufffd")[1:]
    return parts[1::2]  # the test data holds no U+FFFD


class Polling:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sid = handshake(url)

    def get(self) -> list[str]:
        status, _, body = http(self.url, "GET", f"/socket.io/1/xhr-polling/{self.sid}?t=1")
        assert status == 200, body
        return frames_of(body.decode())

    def post(self, *frames: str) -> tuple[int, bytes]:
        body = frames[0] if len(frames) == 1 else "".join(
            f"\ufffd{len(f)}\ufffd{f}" for f in frames)
        status, _, reply = http(self.url, "POST", f"/socket.io/1/xhr-polling/{self.sid}",
                                body.encode())
        return status, reply

    def expect(self, count: int) -> list[str]:
        got: list[str] = []
        while len(got) < count:
            got += self.get()
        return got


def websocket(wire, url: str) -> tuple[Wire, str]:
    sid = handshake(url)
    ws = wire(url)
    assert ws.upgrade(query="t=1", path=f"/socket.io/1/websocket/{sid}") == 101
    assert ws.recv_text() == "1::"
    return ws, sid


def recv_skipping_heartbeats(ws: Wire) -> str:
    while True:
        text = ws.recv_text()
        if text != "2::":
            return text
        ws.send_text("2::")


def test_handshake_and_jsonp(server):
    handshake(server)
    status, headers, body = http(server, "GET", "/socket.io/1/?jsonp=3")
    assert status == 200 and "javascript" in headers["content-type"]
    assert re.fullmatch(r'io\.j\[3\]\("[A-Za-z0-9_-]{20}:60:60:websocket,xhr-polling"\);', body.decode())


def test_polling_namespaces_events_and_acks(server):
    client = Polling(server)
    assert client.get() == ["1::"]
    assert client.post("1::/chat") == (200, b"1")
    assert client.get() == ["1::/chat"]
    status, _ = client.post('5:1+:/chat:{"name":"double","args":[21]}', "3:7::hello")
    assert status == 200
    assert sorted(client.expect(3)) == sorted(["6::/chat:1+[42]", "6:::7", '4:::{"echoed":"hello"}'])
    # a refusal is "unauthorized"; a namespace nobody declared gets no answer at all
    client.post("1::/nope", "1::/refuse", "1::/echo")
    assert client.expect(2) == ["7::/refuse:2", "1::/echo"]


def test_server_side_ack_and_disconnect(server):
    client = Polling(server)
    assert client.get() == ["1::"]
    client.post('5:::{"name":"ask","args":["why?"]}')
    assert client.get() == ['5:0+::{"name":"question","args":["why?"]}']
    client.post('6:::0+["because"]')
    assert client.get() == ['5:::{"name":"answered","args":[["because"]]}']
    client.post("1::/chat")
    assert client.get() == ["1::/chat"]
    client.post('5::/chat:{"name":"bye"}')
    assert client.get() == ["0::/chat"]


def test_polling_errors(server):
    client = Polling(server)
    assert http(server, "GET", "/socket.io/1/xhr-polling/unknown0000000000000")[2] == b"7:::1+0"
    status, _, body = http(server, "GET", f"/socket.io/1/jsonp-polling/{client.sid}")
    assert (status, body) == (400, b"transport not supported: jsonp-polling")
    status, _, body = http(server, "GET", f"/socket.io/1/flashsocket/{client.sid}")
    assert status == 400
    assert client.post("garbage")[0] == 400
    assert client.post("\ufffd99\ufffd8::")[0] == 400
    status, reply = client.post(*["8::"] * 2000)
    assert status == 400 and b"more than 1000 frames" in reply
    status, _, body = http(server, "POST", f"/socket.io/1/xhr-polling/{client.sid}", b"\xff\xfe")
    assert status == 400
    status, _, _ = http(server, "POST", f"/socket.io/1/xhr-polling/{client.sid}", b"3:::" + b"a" * 1_000_001)
    assert status == 413
    # the session survived all of it
    assert client.get() == ["1::"]
    assert http(server, "GET", f"/socket.io/1/{client.sid}?disconnect=1")[0] == 200
    assert client.get() == ["7:::1+0"]


def test_websocket_heartbeat_echo_and_errors(wire, server):
    ws, _ = websocket(wire, server)
    assert ws.recv_text() == "2::"     # the server's heartbeat (interval 1 s in this app)
    ws.send_text("2::")
    ws.send_text("1::/echo")
    assert recv_skipping_heartbeats(ws) == "1::/echo"
    ws.send_text('5::/echo:{"name":"echo","args":["hello world"]}')
    assert recv_skipping_heartbeats(ws) == '5::/echo:{"name":"echo","args":["hello world"]}'
    ws.send_text("not a frame")
    assert recv_skipping_heartbeats(ws) == "7:::"
    ws.send_text('5::/echo:{"name":')
    assert recv_skipping_heartbeats(ws) == "7::/echo:"
    ws.send_text("0::")
    assert recv_skipping_heartbeats(ws) == "0::"
    ws.recv_close()


def test_websocket_for_an_unknown_session(wire, server):
    ws = wire(server)
    assert ws.upgrade(query="", path="/socket.io/1/websocket/unknown0000000000000") == 101
    assert ws.recv_text() == "7:::1+0"
    ws.recv_close()


def test_a_09_client_and_a_v4_client_in_one_room(wire, server):
    old, _ = websocket(wire, server)
    old.send_text("1::/chat")
    assert recv_skipping_heartbeats(old) == "1::/chat"
    old.send_text('5:1+:/chat:{"name":"join","args":["r"]}')
    assert recv_skipping_heartbeats(old) == '6::/chat:1+["joined r"]'

    new = wire(server)
    assert new.upgrade() == 101
    assert new.recv_text().startswith("0{")
    new.send_text("40/chat,")
    assert new.recv_text().startswith("40/chat,{")
    new.send_text('42/chat,1["join","r"]')
    assert new.recv_text() == '43/chat,1["joined r"]'

    new.send_text('42/chat,["say","r","from v4"]')
    assert recv_skipping_heartbeats(old) == '5::/chat:{"name":"said","args":[{"text":"from v4"}]}'
    assert json.loads(new.recv_text()[len("42/chat,"):]) == ["said", {"text": "from v4"}]

    old.send_text('5::/chat:{"name":"say","args":["r","from 0.9"]}')
    assert recv_skipping_heartbeats(old) == '5::/chat:{"name":"said","args":[{"text":"from 0.9"}]}'
    text = new.recv_text()
    while text == "2":   # v4 pings
        new.send_text("3")
        text = new.recv_text()
    assert json.loads(text[len("42/chat,"):]) == ["said", {"text": "from 0.9"}]
