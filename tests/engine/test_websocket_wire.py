"""The WebSocket transport byte by byte: raw TCP clients against a real server process.

Every test speaks RFC 6455 by hand (masked client frames out, unmasked server frames parsed
here) so what is checked is what is on the wire: the open packet's exact text, close codes in
the server's Close frame, and that the TCP connection really ends. The Socket.IO tests run
behind gevent's pywsgi handler and behind gevent-websocket's handler; the malformed-handshake
tests only behind pywsgi, where wsgi_sio always answers the handshake itself (behind
gevent-websocket it does so only once ``green.claim_upgrades`` has taken effect).

No sleeps: every read has a socket timeout, and timers are watched through what arrives.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Iterator

import pytest

from tests.support.live import LiveServer, assert_only_deliberate_tracebacks
from tests.support.wire import (
    OPEN_WS,
    SID,
    SOCKET_SID,
    WS_QUERY,
    Wire,
    acks_answering_pings,
    answer,
    client_frame,
    connected,
    polling,
    session,
)
from wsgi_sio.protocol.websocket import Opcode


@pytest.fixture(params=["pywsgi", "gevent-websocket"])
def server(request: pytest.FixtureRequest) -> LiveServer:
    name = "interop_server" if request.param == "pywsgi" else "interop_server_gevent_websocket"
    return request.getfixturevalue(name)


# -- a direct WebSocket session -----------------------------------------------------------------


def test_direct_session_handshake_and_namespace_connect(server, wire):
    ws = wire(server.url)
    assert ws.upgrade() == 101
    assert ws.headers["upgrade"].lower() == "websocket"
    first = ws.recv_frame()
    assert first.fin and first.rsv == 0 and first.opcode == Opcode.TEXT
    engine_sid = OPEN_WS.fullmatch(first.text)
    assert engine_sid, first.text
    ws.send_text("40")
    reply = ws.recv_text()
    assert reply.startswith("40{"), reply
    payload = json.loads(reply[2:])
    # §2.4: exactly the key "sid", and the Socket.IO id is not the Engine.IO id.
    assert list(payload) == ["sid"]
    assert re.fullmatch(SOCKET_SID, payload["sid"]) and payload["sid"] != engine_sid.group(1)
    assert ws.recv_text() == '42["welcome",{}]'


def test_event_with_ack(server, wire):
    ws, _ = connected(wire, server.url)
    ws.send_text('421["echo","x"]')
    assert ws.recv_text() == '431["x"]'
    ws.send_text('4212["echo",{"a":[1,"é"]},null]')
    assert ws.recv_text() == '4312[{"a":[1,"é"]},null]'


def test_binary_event_with_binary_ack(server, wire):
    ws, _ = connected(wire, server.url)
    blob = bytes(range(256)) * 3
    # An ack needs an id: "451-[...]" alone is an event nobody may answer (§2.5).
    ws.send_text('451-0["echo",{"_placeholder":true,"num":0}]')
    ws.send_binary(blob)
    assert ws.recv_text() == '461-0[{"_placeholder":true,"num":0}]'
    frame = ws.recv_frame()
    # §1.6: a binary frame is the raw message, with no Engine.IO type byte.
    assert frame.opcode == Opcode.BINARY and frame.fin
    assert frame.payload == blob


def test_client_ping_frame_gets_pong_with_same_payload(server, wire):
    ws, _ = session(wire, server.url)
    ws.send(client_frame(Opcode.PING, b"are you there?"))
    frame = ws.recv_frame()
    assert (frame.opcode, frame.payload) == (Opcode.PONG, b"are you there?")
    # The session is unaffected.
    ws.send_text("40")
    assert ws.recv_text().startswith("40{")
    assert ws.recv_text() == '42["welcome",{}]'


def test_client_close_frame_is_answered_and_connection_ends(server, wire):
    ws, _ = connected(wire, server.url)
    ws.send(client_frame(Opcode.CLOSE, struct.pack("!H", 1000) + b"bye"))
    frame = ws.recv_close()
    assert frame.close_code == 1000
    ws.assert_eof()


def disconnect_count(wire, url: str, entry: list[str]) -> int:
    """How often the interop app's disconnect handler has recorded ``entry``."""
    ws, _ = connected(wire, url)
    ws.send_text('4299["disconnects"]')
    reply = ws.recv_text()
    assert reply.startswith("4399["), reply
    return json.loads(reply[4:])[0].count(entry)


def test_socketio_parse_error_closes_the_connection_and_reports_disconnect(server, wire):
    """The close comes from the greenlet running handlers, not the one reading the socket;
    the TCP connection must still end and the disconnect handler still run."""
    entry = ["/chat", "parse error"]
    before = disconnect_count(wire, server.url, entry)
    ws, _ = session(wire, server.url)
    ws.send_text("40/chat,")
    assert ws.recv_text().startswith("40/chat,{")
    assert ws.recv_text() == '42/chat,["welcome",{}]'
    ws.send_text("42/chat,not json")
    assert ws.recv_close().close_code in (None, 1000)
    ws.assert_eof()
    # The handler runs after the close, in the connection's worker: ask until it shows.
    for _ in range(50):
        if disconnect_count(wire, server.url, entry) == before + 1:
            break
    else:
        raise AssertionError("disconnect handler did not run with reason 'parse error'")


# -- framing errors: the close code is on the wire and the connection ends -----------------------


FRAMING_ERRORS = {
    "rsv1-set": (client_frame(Opcode.TEXT, b"40", rsv=4), 1002),
    "rsv3-set": (client_frame(Opcode.TEXT, b"40", rsv=1), 1002),
    "reserved-opcode-0x3": (client_frame(0x3, b"40"), 1002),
    "reserved-opcode-0xb": (client_frame(0xB, b""), 1002),
    "unmasked": (client_frame(Opcode.TEXT, b"40", masked=False), 1002),
    "invalid-utf8": (client_frame(Opcode.TEXT, b"4\xff\xfe"), 1007),
    "truncated-utf8": (client_frame(Opcode.TEXT, b"4caf\xc3"), 1007),
    # Only the header and mask are sent: the server must refuse without waiting for 1 TiB.
    "announces-2**40-bytes": (client_frame(Opcode.BINARY, b"", length=2**40), 1009),
    "announces-maxPayload+1": (client_frame(Opcode.TEXT, b"", length=1_000_001), 1009),
}


@pytest.mark.parametrize("name", FRAMING_ERRORS)
def test_framing_error_closes_with_code(server, wire, name):
    data, code = FRAMING_ERRORS[name]
    ws, _ = connected(wire, server.url)
    ws.send(data)
    frame = ws.recv_close()
    assert frame.close_code == code, frame
    ws.assert_eof()


def test_message_before_a_bad_frame_in_one_write_is_handled_then_closed(server, wire):
    """Autobahn 3.2 / 5.15: the frames before the bad one still count (§7.1.7 fails after)."""
    ws, _ = connected(wire, server.url)
    ws.send(client_frame(Opcode.TEXT, b'421["echo","first"]') + client_frame(Opcode.TEXT, b"x", rsv=2))
    assert ws.recv_text() == '431["first"]'
    assert ws.recv_close().close_code == 1002
    ws.assert_eof()


def test_framing_error_during_upgrade_probe_closes_with_code(server, wire):
    """The probing WebSocket gets the same treatment; the polling session survives it."""
    status, body = answer(polling(server.url))
    assert status == 200
    sid = json.loads(body[1:])["sid"]
    ws = wire(server.url)
    assert ws.upgrade(f"{WS_QUERY}&sid={sid}") == 101
    ws.send(client_frame(Opcode.TEXT, b"2probe", rsv=2))
    assert ws.recv_close().close_code == 1002
    ws.assert_eof()
    assert answer(polling(server.url, "POST", sid, b"40")) == (200, b"ok")
    status, body = answer(polling(server.url, sid=sid))
    assert status == 200 and body.startswith(b"40{"), body


# -- malformed handshakes on our path: 4xx with a reason, never a 500 ----------------------------


BAD_HANDSHAKES = {
    "key-not-base64": ({"key": "not base64 at all!"}, 400),
    "key-8-bytes": ({"key": base64.b64encode(b"8 bytes!").decode()}, 400),
    "key-17-bytes": ({"key": base64.b64encode(b"x" * 17).decode()}, 400),
    "key-empty": ({"key": ""}, 400),
    "upgrade-h2c": ({"upgrade": "h2c"}, 400),
    "version-8": ({"version": "8"}, 426),
    "version-missing": ({"version": ""}, 426),
}


@pytest.mark.parametrize("name", BAD_HANDSHAKES)
def test_malformed_handshake_is_refused(interop_server, wire, name):
    """Behind pywsgi, where wsgi_sio answers the handshake itself."""
    kwargs, status = BAD_HANDSHAKES[name]
    ws = wire(interop_server.url)
    assert ws.upgrade(**kwargs) == status, (ws.status, ws.body)
    assert ws.body, "the refusal says what was wrong"
    if status == 426:  # RFC 6455 §4.4
        assert ws.headers["sec-websocket-version"] == "13"
    # The unread upgrade is not mistaken for a keep-alive request.
    assert ws.headers["connection"].lower() == "close"
    ws.assert_eof()


def test_h2c_upgrade_on_a_polling_handshake_is_plain_polling(server, wire):
    """We speak no HTTP/2: ``Upgrade: h2c`` is ignored and the request served as HTTP/1.1."""
    ws = wire(server.url)
    assert ws.upgrade("EIO=4&transport=polling", upgrade="h2c") == 200
    assert ws.body.startswith(b'0{"sid":"'), ws.body


def test_gevent_websocket_malformed_handshake_after_a_websocket_first_request(wire):
    server = LiveServer("tests.apps.interop:application", "--handler", "gevent-websocket")
    try:
        session(wire, server.url)  # a websocket-only client is the server's first visitor
        ws = wire(server.url)
        assert ws.upgrade(key="not base64 at all!") == 400, (ws.status, ws.body)
        ws = wire(server.url)
        assert ws.upgrade(version="8") == 426, (ws.status, ws.body)
    finally:
        output = server.stop()
    assert "Traceback" not in output, output


# -- upgrade from polling ---------------------------------------------------------------------


def test_upgrade_dance(server, wire):
    status, body = answer(polling(server.url))
    assert status == 200
    open_packet = json.loads(body[1:])
    assert body[:1] == b"0" and open_packet["upgrades"] == ["websocket"]
    sid = open_packet["sid"]

    # The client's outstanding GET, sent before the probe and answered only after it.
    pending = polling(server.url, sid=sid)
    ws = wire(server.url)
    assert ws.upgrade(f"{WS_QUERY}&sid={sid}") == 101
    ws.send_text("2probe")
    assert ws.recv_text() == "3probe"
    assert answer(pending) == (200, b"6")  # §1.7 step 2: a noop ends the pending poll
    ws.send_text("5")

    ws.send_text("40")
    reply = ws.recv_text()
    assert reply.startswith("40{") and list(json.loads(reply[2:])) == ["sid"], reply
    assert ws.recv_text() == '42["welcome",{}]'
    ws.send_text('427["echo","over websocket"]')
    assert ws.recv_text() == '437["over websocket"]'

    # §1.7 step 5: polling with the sid is now a transport mismatch...
    conn = polling(server.url, sid=sid)
    response = conn.getresponse()
    assert response.status == 400
    assert response.getheader("Content-Type") == "application/json"
    assert response.read() == b'{"code":3,"message":"Bad request"}'
    conn.close()

    # ...and a second WebSocket for it is turned away as the reference server's onWebSocket
    # does for a client already upgraded: the handshake completes (101), then that connection
    # alone is closed, before any Engine.IO packet (no open packet, no 3probe).
    second = wire(server.url)
    assert second.upgrade(f"{WS_QUERY}&sid={sid}") == 101, (second.status, second.body)
    frame = second.recv_frame()
    assert frame.opcode == Opcode.CLOSE, frame
    assert frame.close_code in (None, 1000), frame
    second.assert_eof()

    # The upgraded session is untouched by both refusals.
    ws.send_text('428["echo","still here"]')
    assert ws.recv_text() == '438["still here"]'


def test_probe_with_unknown_sid(server, wire):
    """400 before any 101, as the reference server's ``abortUpgrade`` (§1.9), behind both
    handlers: behind gevent-websocket too, since wsgi_sio answers the handshakes on its path
    itself (``green.claim_upgrades``; a request to it first makes sure of that)."""
    assert answer(polling(server.url))[0] == 200
    ws = wire(server.url)
    assert ws.upgrade(f"{WS_QUERY}&sid=AAAAAAAAAAAAAAAAAAAA") == 400, (ws.status, ws.body)
    # Node also sends Connection: close and destroys the socket; wsgi_sio keeps the
    # connection alive (the request had no body, so that is valid HTTP/1.1).
    assert ws.body == b'{"code":1,"message":"Session ID unknown"}'


# -- the server's heartbeat and connect timeout (tests/apps/fast_heartbeat.py) -----------------

FAST_PING_INTERVAL = 0.3
FAST_PING_TIMEOUT = 0.3
OPEN_FAST = re.compile(
    r'0\{"sid":"(' + SID + r')","upgrades":\[\],"pingInterval":300,'
    r'"pingTimeout":300,"maxPayload":1000000\}')


@pytest.fixture(scope="module", params=["pywsgi", "gevent-websocket"])
def fast_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    extra = ("--handler", "gevent-websocket") if request.param == "gevent-websocket" else ()
    server = LiveServer("tests.apps.fast_heartbeat:application", *extra)
    yield server
    assert_only_deliberate_tracebacks(server.stop())


def fast_connected(wire, url: str) -> Wire:
    ws = wire(url)
    assert ws.upgrade() == 101
    assert OPEN_FAST.fullmatch(ws.recv_text())
    ws.send_text("40")
    reply = ws.recv_text()
    assert reply.startswith("40{"), reply
    return ws


def test_server_pings_and_pongs_keep_the_session(fast_server, wire):
    ws = fast_connected(wire, fast_server.url)
    # Four rounds span more than interval + timeout twice over: only the pongs keep it open.
    for _ in range(4):
        assert ws.recv_text() == "2"
        ws.send_text("3")
    assert ws.recv_text() == "2"


def fast_disconnects(wire, url: str) -> list[str]:
    """The disconnect reasons the fast app has recorded, asked over a fresh session."""
    ws = fast_connected(wire, url)
    ws.send_text('421["disconnects"]')
    while True:
        text = ws.recv_text()
        if text != "2":  # a heartbeat may come first
            break
        ws.send_text("3")
    assert text.startswith("431["), text
    # Leave cleanly (reason "transport close"), or this session would time out as well.
    ws.send(client_frame(Opcode.CLOSE, struct.pack("!H", 1000)))
    ws.recv_close()
    ws.assert_eof()
    return json.loads(text[3:])[0]


def test_unanswered_ping_closes_the_connection(fast_server, wire):
    before = fast_disconnects(wire, fast_server.url).count("ping timeout")
    ws = fast_connected(wire, fast_server.url)
    assert ws.recv_text() == "2"
    # No pong: within pingTimeout (+ the 5 s socket timeout as margin) the server closes.
    try:
        frame = ws.recv_close()
    except EOFError:
        pass
    else:
        assert frame.close_code in (None, 1000), frame
        ws.assert_eof()
    # The timer's close also ends the Socket.IO side (§1.8: reason "ping timeout"); its
    # handler runs in the connection's worker after the close, so ask until it shows.
    for _ in range(20):
        if fast_disconnects(wire, fast_server.url).count("ping timeout") == before + 1:
            break
    else:
        raise AssertionError("disconnect handler did not run with reason 'ping timeout'")


def test_no_namespace_connect_closes_after_connect_timeout(fast_server, wire):
    ws = wire(fast_server.url)
    assert ws.upgrade() == 101
    assert OPEN_FAST.fullmatch(ws.recv_text())
    # Pings are answered, so only connect_timeout (0.5 s, §2.4) can end this session.
    while True:
        try:
            frame = ws.recv_frame()
        except EOFError:
            break
        if frame.opcode == Opcode.CLOSE:
            assert frame.close_code in (None, 1000), frame
            ws.assert_eof()
            break
        assert frame.text in ("2", "1"), frame
        if frame.text == "2":
            ws.send_text("3")


def test_a_blocking_handler_outlasting_the_heartbeat_keeps_the_session(fast_server, wire):
    # Over WebSocket handlers run in the reading greenlet; while one blocks for several
    # ping intervals, the pongs must still be read, and later events wait their turn.
    ws = fast_connected(wire, fast_server.url)
    ws.send_text('421["slow",1.5]')
    ws.send_text('422["slow",0]')
    assert acks_answering_pings(ws, 2) == ['431["done"]', '432["done"]']
    ws.send_text('423["slow",0]')
    assert acks_answering_pings(ws, 1) == ['433["done"]']
