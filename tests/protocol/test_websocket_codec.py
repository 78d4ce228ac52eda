"""Byte-level tests of the RFC 6455 handshake and frame codec in wsgi_sio.protocol.websocket."""

from __future__ import annotations

import itertools
import os
import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsgi_sio.protocol.errors import HandshakeError, LocalProtocolError, WebSocketError
from wsgi_sio.protocol.websocket import (
    Close,
    FrameDecoder,
    Message,
    Opcode,
    Ping,
    Pong,
    accept_handshake,
    encode_close,
    encode_frame,
    encode_message,
    environ_headers,
    unmask,
)

RFC_MASK = bytes.fromhex("37fa213d")


def client_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    mask: bytes | None = RFC_MASK,
    rsv: int = 0,
    length_bytes: int | None = None,
    length: int | None = None,
) -> bytes:
    """A frame as a client sends it: masked unless ``mask`` is None.

    ``length_bytes`` forces the 16-bit (2) or 64-bit (8) length form even when a shorter one
    fits; ``length`` overrides the announced length (for header-only tests).
    """
    n = len(payload) if length is None else length
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    mask_bit = 0x80 if mask is not None else 0
    if length_bytes is None:
        length_bytes = 0 if n < 126 else 2 if n < 0x10000 else 8
    if length_bytes == 0:
        head = bytes((first, mask_bit | n))
    elif length_bytes == 2:
        head = bytes((first, mask_bit | 126)) + struct.pack("!H", n)
    else:
        head = bytes((first, mask_bit | 127)) + struct.pack("!Q", n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def decode(data: bytes, **kwargs: int) -> list[object]:
    return FrameDecoder(**kwargs).feed(data)


def error_code(data: bytes, **kwargs: int) -> int:
    with pytest.raises(WebSocketError) as info:
        FrameDecoder(**kwargs).feed(data)
    return info.value.code


# --- RFC 6455 §5.7 examples --------------------------------------------------------------


def test_rfc_masked_hello() -> None:
    assert decode(bytes.fromhex("81 85 37 fa 21 3d 7f 9f 4d 51 58")) == [Message("Hello")]


def test_helper_matches_rfc_masked_hello() -> None:
    assert client_frame(Opcode.TEXT, b"Hello") == bytes.fromhex("81 85 37 fa 21 3d 7f 9f 4d 51 58")


def test_rfc_unmasked_hello_is_refused_from_a_client() -> None:
    assert error_code(bytes.fromhex("81 05 48 65 6c 6c 6f")) == 1002


def test_rfc_encoded_frames() -> None:
    assert encode_message("Hello") == bytes.fromhex("81 05 48 65 6c 6c 6f")
    assert encode_frame(Opcode.TEXT, b"Hel", fin=False) == bytes.fromhex("01 03 48 65 6c")
    assert encode_frame(Opcode.CONTINUATION, b"lo") == bytes.fromhex("80 02 6c 6f")
    assert encode_frame(Opcode.PING, b"Hello") == bytes.fromhex("89 05 48 65 6c 6c 6f")
    assert encode_frame(Opcode.PONG, b"Hello") == bytes.fromhex("8a 05 48 65 6c 6c 6f")


def test_rfc_fragmented_text() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(client_frame(Opcode.TEXT, b"Hel", fin=False)) == []
    assert decoder.feed(client_frame(Opcode.CONTINUATION, b"lo")) == [Message("Hello")]


def test_rfc_ping_and_masked_pong() -> None:
    assert decode(client_frame(Opcode.PING, b"Hello")) == [Ping(b"Hello")]
    assert decode(bytes.fromhex("8a 85 37 fa 21 3d 7f 9f 4d 51 58")) == [Pong(b"Hello")]


def test_rfc_256_byte_binary() -> None:
    payload = os.urandom(256)
    assert encode_message(payload)[:4] == bytes.fromhex("82 7e 01 00")
    assert encode_message(payload)[4:] == payload
    frame = client_frame(Opcode.BINARY, payload)
    assert frame[:4] == bytes.fromhex("82 fe 01 00")
    assert decode(frame) == [Message(payload)]


def test_rfc_64kib_binary() -> None:
    payload = os.urandom(65536)
    assert encode_message(payload)[:10] == bytes.fromhex("82 7f 00 00 00 00 00 01 00 00")
    assert encode_message(payload)[10:] == payload
    frame = client_frame(Opcode.BINARY, payload)
    assert frame[:10] == bytes.fromhex("82 ff 00 00 00 00 00 01 00 00")
    assert decode(frame) == [Message(payload)]


# --- encoders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "header"),
    [
        (0, "82 00"),
        (125, "82 7d"),
        (126, "82 7e 00 7e"),
        (65535, "82 7e ff ff"),
        (65536, "82 7f 00 00 00 00 00 01 00 00"),
    ],
)
def test_encode_length_boundaries(size: int, header: str) -> None:
    head = bytes.fromhex(header)
    frame = encode_message(b"x" * size)
    assert frame == head + b"x" * size
    assert encode_frame(Opcode.BINARY, b"x" * size) == frame


def test_encode_message_text_is_utf8_and_accepts_bytes_likes() -> None:
    assert encode_message("é") == b"\x81\x02\xc3\xa9"
    assert encode_message(bytearray(b"ab")) == b"\x82\x02ab"
    assert encode_message(memoryview(b"ab")) == b"\x82\x02ab"


def test_encode_frame_refuses_illegal_control_frames() -> None:
    with pytest.raises(LocalProtocolError):
        encode_frame(Opcode.PING, b"x" * 126)
    with pytest.raises(LocalProtocolError):
        encode_frame(Opcode.CLOSE, b"", fin=False)
    assert encode_frame(Opcode.PING, b"x" * 125)[:2] == b"\x89\x7d"


def test_encode_close() -> None:
    assert encode_close() == bytes.fromhex("88 02 03 e8")
    assert encode_close(1001, "bye") == bytes.fromhex("88 05 03 e9") + b"bye"
    assert encode_close(4999) == bytes.fromhex("88 02 13 87")


def test_encode_close_truncates_reason_on_a_character_boundary() -> None:
    frame = encode_close(1011, "x" + "€" * 100)
    assert frame[0] == 0x88 and frame[1] == len(frame) - 2 <= 125
    reason = frame[4:].decode("utf-8")  # still valid UTF-8
    assert reason == "x" + "€" * 40
    assert encode_close(1000, "\ud800")[4:] == b"?"


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 2000, 5000])
def test_encode_close_refuses_codes_not_for_the_wire(code: int) -> None:
    with pytest.raises(LocalProtocolError):
        encode_close(code)


def test_server_close_round_trips_when_masked() -> None:
    frame = encode_close(1001, "going away")
    payload = frame[2:]
    assert decode(client_frame(Opcode.CLOSE, payload)) == [Close(1001, "going away")]


# --- unmask --------------------------------------------------------------------------------


def reference_unmask(payload: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_unmask_rfc_example() -> None:
    assert unmask(bytes.fromhex("7f 9f 4d 51 58"), RFC_MASK) == b"Hello"


@pytest.mark.parametrize("size", range(10))
def test_unmask_short_lengths(size: int) -> None:
    payload = bytes(range(200, 200 + size))
    assert unmask(payload, b"\x01\x80\xff\x00") == reference_unmask(payload, b"\x01\x80\xff\x00")


def test_unmask_zero_mask_and_bytearray_input() -> None:
    assert unmask(b"abc", b"\0\0\0\0") == b"abc"
    assert unmask(bytearray(b"\xff\xff"), b"\xff\x0f\0\0") == b"\x00\xf0"
    assert unmask(b"", RFC_MASK) == b""


@given(st.binary(max_size=600), st.binary(min_size=4, max_size=4))
def test_unmask_matches_reference(payload: bytes, mask: bytes) -> None:
    result = unmask(payload, mask)
    assert type(result) is bytes
    assert result == reference_unmask(payload, mask)


def test_one_megabyte_frame() -> None:
    # Speed is the benchmark's business (bench/); here only the result is checked.
    payload = os.urandom(1_000_000)
    masked = unmask(payload, RFC_MASK)
    frame = bytes((0x82, 0xFF)) + struct.pack("!Q", len(payload)) + RFC_MASK + masked
    events = FrameDecoder(max_message_size=2_000_000).feed(frame)
    assert events == [Message(payload)]


# --- decoder behaviour ---------------------------------------------------------------------


def test_empty_messages() -> None:
    assert decode(client_frame(Opcode.TEXT)) == [Message("")]
    assert decode(client_frame(Opcode.BINARY)) == [Message(b"")]
    assert decode(client_frame(Opcode.PING)) == [Ping(b"")]


def test_non_minimal_lengths_are_accepted() -> None:
    stream = client_frame(Opcode.TEXT, b"hi", length_bytes=2) + client_frame(
        Opcode.BINARY, b"yo", length_bytes=8
    )
    assert decode(stream) == [Message("hi"), Message(b"yo")]


def test_control_frames_between_fragments() -> None:
    stream = (
        client_frame(Opcode.BINARY, b"ab", fin=False)
        + client_frame(Opcode.PING, b"1")
        + client_frame(Opcode.CONTINUATION, b"cd", fin=False)
        + client_frame(Opcode.PONG, b"2")
        + client_frame(Opcode.CONTINUATION, b"ef")
        + client_frame(Opcode.TEXT, b"next")
    )
    assert decode(stream) == [Ping(b"1"), Pong(b"2"), Message(b"abcdef"), Message("next")]


def test_many_frames_in_one_feed() -> None:
    stream = b"".join(client_frame(Opcode.TEXT, str(i).encode()) for i in range(1000))
    assert decode(stream) == [Message(str(i)) for i in range(1000)]


def test_many_small_frames_across_feeds() -> None:
    count = 50_000
    stream = client_frame(Opcode.BINARY, b"abcdefgh") * count
    decoder = FrameDecoder()
    events = []
    for i in range(0, len(stream), 4096):
        events += decoder.feed(stream[i : i + 4096])
    assert events == [Message(b"abcdefgh")] * count


def test_close_with_and_without_body() -> None:
    assert decode(client_frame(Opcode.CLOSE)) == [Close(None, "")]
    assert decode(client_frame(Opcode.CLOSE, b"\x03\xe8")) == [Close(1000, "")]
    body = b"\x0f\xa0" + "ciao ✓".encode()
    assert decode(client_frame(Opcode.CLOSE, body)) == [Close(4000, "ciao ✓")]


@pytest.mark.parametrize(
    "code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
)
def test_valid_close_codes(code: int) -> None:
    assert decode(client_frame(Opcode.CLOSE, struct.pack("!H", code))) == [Close(code, "")]


def test_nothing_after_close() -> None:
    decoder = FrameDecoder()
    stream = (
        client_frame(Opcode.TEXT, b"a")
        + client_frame(Opcode.CLOSE, b"\x03\xe8")
        + client_frame(Opcode.TEXT, b"dropped")
    )
    assert decoder.feed(stream) == [Message("a"), Close(1000, "")]
    assert decoder.closed
    assert decoder.feed(client_frame(Opcode.TEXT, b"b")) == []
    assert decoder.feed(b"\xff\xff garbage") == []


def test_decoder_stays_failed() -> None:
    decoder = FrameDecoder()
    with pytest.raises(WebSocketError) as first:
        decoder.feed(b"\xf1\x80")
    with pytest.raises(WebSocketError) as again:
        decoder.feed(client_frame(Opcode.TEXT, b"fine"))
    assert first.value.code == again.value.code == 1002


def test_message_exactly_at_the_limit_is_accepted() -> None:
    assert decode(client_frame(Opcode.BINARY, b"x" * 100), max_message_size=100) == [
        Message(b"x" * 100)
    ]
    stream = client_frame(Opcode.TEXT, b"x" * 60, fin=False) + client_frame(
        Opcode.CONTINUATION, b"y" * 40
    )
    assert decode(stream, max_message_size=100) == [Message("x" * 60 + "y" * 40)]


def test_control_frames_do_not_count_toward_the_limit() -> None:
    stream = (
        client_frame(Opcode.TEXT, b"x" * 8, fin=False)
        + client_frame(Opcode.PING, b"p" * 125)
        + client_frame(Opcode.CONTINUATION, b"y" * 2)
    )
    assert decode(stream, max_message_size=10) == [Ping(b"p" * 125), Message("x" * 8 + "yy")]


# --- errors and their close codes ----------------------------------------------------------


def close_body(code: int) -> bytes:
    return struct.pack("!H", code)


ERROR_CASES = [
    ("rsv1", client_frame(Opcode.TEXT, b"a", rsv=4), 1002),
    ("rsv2", client_frame(Opcode.TEXT, b"a", rsv=2), 1002),
    ("rsv3", client_frame(Opcode.TEXT, b"a", rsv=1), 1002),
    ("rsv on ping", client_frame(Opcode.PING, b"", rsv=4), 1002),
    *[(f"opcode {op:#x}", client_frame(op, b"a"), 1002) for op in (3, 4, 5, 6, 7, 11, 12, 15)],
    ("unmasked", client_frame(Opcode.BINARY, b"a", mask=None), 1002),
    ("unmasked close", client_frame(Opcode.CLOSE, b"", mask=None), 1002),
    ("ping 126 bytes", client_frame(Opcode.PING, b"p" * 126), 1002),
    ("pong 126 bytes", client_frame(Opcode.PONG, b"p" * 126), 1002),
    ("close 126 bytes", client_frame(Opcode.CLOSE, b"\x03\xe8" + b"r" * 124), 1002),
    ("ping not fin", client_frame(Opcode.PING, b"p", fin=False), 1002),
    ("close not fin", client_frame(Opcode.CLOSE, b"", fin=False), 1002),
    ("lone continuation", client_frame(Opcode.CONTINUATION, b"a"), 1002),
    ("lone final continuation", client_frame(Opcode.CONTINUATION, b"a", fin=False), 1002),
    (
        "text during fragmented message",
        client_frame(Opcode.TEXT, b"a", fin=False) + client_frame(Opcode.TEXT, b"b"),
        1002,
    ),
    (
        "binary during fragmented message",
        client_frame(Opcode.BINARY, b"a", fin=False) + client_frame(Opcode.BINARY, b"b"),
        1002,
    ),
    ("close body of 1 byte", client_frame(Opcode.CLOSE, b"\x03"), 1002),
    *[
        (f"close code {code}", client_frame(Opcode.CLOSE, close_body(code)), 1002)
        for code in (0, 999, 1004, 1005, 1006, 1012, 1015, 1016, 1100, 2000, 2999, 5000, 65535)
    ],
    ("64-bit length top bit", b"\x82\xff" + struct.pack("!Q", 1 << 63), 1002),
    ("invalid utf-8 text", client_frame(Opcode.TEXT, b"\xff"), 1007),
    ("surrogate in utf-8 text", client_frame(Opcode.TEXT, b"\xed\xa0\x80"), 1007),
    ("overlong utf-8 text", client_frame(Opcode.TEXT, b"\xc0\xaf"), 1007),
    ("truncated utf-8 text", client_frame(Opcode.TEXT, b"a\xe2\x82"), 1007),
    (
        "truncated utf-8 at end of fragments",
        client_frame(Opcode.TEXT, b"a", fin=False) + client_frame(Opcode.CONTINUATION, b"\xe2\x82"),
        1007,
    ),
    ("invalid utf-8 close reason", client_frame(Opcode.CLOSE, b"\x03\xe8\xff"), 1007),
    ("too big 7-bit", client_frame(Opcode.BINARY, b"x" * 11), 1009),
    ("too big 16-bit", client_frame(Opcode.TEXT, b"x" * 200), 1009),
    (
        "fragments over the limit",
        client_frame(Opcode.BINARY, b"x" * 6, fin=False)
        + client_frame(Opcode.CONTINUATION, b"x" * 5),
        1009,
    ),
]


@pytest.mark.parametrize(
    ("data", "code"), [case[1:] for case in ERROR_CASES], ids=[case[0] for case in ERROR_CASES]
)
def test_error_close_codes(data: bytes, code: int) -> None:
    assert error_code(data, max_message_size=10) == code


def test_error_reason_says_what_was_wrong() -> None:
    with pytest.raises(WebSocketError, match="not masked"):
        FrameDecoder().feed(client_frame(Opcode.TEXT, b"a", mask=None))


def test_header_errors_fire_before_the_payload_arrives() -> None:
    # Two bytes are enough to refuse an unmasked or reserved frame.
    assert error_code(b"\x81\x05") == 1002
    assert error_code(b"\x83\x85") == 1002
    assert error_code(b"\x89\xfe") == 1002


def test_huge_announced_length_raises_without_allocating() -> None:
    header = b"\x82\xff" + struct.pack("!Q", 2**62)  # 4 EiB announced, nothing else sent
    decoder = FrameDecoder()
    tracemalloc.start()
    try:
        with pytest.raises(WebSocketError) as info:
            decoder.feed(header)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == 1009
    assert peak < 64 * 1024


def test_over_limit_continuation_raises_from_its_header() -> None:
    decoder = FrameDecoder(max_message_size=1000)
    assert decoder.feed(client_frame(Opcode.BINARY, b"x" * 900, fin=False)) == []
    with pytest.raises(WebSocketError) as info:
        decoder.feed(b"\x80\xfe" + struct.pack("!H", 101))
    assert info.value.code == 1009


def test_flood_of_tiny_continuations_is_bounded_by_bytes() -> None:
    decoder = FrameDecoder(max_message_size=1000)
    decoder.feed(client_frame(Opcode.TEXT, b"x", fin=False))
    tiny = client_frame(Opcode.CONTINUATION, b"x", fin=False)
    assert decoder.feed(tiny * 999) == []
    with pytest.raises(WebSocketError) as info:
        decoder.feed(tiny)
    assert info.value.code == 1009


def test_invalid_utf8_fails_on_the_bad_fragment() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(client_frame(Opcode.TEXT, "ok é".encode(), fin=False)) == []
    with pytest.raises(WebSocketError) as info:
        decoder.feed(client_frame(Opcode.CONTINUATION, b"\xc3\x28", fin=False))
    assert info.value.code == 1007


def test_invalid_utf8_fails_before_its_frame_is_complete() -> None:
    # Autobahn 6.4.3/6.4.4: one frame in three reads, the bad bytes in the middle one
    frame = client_frame(Opcode.TEXT, "κόσμε".encode() + b"\xf4\x90\x80\x80" + b"edited")
    decoder = FrameDecoder()
    assert decoder.feed(frame[:8]) == []
    with pytest.raises(WebSocketError) as info:
        decoder.feed(frame[8:-3])
    assert info.value.code == 1007


def test_partial_text_check_keeps_a_split_character_and_the_mask_phase() -> None:
    raw = "a€b😀c".encode() * 5
    frame = client_frame(Opcode.TEXT, raw, mask=b"\x01\x02\x03\x04")
    for cut in range(7, len(frame)):
        decoder = FrameDecoder()
        assert decoder.feed(frame[:cut]) + decoder.feed(frame[cut:]) == [Message(raw.decode())]


def test_frames_before_a_bad_one_are_returned_then_the_error_is_raised() -> None:
    # Autobahn 3.2 / 5.15: the first message is echoed, then the connection fails
    decoder = FrameDecoder()
    stream = client_frame(Opcode.TEXT, b"first") + client_frame(Opcode.TEXT, b"x", rsv=2)
    assert decoder.feed(stream) == [Message("first")]
    assert decoder.error is not None and decoder.error.code == 1002
    with pytest.raises(WebSocketError) as info:
        decoder.feed(b"")
    assert info.value is decoder.error


# --- chunking and fragmentation ------------------------------------------------------------

MIXED_STREAM = (
    client_frame(Opcode.TEXT, "héllo".encode())
    + client_frame(Opcode.BINARY, bytes(range(256)))
    + client_frame(Opcode.TEXT, b"frag", fin=False, mask=b"\x00\x01\x02\x03")
    + client_frame(Opcode.PING, b"ping")
    + client_frame(Opcode.CONTINUATION, "menté €".encode())
    + client_frame(Opcode.BINARY, b"z" * 70000)
    + client_frame(Opcode.PONG)
    + client_frame(Opcode.CLOSE, b"\x03\xe9bye")
)
MIXED_EVENTS = [
    Message("héllo"),
    Message(bytes(range(256))),
    Ping(b"ping"),
    Message("fragmenté €"),
    Message(b"z" * 70000),
    Pong(b""),
    Close(1001, "bye"),
]


def test_whole_stream() -> None:
    assert decode(MIXED_STREAM) == MIXED_EVENTS


def test_one_byte_at_a_time_gives_the_same_events() -> None:
    decoder = FrameDecoder()
    events = []
    for i in range(len(MIXED_STREAM)):
        events += decoder.feed(MIXED_STREAM[i : i + 1])
    assert events == MIXED_EVENTS


def test_empty_feeds_are_harmless() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(MIXED_STREAM[:3]) == []
    assert decoder.feed(b"") == []
    assert decoder.feed(MIXED_STREAM[3:]) == MIXED_EVENTS


@pytest.mark.parametrize("text", ["é", "€", "😀", "a€b😀c"])
def test_utf8_split_inside_a_character(text: str) -> None:
    raw = text.encode("utf-8")
    for cut in range(len(raw) + 1):
        stream = client_frame(Opcode.TEXT, raw[:cut], fin=False) + client_frame(
            Opcode.CONTINUATION, raw[cut:]
        )
        assert decode(stream) == [Message(text)], cut
    one_byte_fragments = client_frame(Opcode.TEXT, raw[:1], fin=False) + b"".join(
        client_frame(Opcode.CONTINUATION, raw[i : i + 1], fin=i == len(raw) - 1)
        for i in range(1, len(raw))
    )
    if len(raw) > 1:
        assert decode(one_byte_fragments) == [Message(text)]


# --- property-based ------------------------------------------------------------------------


@st.composite
def fragmented_stream(draw: st.DrawFn) -> tuple[bytes, list[object]]:
    """Random messages, each split into random fragments with random masks and pings."""
    messages = draw(
        st.lists(st.one_of(st.text(max_size=40), st.binary(max_size=40)), max_size=6)
    )
    stream = b""
    expected: list[object] = []
    for data in messages:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=4)))
        bounds = [0, *cuts, len(raw)]
        pieces = [raw[a:b] for a, b in itertools.pairwise(bounds)]
        first = Opcode.TEXT if isinstance(data, str) else Opcode.BINARY
        for i, piece in enumerate(pieces):
            mask = draw(st.binary(min_size=4, max_size=4))
            opcode = first if i == 0 else Opcode.CONTINUATION
            stream += client_frame(opcode, piece, fin=i == len(pieces) - 1, mask=mask)
            if draw(st.booleans()) and i < len(pieces) - 1:
                ping = draw(st.binary(max_size=8))
                stream += client_frame(Opcode.PING, ping, mask=mask)
                expected.append(Ping(ping))
        expected.append(Message(data))
    return stream, expected


def feed_in_chunks(decoder: FrameDecoder, stream: bytes, cuts: list[int]) -> list[object]:
    bounds = [0, *sorted(c % (len(stream) + 1) for c in cuts), len(stream)]
    events: list[object] = []
    for a, b in itertools.pairwise(bounds):
        events += decoder.feed(stream[a:b])
    return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragmented_stream(), st.lists(st.integers(0, 10_000), max_size=10))
def test_round_trip_with_random_fragmentation_and_chunking(
    case: tuple[bytes, list[object]], cuts: list[int]
) -> None:
    stream, expected = case
    assert feed_in_chunks(FrameDecoder(), stream, cuts) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=300), st.binary(max_size=300)), max_size=5))
def test_encode_message_round_trips(messages: list[str | bytes]) -> None:
    # Our frames are unmasked; mask them as a client would and decode them back.
    stream = b""
    for data in messages:
        frame = encode_message(data)
        n = frame[1]
        header = 2 if n < 126 else 4 if n == 126 else 10
        stream += (
            frame[:1] + bytes((frame[1] | 0x80,)) + frame[2:header] + RFC_MASK
            + unmask(frame[header:], RFC_MASK)
        )
    assert decode(stream) == [Message(data) for data in messages]


@st.composite
def frame_like(draw: st.DrawFn) -> bytes:
    """Mostly well-formed headers with random bits, so garbage reaches the deep checks."""
    payload = draw(st.binary(max_size=20))
    frame = client_frame(
        draw(st.sampled_from([0, 1, 2, 8, 9, 10, 3, 11])),
        payload,
        fin=draw(st.booleans()),
        mask=draw(st.sampled_from([RFC_MASK, b"\0\0\0\0", None])),
        rsv=draw(st.sampled_from([0, 0, 0, 1, 4])),
        length_bytes=draw(st.sampled_from([None, None, 2, 8])),
    )
    if draw(st.booleans()):
        frame += draw(st.binary(max_size=4))
    return frame


def assert_only_websocket_errors(stream: bytes, cuts: list[int]) -> None:
    decoder = FrameDecoder(max_message_size=50)
    try:
        feed_in_chunks(decoder, stream, cuts)
    except WebSocketError as exc:
        assert exc.code in (1002, 1007, 1009)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 1000), max_size=5))
def test_arbitrary_bytes_raise_only_websocket_error(data: bytes, cuts: list[int]) -> None:
    assert_only_websocket_errors(data, cuts)


@settings(max_examples=200, deadline=None)
@given(st.lists(frame_like(), max_size=8), st.lists(st.integers(0, 1000), max_size=5))
def test_frame_like_garbage_raises_only_websocket_error(
    frames: list[bytes], cuts: list[int]
) -> None:
    assert_only_websocket_errors(b"".join(frames), cuts)


# --- handshake -----------------------------------------------------------------------------

GOOD_HEADERS = {
    "method": "GET",
    "http-version": "HTTP/1.1",
    "upgrade": "websocket",
    "connection": "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
}


def test_rfc_handshake_accept_value() -> None:
    assert accept_handshake(GOOD_HEADERS) == [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
    ]


def test_handshake_tolerates_real_world_header_shapes() -> None:
    headers = dict(
        GOOD_HEADERS,
        upgrade="WebSocket",
        connection="keep-alive, Upgrade",
        **{"http-version": "HTTP/2.0", "sec-websocket-key": " dGhlIHNhbXBsZSBub25jZQ== "},
    )
    assert accept_handshake(headers)[2] == ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    minimal = {k: v for k, v in GOOD_HEADERS.items() if k not in ("method", "http-version")}
    assert accept_handshake(minimal)[2][1] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def without(name: str) -> dict[str, str]:
    return {k: v for k, v in GOOD_HEADERS.items() if k != name}


HANDSHAKE_ERRORS = [
    ("POST", dict(GOOD_HEADERS, method="POST"), 400),
    ("HTTP/1.0", dict(GOOD_HEADERS, **{"http-version": "HTTP/1.0"}), 400),
    ("garbage http version", dict(GOOD_HEADERS, **{"http-version": "HTTP/x"}), 400),
    ("no upgrade", without("upgrade"), 400),
    ("upgrade h2c", dict(GOOD_HEADERS, upgrade="h2c"), 400),
    ("no connection", without("connection"), 400),
    ("connection keep-alive", dict(GOOD_HEADERS, connection="keep-alive"), 400),
    ("no key", without("sec-websocket-key"), 400),
    ("key not base64", dict(GOOD_HEADERS, **{"sec-websocket-key": "not base64!!"}), 400),
    ("key 15 bytes", dict(GOOD_HEADERS, **{"sec-websocket-key": "AAAAAAAAAAAAAAAAAAAA"}), 400),
    ("key 17 bytes", dict(GOOD_HEADERS, **{"sec-websocket-key": "AAAAAAAAAAAAAAAAAAAAAAA="}), 400),
    ("key non-ascii", dict(GOOD_HEADERS, **{"sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ=é"}), 400),
    ("version 8", dict(GOOD_HEADERS, **{"sec-websocket-version": "8"}), 426),
    ("no version", without("sec-websocket-version"), 426),
]


@pytest.mark.parametrize(
    ("headers", "status"),
    [case[1:] for case in HANDSHAKE_ERRORS],
    ids=[case[0] for case in HANDSHAKE_ERRORS],
)
def test_handshake_errors(headers: dict[str, str], status: int) -> None:
    with pytest.raises(HandshakeError) as info:
        accept_handshake(headers)
    assert info.value.status == status
    if status == 426:
        assert info.value.headers == [("Sec-WebSocket-Version", "13")]


def test_environ_headers_feed_the_handshake() -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/socket.io/",
        "HTTP_UPGRADE": "websocket",
        "HTTP_CONNECTION": "Upgrade",
        "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
        "HTTP_SEC_WEBSOCKET_VERSION": "13",
        "wsgi.input": object(),
    }
    headers = environ_headers(environ)
    assert headers == GOOD_HEADERS
    assert accept_handshake(headers)[2][1] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*GOOD_HEADERS, "other"]),
        st.one_of(st.sampled_from(list(GOOD_HEADERS.values())), st.text(max_size=30)),
    )
)
def test_handshake_never_raises_anything_else(headers: dict[str, str]) -> None:
    try:
        accept_handshake(headers)
    except HandshakeError as exc:
        assert exc.status in (400, 426)
