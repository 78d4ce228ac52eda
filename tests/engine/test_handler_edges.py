"""Edges of running handlers in the WebSocket reader, over raw WebSocket to a real server:
order kept while a substitute reader runs, a waiting call() released by a disconnect, and a
client disconnected from inside on_connect."""

from __future__ import annotations

import json
import time

from tests.support.wire import acks_answering_pings as texts_until
from tests.support.wire import client_frame, connected, session
from wsgi_sio.protocol.websocket import Opcode


def test_events_keep_their_order_while_a_handler_waits_for_an_ack(interop_server, wire):
    ws, _ = connected(wire, interop_server.url)
    # One write, two events: the reader takes both in one read; the first handler then
    # waits for our acknowledgement, so a substitute reader takes over.
    ws.send(client_frame(Opcode.TEXT, b'421["ask","q"]') + client_frame(Opcode.TEXT, b'422["echo","second"]'))
    assert texts_until(ws, 1) == ['420["question","q"]']
    ws.send_text('423["echo","third"]')  # read by the substitute, behind "second"
    ws.send_text('430["answered"]')
    assert texts_until(ws, 3) == ['431["answered"]', '432["second"]', '433["third"]']


def test_a_call_waiting_on_a_client_that_leaves_ends_at_once(interop_server, wire):
    observer, _ = connected(wire, interop_server.url)
    observer.send_text('421["call_outcomes"]')
    before = json.loads(texts_until(observer, 1)[0][3:])[0].count("ConnectionError")

    ws, _ = connected(wire, interop_server.url)
    ws.send_text('42["ask_and_hold"]')
    assert texts_until(ws, 1)[0].startswith('420["question","hold"]')
    ws.close()  # gone while the server's call() waits (30 s timeout)

    deadline = time.monotonic() + 10  # far below the call's own timeout
    ack = 2
    while True:
        observer.send_text(f'42{ack}["call_outcomes"]')
        outcomes = json.loads(texts_until(observer, 1)[0][2 + len(str(ack)):])[0]
        if outcomes.count("ConnectionError") == before + 1:
            break
        assert time.monotonic() < deadline, outcomes
        ack += 1


def test_disconnect_inside_on_connect(interop_server, wire):
    ws, _ = session(wire, interop_server.url)
    ws.send_text("40/bounce,")
    connect, greeting, disconnect = texts_until(ws, 3)
    assert connect.startswith('40/bounce,{"sid":"'), connect
    assert greeting == '42/bounce,["hi"]'
    assert disconnect == "41/bounce,"
    # The namespace is free again: a new CONNECT is a new connection, not a protocol error.
    ws.send_text("40/bounce,")
    assert texts_until(ws, 3)[0].startswith('40/bounce,{"sid":"')
    ws.send_text("40")
    assert texts_until(ws, 1)[0].startswith('40{"sid":"')
