"""Point 9 of issue 6: 10,000 numbered messages each way across a polling-to-WebSocket
upgrade arrive complete, in order, without duplicates.

Raw Engine.IO: the client sends ``seq n`` events (0..9999), the server's handler emits
``seq n`` back. Half go over polling, some while the upgrade probe is in flight, the rest
over the WebSocket. The server's echo order is the order its handler saw the events in, so
one list checks both directions."""

from __future__ import annotations

import json

from tests.support.raw_http import http
from tests.support.wire import Wire, client_frame, recv_app_text
from wsgi_sio.protocol.websocket import Opcode

N = 10_000


def seq_numbers(body: bytes) -> tuple[list[int], bool]:
    """The ``seq`` numbers in a polling body, and whether it held a noop."""
    numbers, noop = [], False
    for packet in body.decode().split("\x1e"):
        if packet.startswith('42["seq",'):
            numbers.append(json.loads(packet[2:])[1])
        elif packet == "6":
            noop = True
        elif packet == "2":
            pass  # a ping: answered by the next POST
        else:
            assert packet.startswith("40"), packet
    return numbers, noop


def test_ten_thousand_messages_each_way_across_an_upgrade(server):
    status, _, body = http(server.url, "GET", "/socket.io/?EIO=4&transport=polling")
    sid = json.loads(body[1:])["sid"]
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    assert http(server.url, "POST", target, b"40")[0] == 200
    received: list[int] = []
    sent = 0

    def post(count: int) -> None:
        nonlocal sent
        packets = ["3"] + [f'42["seq",{n}]' for n in range(sent, sent + count)]
        assert http(server.url, "POST", target, "\x1e".join(packets).encode())[:3:2] == (200, b"ok")
        sent += count

    # 1. over polling
    while sent < 5_000:
        post(500)
        while len(received) < sent:
            status, _, body = http(server.url, "GET", target)
            assert status == 200, body
            received += seq_numbers(body)[0]

    # 2. during the probe: events posted, the probe answered, polling drained to its noop
    post(500)
    ws = Wire(server.url)
    try:
        assert ws.upgrade(f"EIO=4&transport=websocket&sid={sid}") == 101
        ws.send_text("2probe")
        assert ws.recv_text() == "3probe"
        post(500)
        while True:
            status, _, body = http(server.url, "GET", target)
            assert status == 200, body
            numbers, noop = seq_numbers(body)
            received += numbers
            if noop:
                break
        ws.send_text("5")

        # 3. over the WebSocket
        frames = b"".join(_frame(f'42["seq",{n}]') for n in range(sent, N))
        ws.send(frames)
        sent = N
        while len(received) < N:
            text = recv_app_text(ws)
            assert text.startswith('42["seq",'), text
            received.append(json.loads(text[2:])[1])
    finally:
        ws.close()
    assert received == list(range(N))


def _frame(text: str) -> bytes:
    return client_frame(Opcode.TEXT, text.encode())
