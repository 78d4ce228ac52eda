"""Point 10 of issue 6: property tests for the decoders not covered in tests/protocol —
the HTTP query parser, the request-header parser, bounded body reads, and the polling
payload decoder fed arbitrary text. Each raises only its documented error."""

from __future__ import annotations

import io

from hypothesis import example, given, settings
from hypothesis import strategies as st

from wsgi_sio.engine.http import BodyTooLarge, parse_query, read_body
from wsgi_sio.green import MAX_HEADERS, RequestHeaders
from wsgi_sio.protocol.engineio import Packet, decode_payload
from wsgi_sio.protocol.errors import EngineIOError

_text = st.text(st.characters(codec="utf-8"), max_size=300)


@given(st.text(max_size=500))
def test_parse_query_returns_str_pairs_or_raises_value_error(query):
    try:
        params = parse_query(query)
    except ValueError:
        return
    assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in params.items())


@given(st.dictionaries(st.sampled_from(["EIO", "sid", "transport", "t", "b64"]),
                       st.text(st.characters(codec="ascii", exclude_characters="&=%+"), max_size=30)))
def test_parse_query_round_trips_plain_values(params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    assert parse_query(query) == params


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_request_headers_never_raise(raw):
    headers = RequestHeaders(io.BytesIO(raw))
    assert isinstance(headers.status, str)
    assert len(headers.items) <= MAX_HEADERS


@given(st.lists(st.tuples(st.sampled_from(["Content-Length", "Transfer-Encoding", "Host"]),
                          st.sampled_from(["5", "6", "chunked", "gzip", "chunked, gzip"])), max_size=4))
def test_request_headers_refuse_ambiguous_body_framing(pairs):
    raw = b"".join(f"{k}: {v}\r\n".encode() for k, v in pairs) + b"\r\n"
    headers = RequestHeaders(io.BytesIO(raw))
    te = [v for k, v in pairs if k == "Transfer-Encoding"]
    cl = {v for k, v in pairs if k == "Content-Length"}
    ambiguous = (te and (cl or len(te) > 1 or te[0] != "chunked")) or len(cl) > 1
    assert bool(headers.status) == bool(ambiguous), (pairs, headers.status)


class _Stream:
    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)
        self.read_bytes = 0

    def read(self, n: int) -> bytes:
        chunk = self.data.read(n)
        self.read_bytes += len(chunk)
        return chunk


@st.composite
def _framed_bodies(draw):
    """(body, limit, Content-Length or None, wsgi.input_terminated): sizes and lengths drawn
    around the limit as often as anywhere, so that limit, limit + 1 and beyond all come up."""
    limit = draw(st.integers(0, 200))
    size = draw(st.one_of(st.integers(0, 300), st.sampled_from([limit, limit + 1, limit + 2])))
    body = draw(st.binary(min_size=max(0, size), max_size=max(0, size)))
    length = draw(st.one_of(
        st.none(), st.just(""),
        st.integers(0, 400).map(str),
        st.sampled_from([limit - 1, limit, limit + 1]).filter(lambda n: n >= 0).map(str),
        st.just("9" * 40),                      # a length no int should be made of
        st.text(max_size=20)))                  # junk
    return body, limit, length, draw(st.booleans())


@given(_framed_bodies())
@example((b"x" * 11, 10, None, True))      # chunked, one byte over: refused
@example((b"x" * 10, 10, None, True))      # chunked, at the limit: read
@example((b"x" * 11, 10, "11", False))     # honest length, one over: refused unread
@example((b"x" * 20, 10, "10", False))     # honest length at the limit, more bytes behind it
def test_read_body_reads_at_most_limit_plus_one(case):
    """The exact outcome for every framing: the body, a refusal (BodyTooLarge past the limit,
    ValueError for a malformed length), or nothing read where the stream has no end."""
    body, limit, length, terminated = case
    stream = _Stream(body)
    environ = {"wsgi.input": stream, "wsgi.input_terminated": terminated}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    if length and not (length.isascii() and length.isdigit()):
        expected: object = ValueError
    elif length:
        expected = BodyTooLarge if int(length) > limit else body[:int(length)]
    elif not terminated:
        expected = b""   # no length and no end of stream: the peer is not trusted to stop
    else:
        expected = BodyTooLarge if len(body) > limit else body   # e.g. chunked under gevent
    try:
        data = read_body(environ, limit)
    except (BodyTooLarge, ValueError) as exc:
        assert type(exc) is expected, (expected, exc)
    else:
        assert data == expected, (expected, data)
        # Not a byte past the body: what follows on the connection is the next request.
        assert stream.read_bytes == len(data)
    assert stream.read_bytes <= limit + 1
    if length and expected is BodyTooLarge:
        assert stream.read_bytes == 0   # an honest length over the limit: refused unread


@given(st.integers(0, 5000))
def test_chunked_body_one_byte_over_the_limit_is_refused(limit):
    """No Content-Length, a stream that ends by itself (chunked): ``limit`` bytes pass,
    ``limit + 1`` are refused, having read no more than that."""
    stream = _Stream(b"x" * limit)
    assert read_body({"wsgi.input": stream, "wsgi.input_terminated": True}, limit) == b"x" * limit
    stream = _Stream(b"x" * (limit + 1) + b"never read")
    try:
        read_body({"wsgi.input": stream, "wsgi.input_terminated": True}, limit)
    except BodyTooLarge:
        pass
    else:
        raise AssertionError(f"a chunked body of {limit + 1} bytes passed a limit of {limit}")
    assert stream.read_bytes == limit + 1


@given(_text)
def test_payload_decoder_only_raises_engineio_errors(body):
    try:
        packets = decode_payload(body)
    except EngineIOError:
        return
    assert all(isinstance(p, Packet) for p in packets)


def test_payload_of_10000_tiny_packets_is_decoded_in_one_pass():
    assert len(decode_payload("\x1e".join(["3"] * 10_000))) == 10_000
