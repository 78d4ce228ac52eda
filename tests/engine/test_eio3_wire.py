"""Engine.IO v3 / Socket.IO protocol v4 clients on the wire, against a real server with
``allow_eio3=True`` (tests/apps/eio3.py), next to v4 clients on the same path
(PROTOCOL-NOTES-WAVE2 §1). Every request is spoken by hand; nothing sleeps."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.support.live import LiveServer, assert_only_deliberate_tracebacks
from tests.support.wire import TIMEOUT, Wire
from wsgi_sio.protocol import engineio3
from wsgi_sio.protocol.engineio import Packet, PacketType

M = PacketType.MESSAGE
OPEN = re.compile(r'(\d+):0(\{"sid":"([^"]+)","upgrades":\[("websocket")?\],"pingInterval":5000,'
                  r'"pingTimeout":5000,"maxPayload":1000000\})')


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = LiveServer("tests.apps.eio3:application")
    yield server.url
    assert_only_deliberate_tracebacks(server.stop())


def request(url: str, method: str, query: str, body: bytes | None = None,
            content_type: str | None = None) -> tuple[int, str, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT + 5)
    headers = {"Content-Type": content_type} if content_type else {}
    try:
        conn.request(method, f"/socket.io/?{query}", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def handshake(url: str, query: str = "EIO=3&transport=polling") -> str:
    status, content_type, body = request(url, "GET", query)
    assert status == 200 and content_type.startswith("text/plain"), (status, body)
    text = body.decode()
    match = OPEN.match(text)
    assert match, text
    assert int(match.group(1)) == len(match.group(2)) + 1  # "<len>:0{...}"
    return match.group(3)


def get(url: str, sid: str, extra: str = "") -> list[Packet]:
    status, content_type, body = request(url, "GET", f"EIO=3&transport=polling&sid={sid}{extra}")
    assert status == 200, (status, body)
    if content_type == engineio3.BINARY_CONTENT_TYPE:
        return engineio3.decode_binary_payload(body)
    return engineio3.decode_payload(body.decode())


def post(url: str, sid: str, body: str | bytes) -> tuple[int, bytes]:
    binary = isinstance(body, bytes)
    status, _, answer = request(url, "POST", f"EIO=3&transport=polling&sid={sid}",
                                body if binary else body.encode(),
                                engineio3.BINARY_CONTENT_TYPE if binary else "text/plain;charset=UTF-8")
    return status, answer


def messages(url: str, sid: str, count: int, extra: str = "") -> list[str | bytes]:
    """The data of the next ``count`` messages (Socket.IO packets), polling as often as needed."""
    seen: list[str | bytes] = []
    while len(seen) < count:
        for packet in get(url, sid, extra):
            assert packet.type is M, packet
            seen.append(packet.data)  # type: ignore[arg-type]
    return seen


def connected(url: str, query: str = "EIO=3&transport=polling") -> str:
    """A polling v3 session past its implicit connection to "/" and the welcome."""
    sid = handshake(url, query)
    assert messages(url, sid, 2) == ["0", '2["welcome",{}]']  # "2:40", "19:42[...]"
    return sid


# -- the handshake ----------------------------------------------------------------------------


def test_eio3_is_refused_with_code_5_when_not_allowed(interop_server) -> None:
    for query in ("EIO=3&transport=polling", "transport=polling"):
        status, _, body = request(interop_server.url, "GET", query)
        assert (status, json.loads(body)) == (400, {"code": 5, "message": "Unsupported protocol version"})


def test_v3_handshake_then_implicit_connection_to_root(url) -> None:
    connected(url)


def test_a_missing_eio_is_v3(url) -> None:
    connected(url, "transport=polling")


def test_v4_clients_on_the_same_path_are_unchanged(url) -> None:
    status, _, body = request(url, "GET", "EIO=4&transport=polling")
    assert status == 200 and body.startswith(b'0{"sid":'), body
    sid = json.loads(body[1:])["sid"]
    status, _, answer = request(url, "POST", f"EIO=4&transport=polling&sid={sid}", b"40")
    assert (status, answer) == (200, b"ok")
    status, _, body = request(url, "GET", f"EIO=4&transport=polling&sid={sid}")
    assert body.startswith(b'40{"sid":'), body  # no length prefix, a CONNECT with a sid


# -- heartbeat --------------------------------------------------------------------------------


def test_client_ping_gets_a_pong(url) -> None:
    sid = connected(url)
    assert post(url, sid, "1:2") == (200, b"ok")
    assert get(url, sid) == [Packet(PacketType.PONG)]


def test_a_pong_from_a_v3_client_ends_the_session(url) -> None:
    sid = connected(url)
    assert post(url, sid, "1:3") == (200, b"ok")
    status, _, body = request(url, "GET", f"EIO=3&transport=polling&sid={sid}")
    assert (status, json.loads(body)["code"]) == (400, 1)


# -- namespaces -------------------------------------------------------------------------------


def test_connect_to_a_namespace_with_a_query_as_auth(url) -> None:
    sid = connected(url)
    assert post(url, sid, engineio3.encode_payload([Packet(M, "0/chat?user=ann&n=1,")])) == (200, b"ok")
    assert messages(url, sid, 2) == ["0/chat,", '2/chat,["welcome",{"user":"ann","n":"1"}]']
    post(url, sid, engineio3.encode_payload([Packet(M, '2/chat,7["whoami"]')]))
    (reply,) = messages(url, sid, 1)
    assert isinstance(reply, str) and reply.startswith("3/chat,7")
    assert json.loads(reply[len("3/chat,7"):]) == [{"sid": f"/chat#{sid}", "namespace": "/chat",
                                                     "auth": {"user": "ann", "n": "1"}}]


@pytest.mark.parametrize(("nsp", "reply"), [
    ("/refuse", '4/refuse,{"code":42}'),
    ("/refuse-plain", '4/refuse-plain,"Not authorized"'),
    ("/nope", '4/nope,"Invalid namespace"'),
])
def test_refusals_are_error_packets_with_a_string_or_the_data(url, nsp, reply) -> None:
    sid = connected(url)
    post(url, sid, engineio3.encode_payload([Packet(M, f"0{nsp},")]))
    assert messages(url, sid, 1) == [reply]


# -- binary -----------------------------------------------------------------------------------

# Socket.IO packets (an Engine.IO message each: "4" in front on the wire)
ECHO_BIN = '51-0["echo",{"_placeholder":true,"num":0}]'
ACK_BIN = '61-0[{"_placeholder":true,"num":0}]'


def test_xhr2_binary_payloads_both_ways(url) -> None:
    sid = connected(url)
    body = engineio3.encode_binary_payload([Packet(M, ECHO_BIN), Packet(M, b"\x01\x02\xff")])
    assert post(url, sid, body) == (200, b"ok")
    _, content_type, answer = request(url, "GET", f"EIO=3&transport=polling&sid={sid}")
    assert content_type == "application/octet-stream"
    assert answer == engineio3.encode_binary_payload([Packet(M, ACK_BIN), Packet(M, b"\x01\x02\xff")])


def test_b64_sessions_get_base64_in_text_payloads(url) -> None:
    sid = connected(url, "EIO=3&transport=polling&b64=1")
    post(url, sid, engineio3.encode_payload([Packet(M, ECHO_BIN), Packet(M, b"\x01\x02\xff")]))
    _, content_type, answer = request(url, "GET", f"EIO=3&transport=polling&sid={sid}")
    assert content_type.startswith("text/plain")
    assert answer.decode() == f"{len(ACK_BIN) + 1}:4{ACK_BIN}6:b4AQL/"


# -- hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "abc", "99999999999:4x", "5:4hi", "4:b4!!", "2:9x", b"\x00\x09\x09\xff4", b"\x07", b"\x00\x02\xff\xc3\x28",
])
def test_bad_payloads_are_400_and_close_the_session(url, body) -> None:
    sid = connected(url)
    status, answer = post(url, sid, body)
    assert status == 400 and json.loads(answer)["code"] == 3, answer
    status, _, answer = request(url, "GET", f"EIO=3&transport=polling&sid={sid}")
    assert (status, json.loads(answer)["code"]) == (400, 1)


# -- WebSocket --------------------------------------------------------------------------------


def ws_open(url: str, query: str) -> Wire:
    ws = Wire(url)
    assert ws.upgrade(query) == 101, (ws.status, ws.body)
    return ws


def test_websocket_session_frames_binary_with_a_type_byte(url) -> None:
    ws = ws_open(url, "EIO=3&transport=websocket")
    try:
        assert ws.recv_text().startswith('0{"sid":')
        assert [ws.recv_text(), ws.recv_text()] == ["40", '42["welcome",{}]']
        ws.send_text("2")
        assert ws.recv_text() == "3"
        ws.send_text("4" + ECHO_BIN)
        ws.send_binary(b"\x04\x01\x02")
        assert ws.recv_text() == "4" + ACK_BIN
        frame = ws.recv_frame()
        assert (frame.opcode, frame.payload) == (2, b"\x04\x01\x02")
    finally:
        ws.close()


def test_websocket_b64_gets_base64_text_frames(url) -> None:
    ws = ws_open(url, "EIO=3&transport=websocket&b64=1")
    try:
        ws.recv_text()
        assert [ws.recv_text(), ws.recv_text()] == ["40", '42["welcome",{}]']
        ws.send_text("4" + ECHO_BIN)
        ws.send_text("b4AQI=")
        assert [ws.recv_text(), ws.recv_text()] == ["4" + ACK_BIN, "b4AQI="]
    finally:
        ws.close()


def test_upgrade_from_polling(url) -> None:
    sid = connected(url)
    ws = ws_open(url, f"EIO=3&transport=websocket&sid={sid}")
    try:
        ws.send_text("2probe")
        assert ws.recv_text() == "3probe"
        assert get(url, sid) == [Packet(PacketType.NOOP)]
        ws.send_text("5")
        ws.send_text("2")
        assert ws.recv_text() == "3"
        ws.send_text('42["emit_back","bin",{"a":1}]')
        assert ws.recv_text() == '42["bin",{"a":1}]'
    finally:
        ws.close()


def test_an_upgrade_must_speak_the_sessions_revision(url) -> None:
    sid = connected(url)
    ws = Wire(url)
    try:
        assert ws.upgrade(f"EIO=4&transport=websocket&sid={sid}") == 400
        assert json.loads(ws.body)["code"] == 3
    finally:
        ws.close()


def test_a_bad_binary_frame_closes_the_session(url) -> None:
    ws = ws_open(url, "EIO=3&transport=websocket")
    try:
        ws.recv_text()
        assert [ws.recv_text(), ws.recv_text()] == ["40", '42["welcome",{}]']
        ws.send_binary(b"\x02oops")
        assert ws.recv_close().close_code == 1000
    finally:
        ws.close()
