"""Point 2 of issue 6, the WebSocket layer: hostile frames and handshakes on a real socket.

Framing errors already covered one frame each in tests/engine/test_websocket_wire.py (RSV,
reserved opcodes, unmasked, invalid UTF-8, huge announced lengths) are not repeated; these
add floods, fragmented and oversized control frames, limits summed over fragments, header
floods in the handshake, and the fairness of one flooding client against another's heartbeat.
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterator

import pytest

from tests.apps.hardening import LIMIT
from tests.support.checks import assert_healthy, assert_no_handler_ran, handler_calls
from tests.support.live import LiveServer, assert_only_deliberate_tracebacks
from tests.support.raw_http import address, assert_closed_by_server, read_response
from tests.support.wire import Wire, client_frame, recv_app_text, ws_connected
from wsgi_sio.protocol.websocket import Opcode, unmask


def close_code_after(ws: Wire, data: bytes) -> int | None:
    ws.send(data)
    frame = ws.recv_close()
    ws.assert_eof()
    return frame.close_code


HOSTILE = {
    # §5.5: control frames are never fragmented and carry at most 125 bytes
    "fragmented-ping": (client_frame(Opcode.PING, b"x", fin=False), 1002),
    "fragmented-close": (client_frame(Opcode.CLOSE, struct.pack("!H", 1000), fin=False), 1002),
    "ping-126-bytes": (client_frame(Opcode.PING, b"x" * 126), 1002),
    "pong-64-bit-length": (client_frame(Opcode.PONG, b"", length=2**40), 1002),
    "close-1-byte-body": (client_frame(Opcode.CLOSE, b"\x03"), 1002),
    "close-code-1005": (client_frame(Opcode.CLOSE, struct.pack("!H", 1005)), 1002),
    "close-reason-bad-utf8": (client_frame(Opcode.CLOSE, struct.pack("!H", 1000) + b"\xc3("), 1007),
    "continuation-first": (client_frame(Opcode.CONTINUATION, b"40"), 1002),
    "text-inside-fragmented-text": (client_frame(Opcode.TEXT, b"4", fin=False)
                                    + client_frame(Opcode.TEXT, b"2"), 1002),
    "all-rsv-bits": (client_frame(Opcode.TEXT, b"40", rsv=7), 1002),
    "opcode-0x7": (client_frame(0x7, b""), 1002),
    "opcode-0xf": (client_frame(0xF, b""), 1002),
    "64-bit-length-top-bit": (client_frame(Opcode.BINARY, b"", length=2**63), 1002),
    "invalid-utf8-in-second-fragment": (client_frame(Opcode.TEXT, b"4ok", fin=False)
                                        + client_frame(Opcode.CONTINUATION, b"\xed\xa0\x80"), 1007),
    # the limit is summed over fragments and refused from the header of the one past it
    "fragments-over-the-limit": (client_frame(Opcode.TEXT, b"4" + b"x" * (LIMIT - 1), fin=False)
                                 + client_frame(Opcode.CONTINUATION, b"", length=LIMIT), 1009),
    "announces-2**62": (client_frame(Opcode.TEXT, b"", length=2**62), 1009),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_frame_closes_with_its_code(server, name):
    data, code = HOSTILE[name]
    before = handler_calls(server.url)
    ws = ws_connected(server.url)
    try:
        assert close_code_after(ws, data) == code
    finally:
        ws.close()
    assert_no_handler_ran(server.url, before + 1)  # + the connect of ``ws``
    assert_healthy(server.url)


def test_flood_of_empty_continuation_frames_is_capped(server):
    """Empty fragments carry no payload but still cost the server a frame each: a message
    is also capped by the frames' header bytes, so an endless one ends in 1009."""
    ws = ws_connected(server.url)
    try:
        ws.send(client_frame(Opcode.TEXT, b"4", fin=False))
        empty = client_frame(Opcode.CONTINUATION, b"", fin=False)
        # Enough empty frames to exceed the limit in header bytes (6 bytes each), sent in
        # batches; the server closes partway, after which sending may fail.
        batch = empty * 4096
        try:
            for _ in range(LIMIT // len(batch) + 2):
                ws.send(batch)
        except (BrokenPipeError, ConnectionResetError):
            pass
        frame = ws.recv_close()
        assert frame.close_code == 1009
    finally:
        ws.close()
    assert_healthy(server.url)


def test_trickled_fragments_are_capped_by_bytes(server):
    """A message sent a byte per fragment is held to the same limit as a whole one."""
    ws = ws_connected(server.url)
    try:
        ws.send(client_frame(Opcode.TEXT, b"4", fin=False))
        one = client_frame(Opcode.CONTINUATION, b"x", fin=False)
        try:
            for _ in range(LIMIT // 512 + 2):
                ws.send(one * 512)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert ws.recv_close().close_code == 1009
    finally:
        ws.close()
    assert_healthy(server.url)


def test_pings_and_pongs_between_fragments_do_not_count_and_message_arrives(server):
    ws = ws_connected(server.url)
    try:
        ws.send(client_frame(Opcode.TEXT, b'421["echo",', fin=False))
        ws.send(client_frame(Opcode.PING, b"p"))
        ws.send(client_frame(Opcode.PONG, b"unsolicited"))
        ws.send(client_frame(Opcode.CONTINUATION, b'"ok"]'))
        pong = ws.recv_frame()
        assert (pong.opcode, pong.payload) == (Opcode.PONG, b"p")
        assert recv_app_text(ws) == '431["ok"]'
    finally:
        ws.close()


# -- malformed handshakes: fast 400/426, never a 500 -------------------------------------------


def raw_upgrade(url: str, extra_lines: list[str], key: str | None = None, version: str = "13") -> tuple[int, dict, bytes]:
    import base64
    import socket

    host, port = address(url)
    lines = ["GET /socket.io/?EIO=4&transport=websocket HTTP/1.1", f"Host: {host}:{port}",
             "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key if key is not None else base64.b64encode(os.urandom(16)).decode()}",
             f"Sec-WebSocket-Version: {version}", *extra_lines]
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status, headers, body = read_response(sock)
        if status != 101:
            assert_closed_by_server(sock)
        return status, headers, body


@pytest.mark.parametrize("extra, key, version, expected", [
    ([f"X-Flood-{i}: v" for i in range(5000)], None, "13", 400),   # thousands of headers
    (["X-Big: " + "v" * 70_000], None, "13", 400),                  # one huge header line
    ([], "AAAA", "13", 400),                                         # key decodes to 3 bytes
    ([], "x" * 10_000, "13", 400),                                   # 10 kB key
    ([], None, "13, 8", 426),
    ([], None, "99999999999999999999", 426),
    (["Sec-WebSocket-Key: second"], None, "13", 400),                # two keys: ambiguous
    (["Content-Length: 5", "Transfer-Encoding: chunked"], None, "13", 400),
], ids=["5000-headers", "70kB-header", "short-key", "10kB-key", "two-versions", "huge-version",
        "two-keys", "cl-and-te"])
def test_malformed_handshake_is_a_4xx(server, extra, key, version, expected):
    status, _, body = raw_upgrade(server.url, extra, key, version)
    assert status == expected, (status, body)
    assert_healthy(server.url)


# -- fairness: one client's 1 MB frames do not starve another client's heartbeat --------------


@pytest.fixture(scope="module")
def heartbeat_server() -> Iterator[LiveServer]:
    live = LiveServer("tests.apps.hardening:heartbeat_application")
    yield live
    output = live.stop()
    assert_only_deliberate_tracebacks(output)
    assert "Traceback" not in output, output


def test_megabyte_frames_from_one_client_do_not_delay_anothers_heartbeat(heartbeat_server):
    """The server pings every 0.5 s and waits 1.5 s for the pong. Client B reads with a
    timeout of interval + timeout, as a real client does: every ping must reach it in time
    and its pongs must be accepted, while client A sends 1 MB frames back to back."""
    url = heartbeat_server.url
    flooder = ws_connected(url)
    victim = ws_connected(url)
    victim.sock.settimeout(0.5 + 1.5)
    mask = os.urandom(4)
    payload = b'42["flood","' + b"x" * (1_000_000 - 14) + b'"]'
    frame = bytes([0x81, 0xFF]) + struct.pack("!Q", len(payload)) + mask + unmask(payload, mask)
    pong = client_frame(Opcode.TEXT, b"3")
    stop = threading.Event()
    sent = [0]

    def flood() -> None:
        try:
            while not stop.is_set():
                # an unsolicited pong after each frame answers the flooder's own pings
                flooder.send(frame + pong)
                sent[0] += 1
        except OSError:
            pass

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    try:
        pings = 0
        while pings < 6:  # 3 s of heartbeats, 2 s past interval + timeout
            text = victim.recv_text()  # a socket timeout here means a late ping
            assert text == "2", text
            victim.send_text("3")
            pings += 1
        assert sent[0] >= 2, "the flood did not run alongside the heartbeat"
        victim.send_text('4211["echo","alive"]')
        assert recv_app_text(victim) == '4311["alive"]'
    finally:
        stop.set()
        flooder.close()
        thread.join(10)
        victim.close()


def test_empty_fragments_are_capped_by_their_header_bytes_in_the_codec():
    from wsgi_sio.protocol.errors import WebSocketError
    from wsgi_sio.protocol.websocket import FrameDecoder

    decoder = FrameDecoder(max_message_size=1000)
    decoder.feed(client_frame(Opcode.BINARY, b"", fin=False))
    empty = client_frame(Opcode.CONTINUATION, b"", fin=False)  # 6 header bytes each
    assert decoder.feed(empty * (65536 // 6 - 1)) == []
    with pytest.raises(WebSocketError) as info:
        decoder.feed(empty * 2)
    assert info.value.code == 1009
    # The budget is per message: a finished message starts the count again.
    decoder = FrameDecoder(max_message_size=1000)
    for _ in range(3):
        stream = client_frame(Opcode.TEXT, b"", fin=False) + empty * 8000 + client_frame(Opcode.CONTINUATION, b"x")
        assert [e.data for e in decoder.feed(stream)] == ["x"]
