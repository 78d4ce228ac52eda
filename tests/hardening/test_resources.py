"""Issue 9, part 2: what one hostile client can make the server hold, and for how long.

Each test reproduces a report of the review against a real server process and checks the
bound that now holds: the polling queue in bytes (and no echo of an unbounded namespace), a
polling client that POSTs pongs but never fetches its pings, the WebSocket backlog counting
the answers to the client's own control frames, packets per polling payload, the headers a
handshake leaves with its session, and nesting deeper than the encoder could send back.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time

from tests.support.checks import assert_healthy, assert_no_handler_ran, handler_calls
from tests.support.lifecycle import PING_INTERVAL, PING_TIMEOUT, log_of, polling_member, wait_until
from tests.support.raw_http import address, http, polling_sid
from tests.support.wire import Wire, answer, client_frame, polling, ws_connected
from wsgi_sio.protocol.socketio import MAX_DEPTH, MAX_NAMESPACE_LENGTH
from wsgi_sio.protocol.websocket import Opcode

MB = 1024 * 1024


# -- item 1: the polling queue --------------------------------------------------------------


def test_an_unknown_long_namespace_is_not_echoed_back(server):
    """120 CONNECTs to a 1 MB namespace each queued a CONNECT_ERROR naming it (118 MB): a
    namespace past MAX_NAMESPACE_LENGTH is a protocol error, answered by closing the session."""
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    name = "/" + "n" * 90_000
    assert http(server.url, "POST", target, f"40{name},".encode())[::2] == (200, b"ok")
    status, _, body = http(server.url, "GET", target)
    assert b"nnnn" not in body
    assert status == 400 or body.endswith(b"1"), (status, body[:200])
    # just under the bound, an unknown namespace is still answered as the protocol says
    sid = polling_sid(server.url)
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    name = "/" + "n" * (MAX_NAMESPACE_LENGTH - 1)
    assert http(server.url, "POST", target, f"40{name},".encode())[::2] == (200, b"ok")
    status, _, body = http(server.url, "GET", target)
    assert (status, body) == (200, f'44{name},{{"message":"Invalid namespace"}}'.encode())
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


def test_polling_queue_is_bounded_in_bytes(live, monitor):
    """50 packets of 100 kB are far below max_queue (10,000 packets) but over the 4 MB that
    a polling client that does not GET may have queued: it is closed as a slow consumer."""
    sid = polling_member(live.url, "bytes")
    before = monitor.call("disconnects").count("slow consumer")
    assert monitor.call("flood", "bytes", 50, 100_000) == "flooded"
    assert monitor.call("disconnects").count("slow consumer") == before + 1
    wait_until(lambda: "packets unsent" in log_of(live), "the log names the slow consumer")
    # its next poll gets what was queued up to the bound, and the close packet
    status, body = answer(polling(live.url, sid=sid))
    assert status == 200 and body.endswith(b"\x1e1"), body[-100:]
    assert len(body) < 4_500_000


def test_pongs_without_polls_do_not_keep_a_session_alive(live, monitor):
    """A polling client that POSTs pongs blindly but never GETs never received its pings:
    it is timed out after ping_interval + ping_timeout like a silent one."""
    status, body = answer(polling(live.url))
    sid = json.loads(body[1:])["sid"]
    assert answer(polling(live.url, "POST", sid, b"40")) == (200, b"ok")
    before = monitor.call("disconnects").count("ping timeout")
    started = time.monotonic()
    deadline = started + 20 * (PING_INTERVAL + PING_TIMEOUT)
    while True:  # each POST is a round trip: no sleep needed to pace it
        status, body = answer(polling(live.url, "POST", sid, b"3"))
        if status != 200:
            break
        assert time.monotonic() < deadline, "blind pongs kept the session alive"
    assert (status, json.loads(body)) == (400, {"code": 1, "message": "Session ID unknown"})
    assert monitor.call("disconnects").count("ping timeout") == before + 1


# -- item 2: control frames count against the WebSocket backlog ------------------------------


def test_pings_from_a_client_that_never_reads_hit_the_backlog_limit(server):
    """48 MB of 125-byte pings from a client that reads nothing grew the server by 59 MB:
    the pongs were written around the 4 MB backlog check. Now they count."""
    host, port = address(server.url)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    raw.settimeout(10)
    raw.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    assert raw.recv(12) == b"HTTP/1.1 101"
    batch = client_frame(Opcode.PING, b"p" * 125) * 1000  # 131 kB of pings
    sent = 0
    try:
        while sent < 48 * MB:
            raw.sendall(batch)
            sent += len(batch)
    except OSError:  # reset or broken pipe: the server closed the connection
        pass
    finally:
        raw.close()
    assert sent < 48 * MB, "the server answered 48 MB of pings to a client that reads nothing"
    wait_until(lambda: "slow consumer" in log_of(server), "the log names the slow consumer")
    assert_healthy(server.url)


# -- item 5: packets per polling payload ----------------------------------------------------


def test_a_payload_of_too_many_packets_is_refused_at_once(server):
    """499,000 pongs in one 999 kB body stalled every other client for 0.65 s: more than
    max_payload_packets (10,000) packets is a 400, counted before anything is decoded."""
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    status, _, body = http(server.url, "POST", target, "\x1e".join(["3"] * 10_001).encode())
    assert status == 400
    assert json.loads(body) == {"code": 3, "message": "payload has 10001 packets, more than the 10000 allowed"}
    assert http(server.url, "GET", target)[0] == 400  # the session is gone
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


# -- item 6: what a handshake leaves with its session -----------------------------------------


def test_abandoned_handshakes_with_huge_headers_hold_little(live, monitor):
    """30 handshakes with 5.7 MB of headers each held 164 MB until their connect timeout."""
    before = monitor.stats()
    host, port = address(live.url)
    headers = "".join(f"X-Big-{i}: {'h' * 57_000}\r\n" for i in range(97))
    sids = []
    for _ in range(30):
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall((f"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {host}:{port}\r\n"
                          f"{headers}Connection: close\r\n\r\n").encode())
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 200"), data[:200]
        sids.append(json.loads(data.partition(b"\r\n\r\n")[2][1:])["sid"])
    after = monitor.stats()
    assert after["sessions"] >= before["sessions"] + 30 or len(set(sids)) == 30
    assert after["rss_kb"] - before["rss_kb"] < 48 * 1024, (before, after)


# -- item 9: nesting ------------------------------------------------------------------------


def test_nesting_past_the_limit_closes_that_session_without_a_traceback(server):
    """960 levels decoded, then the echo raised RecursionError: a traceback per 2 KB and no
    answer. Now it is a protocol error at decode time."""
    before = handler_calls(server.url)
    ws = ws_connected(server.url)
    try:
        ws.send_text('42["echo",' + "[" * 960 + "]" * 960 + "]")
        ws.recv_close()
        ws.assert_eof()
    finally:
        ws.close()
    ws = ws_connected(server.url)
    try:  # at the limit, the echo works
        nested = "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1)
        ws.send_text(f'421["echo",{nested}]')
        assert ws.recv_text() == f"431[{nested}]"
    finally:
        ws.close()
    assert "Traceback" not in log_of(server) and "RecursionError" not in log_of(server)
    assert_no_handler_ran(server.url, before, connects=3)  # two connects and the one echo
    assert_healthy(server.url)


def test_second_websocket_for_an_upgraded_session_is_accepted_then_closed(server):
    """Part 1: the reference server completes that handshake and closes that connection; a
    400 is an error event that crashes plain WebSocket clients. The first one goes on."""
    status, body = answer(polling(server.url))
    assert status == 200, (status, body)
    sid = json.loads(body[1:])["sid"]
    first = Wire(server.url)
    assert first.upgrade(f"EIO=4&transport=websocket&sid={sid}") == 101
    first.send_text("2probe")
    assert first.recv_text() == "3probe"
    # while the first is still probing, a second one: 101, then closed
    probing = Wire(server.url)
    assert probing.upgrade(f"EIO=4&transport=websocket&sid={sid}") == 101
    assert probing.recv_close().close_code == 1000
    probing.assert_eof()
    probing.close()
    first.send_text("5")
    first.send_text("40")
    assert first.recv_text().startswith("40{")
    # once upgraded, another one: the same
    second = Wire(server.url)
    assert second.upgrade(f"EIO=4&transport=websocket&sid={sid}") == 101
    assert second.recv_close().close_code == 1000
    second.assert_eof()
    second.close()
    first.send_text('421["echo","still here"]')
    while (text := first.recv_text()) == "2":
        first.send_text("3")
    assert text == '431["still here"]'
    first.close()
