"""Issue 9: how long a request may take to arrive, and ``Connection: close`` said when meant.

Against real servers over raw sockets: ``python -m wsgi_sio`` (our pywsgi handler, with 1 s
head and body deadlines), the same behind gevent-websocket's handler, and gunicorn's
``GeventWebSocketWorker``, all serving tests/apps/deadlines.py.

* RFC 9112 §9.6: a server that closes the connection after a response says
  ``Connection: close`` in it; a client that asked for it (node-fetch does) gets it back.
  Node 19+'s keep-alive agent otherwise reuses the dead socket ("socket hang up").
* The request head and the request body each have a deadline, not a timeout per read: a
  client sending a byte at a time is cut off too. Long-polls and WebSockets are not limited.
* A chunk announced larger than the polling limit gets 413 from its size line.
* Under gevent-websocket's handler, wsgi_sio answers the handshakes on its path from the very
  first request on (a malformed key: 400, not gevent-websocket's 500 and traceback).

Pacing a client that trickles bytes needs time, but nothing waits for the server by sleeping:
each byte is followed by a bounded read, which ends early when the server answers or closes.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator

import pytest

from tests.apps.deadlines import LIMIT
from tests.support.live import LiveServer
from tests.support.raw_http import address, assert_closed_by_server, http, read_response
from tests.support.wire import TIMEOUT, Wire

APP = "tests.apps.deadlines:application"
DEADLINE = 1.0  # --header-timeout and --body-timeout of the `ours` server
DRIP = 0.25  # seconds between the bytes of a trickling client
MAX_DRIPS = 40  # 10 s of trickle: ten times the deadline, so never reached when it holds
POLLING = "/socket.io/?EIO=4&transport=polling"


def gunicorn_server(app: str = APP) -> LiveServer:
    return LiveServer("", command=[
        sys.executable, "-m", "gunicorn", "-k", "geventwebsocket.gunicorn.workers.GeventWebSocketWorker",
        "-w", "1", "--bind", "127.0.0.1:0", app], ready=r"Listening at: (http://\S+)")


def stopped_cleanly(server: LiveServer) -> None:
    output = server.stop()
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def ours() -> Iterator[LiveServer]:
    server = LiveServer(APP, "--header-timeout", str(DEADLINE), "--body-timeout", str(DEADLINE))
    yield server
    stopped_cleanly(server)


@pytest.fixture(scope="module")
def gevent_websocket() -> Iterator[LiveServer]:
    server = LiveServer(APP, "--handler", "gevent-websocket")
    yield server
    stopped_cleanly(server)


@pytest.fixture(scope="module")
def gunicorn() -> Iterator[LiveServer]:
    server = gunicorn_server()
    yield server
    stopped_cleanly(server)


@pytest.fixture(params=["ours", "gevent_websocket", "gunicorn"])
def front(request: pytest.FixtureRequest) -> LiveServer:
    """Each server in turn: our handler, gevent-websocket's, gunicorn's worker."""
    return request.getfixturevalue(request.param)


def connect(url: str) -> socket.socket:
    return socket.create_connection(address(url), timeout=TIMEOUT)


def head(url: str, method: str, target: str, *headers: str, version: str = "HTTP/1.1") -> bytes:
    host, port = address(url)
    lines = [f"{method} {target} {version}", f"Host: {host}:{port}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def polling_sid(url: str) -> str:
    status, _, body = http(url, "GET", POLLING)
    assert status == 200, (status, body)
    return json.loads(body[1:].split(b"\x1e")[0])["sid"]


def says_close(headers: dict[str, str]) -> bool:
    return headers.get("connection", "").lower() == "close"


def rest_until_closed(sock: socket.socket) -> bytes:
    """Whatever the server still sends, until it closes the connection (within the timeout)."""
    rest = bytearray()
    try:
        while chunk := sock.recv(65536):
            rest += chunk
    except ConnectionResetError:
        pass
    return bytes(rest)


def drip(sock: socket.socket, data: bytes) -> bytes:
    """Send ``data`` a byte every DRIP seconds until the server answers or closes; what it sent
    (b"" for a close without an answer). Fails if the server took all of ``data``."""
    for i in range(len(data)):
        sock.settimeout(DRIP)
        try:
            sock.sendall(data[i:i + 1])
            chunk = sock.recv(65536)
        except TimeoutError:
            continue  # nothing yet: the next byte
        except (ConnectionResetError, BrokenPipeError):
            return b""
        received = bytearray(chunk)
        sock.settimeout(TIMEOUT)
        try:
            while chunk:
                chunk = sock.recv(65536)
                received += chunk
        except ConnectionResetError:
            pass
        return bytes(received)
    raise AssertionError(f"the server was still reading after {len(data)} bytes, one per {DRIP} s")


# -- A. Connection: close ---------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/", POLLING])
def test_a_request_asking_to_close_gets_connection_close(front, target):
    with connect(front.url) as sock:
        sock.sendall(head(front.url, "GET", target, "Connection: close"))
        status, headers, _ = read_response(sock)
        assert status == 200
        assert says_close(headers), headers
        assert_closed_by_server(sock)


def test_a_polling_post_asking_to_close_gets_connection_close(front):
    sid = polling_sid(front.url)
    with connect(front.url) as sock:
        sock.sendall(head(front.url, "POST", f"{POLLING}&sid={sid}", "Connection: close",
                          "Content-Type: text/plain;charset=UTF-8", "Content-Length: 2") + b"40")
        status, headers, body = read_response(sock)
        assert (status, body) == (200, b"ok")
        assert says_close(headers), headers
        assert_closed_by_server(sock)


@pytest.mark.parametrize("target", ["/", POLLING])
def test_a_kept_alive_request_is_not_told_to_close(front, target):
    with connect(front.url) as sock:
        buf = bytearray()
        for _ in range(2):  # and the connection does serve a second request
            sock.sendall(head(front.url, "GET", target))
            status, headers, _ = read_response(sock, buf)
            assert status == 200
            assert not says_close(headers), headers


@pytest.mark.parametrize("request_bytes", [
    pytest.param(b"GET / HTTP/1.1\r\nHost : spaced\r\n\r\n", id="malformed-header"),
    pytest.param(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                 id="conflicting-content-length"),
    pytest.param(b"GET /" + b"x" * 9000 + b" HTTP/1.1\r\nHost: h\r\n\r\n", id="request-line-too-long"),
])
def test_a_front_end_error_answer_says_close(ours, request_bytes):
    with connect(ours.url) as sock:
        sock.sendall(request_bytes)
        status, headers, _ = read_response(sock)
        assert status in (400, 414)
        assert says_close(headers), headers
        assert_closed_by_server(sock)


def test_a_polling_body_over_the_limit_says_close(ours):
    sid = polling_sid(ours.url)
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", f"{POLLING}&sid={sid}", f"Content-Length: {LIMIT + 1}"))
        status, headers, _ = read_response(sock)
        assert status == 413
        assert says_close(headers), headers
        assert_closed_by_server(sock)


@pytest.mark.parametrize("version, headers", [
    # more unread body than the handler drains: it closes instead, and says so
    ("HTTP/1.1", [f"Content-Length: {200_000}"]),
    ("HTTP/1.0", ["Connection: keep-alive", f"Content-Length: {200_000}"]),
    # an unfinished chunked body left unread: the same
    ("HTTP/1.1", ["Transfer-Encoding: chunked"]),
], ids=["content-length", "http-1.0-keep-alive", "chunked"])
def test_a_response_after_which_the_handler_closes_says_it(ours, version, headers):
    """The site answers without reading the body; only the head and a little body were sent."""
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", "/", *headers, version=version) + b"4\r\nabcd\r\n")
        status, answer_headers, body = read_response(sock)
        assert (status, body) == (200, b"site")
        assert says_close(answer_headers), answer_headers
        assert_closed_by_server(sock)


def test_a_body_expected_but_never_asked_for_closes_and_says_it(ours):
    """``Expect: 100-continue`` and a site that answers without reading: the client sends no
    body after a final answer, so the connection closes (and says so), without a late 100."""
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", "/", "Expect: 100-continue", "Content-Length: 10"))
        buf = bytearray()
        status, headers, body = read_response(sock, buf)
        assert (status, body) == (200, b"site")
        assert says_close(headers), headers
        assert bytes(buf) + rest_until_closed(sock) == b""


def test_a_body_expected_and_read_keeps_the_connection(ours):
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", "/read", "Expect: 100-continue", "Content-Length: 10"))
        status, _, _ = read_response(sock)
        assert status == 100
        sock.sendall(b"0123456789")
        buf = bytearray()
        status, headers, body = read_response(sock, buf)
        assert (status, body) == (200, b"read 10 bytes")
        assert not says_close(headers), headers
        sock.sendall(head(ours.url, "GET", "/"))
        assert read_response(sock, buf)[0] == 200


# -- B. the request head has a deadline ------------------------------------------------------------


def test_b_a_head_sent_a_byte_at_a_time_is_cut_off_at_the_deadline(ours):
    with connect(ours.url) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n")
        # each byte comes well within the deadline; the whole head never does
        assert drip(sock, b"X-Trickle: " + b"a" * MAX_DRIPS) == b""


def test_b_a_request_line_sent_a_byte_at_a_time_is_cut_off(ours):
    with connect(ours.url) as sock:
        assert drip(sock, b"GET /" + b"a" * MAX_DRIPS) == b""


def test_b_a_busy_kept_alive_connection_outlives_the_deadline(ours):
    """The deadline is per request head: one connection serving request after request for
    three times the deadline is never cut."""
    with connect(ours.url) as sock:
        buf = bytearray()
        started = time.monotonic()
        while time.monotonic() - started < 3 * DEADLINE:
            sock.sendall(head(ours.url, "GET", "/"))
            status, headers, _ = read_response(sock, buf)
            assert status == 200 and not says_close(headers)


def test_b_an_idle_kept_alive_connection_is_closed_at_the_deadline(ours):
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "GET", "/"))
        status, headers, _ = read_response(sock)
        assert status == 200 and not says_close(headers)
        assert_closed_by_server(sock)  # within the socket timeout, 5 times the deadline


# -- C. the request body has a deadline -------------------------------------------------------


def test_c_a_body_that_never_arrives_gets_408_from_a_site_that_reads_it(ours):
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", "/read", "Content-Length: 60000") + b"abc")
        status, headers, body = read_response(sock)
        assert status == 408, (status, body)
        assert says_close(headers), headers
        assert_closed_by_server(sock)


def test_c_a_body_that_never_arrives_to_a_site_that_ignores_it_ends_the_connection(ours):
    """The answer leaves before the handler reads the rest of the body (under 64 KiB, so it
    is read, not a reason to close); the rest never comes, and the connection ends."""
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", "/", "Content-Length: 60000") + b"abc")
        status, _, body = read_response(sock)
        assert (status, body) == (200, b"site")
        assert_closed_by_server(sock)


def test_c_a_body_sent_a_byte_at_a_time_gets_408(ours):
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", "/read", f"Content-Length: {MAX_DRIPS}"))
        answer = drip(sock, b"b" * MAX_DRIPS)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b"\r\nConnection: close\r\n" in answer, answer


def test_c_a_polling_post_whose_body_never_arrives_leaves_the_session_working(ours):
    sid = polling_sid(ours.url)
    target = f"{POLLING}&sid={sid}"
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", target, "Content-Type: text/plain;charset=UTF-8",
                          "Content-Length: 60000") + b'42["echo"')
        status, headers, body = read_response(sock)
        assert status in (400, 408), (status, body)
        assert says_close(headers), headers
        assert_closed_by_server(sock)
    # The POST ended (no "Overlapping POST" for the next one) and the session goes on.
    status, _, body = http(ours.url, "POST", target, b"40")
    assert (status, body) == (200, b"ok")
    status, _, body = http(ours.url, "GET", target)
    assert status == 200 and body.startswith(b'40{"sid":"'), (status, body)


def test_c_a_long_poll_and_a_websocket_outlast_both_deadlines(ours, wire):
    sid = polling_sid(ours.url)
    # Nothing is queued: this GET waits for the first ping, twice the deadlines.
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "GET", f"{POLLING}&sid={sid}"))
        status, _, body = read_response(sock)
        assert (status, body) == (200, b"2")
    ws = wire(ours.url)
    assert ws.upgrade() == 101
    assert ws.recv_text().startswith('0{"sid":')
    for _ in range(2):  # two pings: four times the deadlines
        assert ws.recv_text() == "2"
        ws.send_text("3")


# -- E. a chunk announced past the limit ----------------------------------------------------


@pytest.mark.parametrize("chunks", [
    pytest.param([b"ffffffffffffffff\r\nabc"], id="with-data"),
    pytest.param([b"ffffffffffffffff\r\n"], id="size-line-only"),
    pytest.param([b"%x\r\n" % (LIMIT + 1)], id="just-over-the-limit"),
    pytest.param([b"4\r\n42[\"\r\n", b"fffff", b"fffffffffff\r\nxyz"], id="after-a-chunk-in-pieces"),
])
def test_e_a_chunk_announced_over_the_polling_limit_is_413_at_once(ours, chunks):
    """At once: the server answers long before the body deadline would end the wait. (The
    socket timeout, 5 s, is longer than the 1 s deadline, but the deadline's answer would be
    400 or 408, not 413.)"""
    sid = polling_sid(ours.url)
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", f"{POLLING}&sid={sid}", "Content-Type: text/plain;charset=UTF-8",
                          "Transfer-Encoding: chunked"))
        for piece in chunks:
            sock.sendall(piece)
        status, headers, body = read_response(sock)
        assert (status, body) == (413, b'{"code":3,"message":"Payload too large"}')
        assert says_close(headers), headers
        assert_closed_by_server(sock)
    # the session is as it was
    status, _, body = http(ours.url, "POST", f"{POLLING}&sid={sid}", b"40")
    assert (status, body) == (200, b"ok")


def test_e_a_chunk_under_the_limit_is_read(ours):
    sid = polling_sid(ours.url)
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", f"{POLLING}&sid={sid}", "Content-Type: text/plain;charset=UTF-8",
                          "Transfer-Encoding: chunked") + b"1\r\n4\r\n1;ext=1\r\n0\r\n0\r\nX-Trailer: 1\r\n\r\n")
        status, headers, body = read_response(sock)
        assert (status, body) == (200, b"ok")
        assert not says_close(headers), headers
    status, _, body = http(ours.url, "GET", f"{POLLING}&sid={sid}")
    assert status == 200 and body.startswith(b'40{"sid":"'), (status, body)


@pytest.mark.parametrize("size, status", [
    (b"ffffffffffffffff", 400),  # past what Python can read: bad input, at once (was a 500)
    (b"7fffffffffffffff", 408),  # absurd, but the site has no limit: the body deadline ends it
])
def test_e_an_absurd_chunk_to_the_site_is_refused_or_cut_off_by_the_deadline(ours, size, status):
    with connect(ours.url) as sock:
        sock.sendall(head(ours.url, "POST", "/read", "Transfer-Encoding: chunked") + size + b"\r\nabc")
        answer, headers, _ = read_response(sock)
        assert answer == status
        assert says_close(headers), headers
        assert_closed_by_server(sock)


# -- D. gevent-websocket's handler: our path is ours from the first request -------------------------


@pytest.mark.parametrize("start", [
    pytest.param(lambda: LiveServer(APP, "--handler", "gevent-websocket"), id="gevent-websocket"),
    pytest.param(gunicorn_server, id="gunicorn"),
])
def test_d_the_very_first_request_a_malformed_upgrade_gets_400_from_wsgi_sio(start):
    server = start()
    try:
        ws = Wire(server.url)
        try:
            assert ws.upgrade(key="!!!not base64!!!") == 400, (ws.status, ws.body)
            assert b"is not base64" in ws.body, ws.body
        finally:
            ws.close()
    finally:
        output = server.stop()
    assert "Traceback" not in output, output
