"""wsgi_sio.green.handler and .headers: request header parsing and query parsing used on every
request, and the server's answers to malformed requests on a real socket."""

from __future__ import annotations

import io
import socket
from urllib.parse import urlsplit

import pytest

from tests.support.live import LiveServer, assert_only_deliberate_tracebacks
from wsgi_sio.engine.http import parse_query
from wsgi_sio.green import MAX_HEADERS, RequestHeaders


def headers(raw: bytes) -> RequestHeaders:
    return RequestHeaders(io.BytesIO(raw))


def test_headers_are_parsed_with_case_insensitive_lookup() -> None:
    h = headers(b"Host: a.example\r\nContent-Type: text/plain\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\nBODY")
    assert h.status == ""
    assert h.get("host") == "a.example" and h.getheader("HOST") == "a.example"
    assert h.typeheader == "text/plain"
    assert h.get("X-Twice") == "1"  # the first one, as the email package answers
    assert h.headers == ["Host: a.example\r\n", "Content-Type: text/plain\r\n", "X-Twice: 1\r\n",
                         "x-twice: 2\r\n"]
    assert "content-type" in h and "missing" not in h
    del h["x-twice"]
    assert h.get("X-Twice") is None and len(h.headers) == 2


def test_folded_header_lines_continue_the_value() -> None:
    h = headers(b"X-Long: one\r\n  two\r\n\tthree\r\nHost: h\r\n\r\n")
    assert h.status == ""
    assert h.get("x-long") == "one two three"


@pytest.mark.parametrize("raw, status", [
    (b"Host : spaced\r\n\r\n", "Invalid header line"),
    (b"no colon here\r\n\r\n", "Invalid header line"),
    (b": no name\r\n\r\n", "Invalid header line"),
    (b"  folded first\r\n\r\n", "Invalid header continuation"),
    (b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n", "Line too long"),
    (b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS + 1)) + b"\r\n", "Too many headers"),
])
def test_malformed_headers_set_status(raw: bytes, status: str) -> None:
    assert headers(raw).status == status


def test_exactly_the_maximum_number_of_headers_is_fine() -> None:
    raw = b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS)) + b"\r\n"
    assert headers(raw).status == ""


def test_query_parsing() -> None:
    assert parse_query("") == {}
    assert parse_query("EIO=4&transport=polling&t=N1&sid=a%2Bb") == {
        "EIO": "4", "transport": "polling", "t": "N1", "sid": "a+b"}
    assert parse_query("sid=first&sid=second&flag") == {"sid": "first", "flag": ""}
    assert parse_query("x=a+b") == {"x": "a b"}
    with pytest.raises(ValueError):
        parse_query("&".join(f"k{i}=v" for i in range(33)))


def raw_request(url: str, request: bytes) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                break
    return b"".join(chunks)


def test_server_answers_a_malformed_header_with_400(interop_server) -> None:
    answer = raw_request(interop_server.url, b"GET / HTTP/1.1\r\nHost : x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer


def test_response_head_and_body_arrive_together(interop_server) -> None:
    # One write for head and body: the first recv after the request holds both.
    answer = raw_request(interop_server.url,
                         b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body.startswith(b'0{"sid":"')


@pytest.fixture(scope="module")
def short_header_timeout():
    server = LiveServer("tests.apps.interop:application", "--header-timeout", "0.5")
    yield server
    assert_only_deliberate_tracebacks(server.stop())


def test_a_request_head_that_never_ends_is_cut_off(short_header_timeout) -> None:
    parts = urlsplit(short_header_timeout.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # ...and the rest never comes
        assert sock.recv(65536) == b""  # closed by the server, well before our 5 s


def test_the_header_timeout_does_not_cut_a_long_poll(short_header_timeout) -> None:
    import http.client
    import json as jsonlib

    parts = urlsplit(short_header_timeout.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    try:
        conn.request("GET", "/socket.io/?EIO=4&transport=polling")
        handshake = conn.getresponse().read().decode()
        sid = jsonlib.loads(handshake[1:])["sid"]
        # Nothing is queued: this GET waits for the first ping, ten times the header timeout.
        conn.request("GET", f"/socket.io/?EIO=4&transport=polling&sid={sid}")
        assert conn.getresponse().read() == b"2"
    finally:
        conn.close()
