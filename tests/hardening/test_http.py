"""Point 1 of issue 6, the HTTP layer: hostile polling requests on a real socket.

Each test sends the request by hand, checks the status, the JSON error and whether the
connection ends, then that another client is still served and no handler ran.
"""

from __future__ import annotations

import json
import socket
import threading

import pytest

from tests.apps.hardening import LIMIT
from tests.support.checks import assert_healthy, assert_no_handler_ran, handler_calls
from tests.support.raw_http import (
    address,
    assert_closed_by_server,
    http,
    polling_sid,
    read_response,
)
from tests.support.wire import TIMEOUT

PAYLOAD_TOO_LARGE = b'{"code":3,"message":"Payload too large"}'


def post_head(url: str, sid: str, headers: list[str]) -> bytes:
    host, port = address(url)
    lines = [f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1", f"Host: {host}:{port}",
             "Content-Type: text/plain;charset=UTF-8", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def connect(url: str) -> socket.socket:
    return socket.create_connection(address(url), timeout=TIMEOUT)


def error_body(body: bytes) -> dict:
    return json.loads(body)


# -- bodies over the limit: 413 once limit + 1 bytes are in, nothing more read ------------------


def test_honest_content_length_over_the_limit_is_413_before_the_body(server):
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    with connect(server.url) as sock:
        # Only the head: the answer must come without the server waiting for any body byte.
        sock.sendall(post_head(server.url, sid, [f"Content-Length: {10**12}"]))
        status, headers, body = read_response(sock)
        assert (status, body) == (413, PAYLOAD_TOO_LARGE)
        assert headers["connection"].lower() == "close"
        assert_closed_by_server(sock)
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


def test_chunked_body_over_the_limit_is_413_after_limit_plus_one_bytes(server):
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    with connect(server.url) as sock:
        sock.sendall(post_head(server.url, sid, ["Transfer-Encoding: chunked"]))
        # Exactly limit + 1 bytes of body in chunks, then nothing: the body is not finished,
        # so a 413 now proves the server stopped reading at limit + 1.
        chunk = b"4" + b"x" * 999
        sent = 0
        while sent < LIMIT + 1:
            piece = chunk[: min(len(chunk), LIMIT + 1 - sent)]
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        status, headers, body = read_response(sock)
        assert (status, body) == (413, PAYLOAD_TOO_LARGE)
        assert headers["connection"].lower() == "close"
        assert_closed_by_server(sock)
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


def test_lying_content_length_under_the_limit_reads_no_further(server):
    """Content-Length says 10, the client sends a megabyte: the first 10 bytes are the body
    (a valid message), the rest is not a request and gets 400, not a 500 or a hang."""
    sid = polling_sid(server.url)
    with connect(server.url) as sock:
        body = b'42["echo"]'
        sock.sendall(post_head(server.url, sid, [f"Content-Length: {len(body)}"]) + body
                     + b"x" * 1_000_000)
        buf = bytearray()
        status, _, answer = read_response(sock, buf)
        assert (status, answer) == (200, b"ok")
        # What follows is garbage as an HTTP request (here a 1 MB request line): 414 or 400
        # from the front end, and the end of the connection.
        status, _, _ = read_response(sock, buf)
        assert status in (400, 414)
        assert_closed_by_server(sock)
    assert_healthy(server.url)


def test_content_length_declared_larger_than_sent_does_not_hold_other_clients(server):
    """A body that never finishes: the server waits for it on that connection only."""
    sid = polling_sid(server.url)
    with connect(server.url) as sock:
        sock.sendall(post_head(server.url, sid, [f"Content-Length: {LIMIT}"]) + b"4abc")
        assert_healthy(server.url)


@pytest.mark.parametrize("size_line", [b"f" * 40, b"-1", b"zz", b"1" * 5000, b"0x10"])
def test_absurd_chunk_size_is_a_clean_400(server, size_line):
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    with connect(server.url) as sock:
        sock.sendall(post_head(server.url, sid, ["Transfer-Encoding: chunked"]) + size_line + b"\r\n4abc")
        try:
            status, _, _ = read_response(sock)
        except (EOFError, ConnectionResetError):
            status = None  # closed without an answer is acceptable only as a reset
        assert status == 400
        assert_closed_by_server(sock)
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


def test_content_length_and_transfer_encoding_together_is_400(server):
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    with connect(server.url) as sock:
        sock.sendall(post_head(server.url, sid, ["Content-Length: 4", "Transfer-Encoding: chunked"])
                     + b"4\r\n40/x\r\n0\r\n\r\n")
        status, _, _ = read_response(sock)
        assert status == 400
        assert_closed_by_server(sock)
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


def test_octet_stream_post_is_400_and_the_response_ends(server):
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    with connect(server.url) as sock:
        body = b"\x04\x01\x02" * 1000
        head = post_head(server.url, sid, [f"Content-Length: {len(body)}"])
        head = head.replace(b"text/plain;charset=UTF-8", b"application/octet-stream")
        sock.sendall(head + body)
        status, headers, answer = read_response(sock)
        assert status == 400
        assert error_body(answer) == {"code": 3, "message": "Binary payloads are not supported on EIO=4"}
        assert int(headers["content-length"]) == len(answer)
    status, _, answer = http(server.url, "GET", f"/socket.io/?EIO=4&transport=polling&sid={sid}")
    assert (status, error_body(answer)) == (400, {"code": 1, "message": "Session ID unknown"})
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


@pytest.mark.parametrize("body", [b"4a\x1e\x1e4b", b"40\x1e\x1e40", b"\x1e40", b"40\x1e"],
                         ids=["empty-between-messages", "empty-after-a-connect", "empty-first",
                              "empty-last"])
def test_polling_post_with_an_empty_packet_is_400_and_ends_the_session(server, body):
    """An empty packet anywhere in a payload (two separators in a row, one at either end) is
    malformed: 400, the session is closed, and not even the packets before it are handled."""
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    status, headers, answer = http(server.url, "POST", f"/socket.io/?EIO=4&transport=polling&sid={sid}",
                                   body, {"Content-Type": "text/plain;charset=UTF-8"})
    assert status == 400, (status, answer)
    assert headers["content-type"] == "application/json"
    assert error_body(answer) == {"code": 3, "message": "empty packet"}
    status, _, answer = http(server.url, "GET", f"/socket.io/?EIO=4&transport=polling&sid={sid}")
    assert (status, error_body(answer)) == (400, {"code": 1, "message": "Session ID unknown"})
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


def test_unknown_sid_with_a_huge_body_is_answered_without_reading_it(server):
    with connect(server.url) as sock:
        sock.sendall(post_head(server.url, "A" * 20, [f"Content-Length: {10**12}"]))
        status, _, answer = read_response(sock)
        assert (status, error_body(answer)) == (400, {"code": 1, "message": "Session ID unknown"})
        assert_closed_by_server(sock)
    assert_healthy(server.url)


# -- junk in the query ----------------------------------------------------------------------

# 8,000 characters: the longest that fits pywsgi's 8 KiB request line with the rest
JUNK = ["__proto__", "toString", "constructor", "hasOwnProperty", "x" * 8_000, "%00", "%ff%fe",
        "4%0d%0aSet-Cookie:%20a=b", "", "[]", "{}"]


# The answer to each junk value, as the reference server's ``verify()`` orders its checks:
# the transport first, then the sid; without a sid only a GET may open a session, and only
# for EIO=4.
JUNK_ERRORS = {
    ("sid", "GET"): {"code": 1, "message": "Session ID unknown"},
    ("sid", "POST"): {"code": 1, "message": "Session ID unknown"},
    ("transport", "GET"): {"code": 0, "message": "Transport unknown"},
    ("transport", "POST"): {"code": 0, "message": "Transport unknown"},
    ("EIO", "GET"): {"code": 5, "message": "Unsupported protocol version"},
    ("EIO", "POST"): {"code": 2, "message": "Bad handshake method"},
}


@pytest.mark.parametrize("value", JUNK, ids=lambda v: v[:20] or "empty")
@pytest.mark.parametrize("key", ["sid", "transport", "EIO"])
def test_junk_query_values_get_the_json_error(server, key, value):
    """No junk value is a valid sid, transport or protocol version: every one is a 400 with
    the JSON error of the check it fails, and never opens a session (no Set-Cookie, no 200)."""
    params = {"EIO": "4", "transport": "polling"}
    params[key] = value
    query = "&".join(f"{k}={v}" for k, v in params.items())
    for method in ("GET", "POST"):
        status, headers, body = http(server.url, method, f"/socket.io/?{query}", b"40" if method == "POST" else b"")
        assert status == 400, (method, status, body)
        assert headers["content-type"] == "application/json"
        assert error_body(body) == JUNK_ERRORS[key, method], (method, body)
        assert "set-cookie" not in headers


def test_junk_query_leaves_the_server_healthy(server):
    assert_healthy(server.url)


@pytest.mark.parametrize("key", ["sid", "transport", "EIO"])
def test_a_10_kb_query_value_is_refused_by_the_front_end(server, key):
    """Past pywsgi's 8 KiB request line the front end answers 414 (Node answers 431 past its
    16 KiB of headers); the request never reaches the Engine.IO server."""
    params = {"EIO": "4", "transport": "polling", key: "x" * 10_000}
    query = "&".join(f"{k}={v}" for k, v in params.items())
    with connect(server.url) as sock:
        sock.sendall(f"GET /socket.io/?{query} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
        status, _, _ = read_response(sock)
        assert status == 414
        assert_closed_by_server(sock)
    assert_healthy(server.url)


def test_too_many_query_parameters_and_huge_query_get_an_answer(server):
    status, _, body = http(server.url, "GET", "/socket.io/?" + "&".join(f"k{i}=v" for i in range(1000)))
    assert (status, error_body(body)["code"]) == (400, 3)
    # Past pywsgi's request-line limit: 414 or 400 from the front end, never a 500.
    with connect(server.url) as sock:
        sock.sendall(b"GET /socket.io/?EIO=4&transport=polling&t=" + b"x" * 20_000
                     + b" HTTP/1.1\r\nHost: h\r\n\r\n")
        status, _, _ = read_response(sock)
        assert status in (400, 414)
    assert_healthy(server.url)


# -- one request at a time per session --------------------------------------------------------


def test_two_concurrent_gets_close_the_session(server):
    sid = polling_sid(server.url)
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    first: list = []
    thread = threading.Thread(target=lambda: first.append(http(server.url, "GET", target)))
    thread.start()
    # The second GET is sent once the first is waiting; whichever the server sees second is
    # refused, and the session ends: the other gets the close packet.
    seconds = []
    while thread.is_alive() and not seconds:
        seconds.append(http(server.url, "GET", target))
    thread.join(TIMEOUT * 2)
    answers = sorted([first[0][0], seconds[0][0]])
    bodies = {first[0][2], seconds[0][2]}
    assert answers == [200, 400], (first, seconds)
    assert b"1" in bodies or any(b.endswith(b"\x1e1") for b in bodies), bodies
    status, _, body = http(server.url, "GET", target)
    assert (status, error_body(body)["code"]) == (400, 1)
    assert_healthy(server.url)


def test_two_concurrent_posts_close_the_session(server):
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    with connect(server.url) as slow:
        # The first POST announces a body and sends half: it is being read when the second comes.
        slow.sendall(post_head(server.url, sid, ["Content-Length: 10"]) + b"42[")
        status, _, body = http(server.url, "POST", f"/socket.io/?EIO=4&transport=polling&sid={sid}",
                               b'42["echo"]')
        assert (status, error_body(body)) == (400, {"code": 3, "message": "Overlapping POST"})
        slow.sendall(b'"echo"]')
        read_response(slow)  # the first POST's own answer, whichever it is
    status, _, body = http(server.url, "GET", f"/socket.io/?EIO=4&transport=polling&sid={sid}")
    assert status == 400 or body.endswith(b"1"), (status, body)
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


def test_upgrade_with_a_different_eio_is_refused(server, wire):
    sid = polling_sid(server.url)
    for eio in ("3", "5", "", "4x", "__proto__"):
        ws = wire(server.url)
        assert ws.upgrade(f"EIO={eio}&transport=websocket&sid={sid}") == 400
        assert error_body(ws.body) == {"code": 5, "message": "Unsupported protocol version"}
    # The session is still there and still upgradable.
    ws = wire(server.url)
    assert ws.upgrade(f"EIO=4&transport=websocket&sid={sid}") == 101
    ws.send_text("2probe")
    assert ws.recv_text() == "3probe"
    assert_healthy(server.url)
