"""Engine.IO v3 framing: text and XHR2 binary payloads, WebSocket frames (PROTOCOL-NOTES-WAVE2
§1; engine.io-protocol v3 README; engine.io's parser-v3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsgi_sio.protocol import engineio3
from wsgi_sio.protocol.engineio import Packet, PacketType
from wsgi_sio.protocol.errors import EngineIOError

HYPOTHESIS = settings(max_examples=150, deadline=None)
M = PacketType.MESSAGE


def test_text_payload_is_length_prefixed() -> None:
    packets = [Packet(M, "hello"), Packet(M, b"\x01\x02\x03\x04"), Packet(PacketType.PING)]
    body = engineio3.encode_payload(packets)
    assert body == "6:4hello10:b4AQIDBA==1:2"
    assert engineio3.decode_payload(body) == packets


def test_lengths_count_utf16_code_units() -> None:
    # JavaScript's String.length: é is 1, 😀 (past U+FFFF) is 2
    assert engineio3.encode_payload([Packet(M, "é😀")]) == "4:4é😀"
    assert engineio3.decode_payload("4:4é😀2:4x") == [Packet(M, "é😀"), Packet(M, "x")]
    assert engineio3.utf16_length("é😀") == 3


def test_a_length_splitting_a_surrogate_pair_is_an_error() -> None:
    with pytest.raises(EngineIOError):
        engineio3.decode_payload("3:4é😀")


def test_empty_payload_encodes_as_zero() -> None:
    assert engineio3.encode_payload([]) == "0:"
    assert engineio3.decode_payload("0:") == []


def test_handshake_framing() -> None:
    open_json = '{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'
    body = engineio3.encode_payload([Packet(PacketType.OPEN, open_json)])
    assert body == f"{len(open_json) + 1}:0{open_json}"


def test_binary_payload_spec_example() -> None:
    # engine.io-protocol v3 README: "4€" and <01 02 03 04>
    body = bytes.fromhex("00 04 ff 34 e2 82 ac 01 05 ff 04 01 02 03 04")
    packets = [Packet(M, "€"), Packet(M, b"\x01\x02\x03\x04")]
    assert engineio3.encode_binary_payload(packets) == body
    assert engineio3.decode_binary_payload(body) == packets


def test_binary_payload_lengths_count_utf8_bytes_and_many_digits() -> None:
    text = "x" * 1234
    body = engineio3.encode_binary_payload([Packet(M, text)])
    assert body[:6] == bytes([0, 1, 2, 3, 5, 0xFF])  # "4" + 1234 chars = 1235 bytes
    assert engineio3.decode_binary_payload(body) == [Packet(M, text)]


def test_websocket_frames() -> None:
    assert engineio3.encode_frame(Packet(M, "hi")) == "4hi"
    assert engineio3.encode_frame(Packet(M, b"\x01\x02")) == b"\x04\x01\x02"
    assert engineio3.encode_frame(Packet(M, b"\x01\x02"), binary=False) == "b4AQI="
    assert engineio3.decode_frame(b"\x04\x01\x02") == Packet(M, b"\x01\x02")
    assert engineio3.decode_frame("b4AQI=") == Packet(M, b"\x01\x02")
    assert engineio3.decode_frame("2") == Packet(PacketType.PING)
    assert engineio3.decode_frame("2probe") == Packet(PacketType.PING, "probe")


@pytest.mark.parametrize("body", [
    "", "abc", "1:", "5:4hi", ":4hi", "x:4", "-1:4", "1.0:4", "99999999999:4", "3:4hi3",
    "2:9x", "1:b", "4:b4!!", "6:b2AQI=", "٣:4ab",  # Arabic-Indic digit three
])
def test_bad_text_payloads_are_errors(body: str) -> None:
    with pytest.raises(EngineIOError):
        engineio3.decode_payload(body)


@pytest.mark.parametrize("body", [
    b"", b"\x02\x01\xff4", b"\x00\x01", b"\x00\x0a\xff4", b"\x00\xff4", b"\x00\x09\xff4",
    b"\x00" + b"\x09" * 20 + b"\xff", b"\x00\x02\xff\xff\xfe", b"\x01\x01\xff\x02",
    b"\x01\x00\xff",
])
def test_bad_binary_payloads_are_errors(body: bytes) -> None:
    with pytest.raises(EngineIOError):
        engineio3.decode_binary_payload(body)


def test_bad_frames_are_errors() -> None:
    for frame in (b"", b"\x02ping", "b4@@", "b2AQI=", "", "9"):
        with pytest.raises(EngineIOError):
            engineio3.decode_frame(frame)


def test_max_packets() -> None:
    with pytest.raises(EngineIOError):
        engineio3.decode_payload("1:21:21:2", max_packets=2)
    with pytest.raises(EngineIOError):
        engineio3.decode_binary_payload(bytes([0, 1, 0xFF]) + b"2" + bytes([0, 1, 0xFF]) + b"2",
                                        max_packets=1)


# -- properties ---------------------------------------------------------------------------

text_packets = st.builds(Packet, st.sampled_from([PacketType.MESSAGE, PacketType.PING,
                                                  PacketType.PONG, PacketType.NOOP]),
                         st.text(min_size=1))
packets = st.one_of(text_packets, st.builds(Packet, st.just(M), st.binary()),
                    st.builds(Packet, st.just(M), st.just("")))




@HYPOTHESIS
@given(st.lists(packets, max_size=8))
def test_text_payload_round_trip(items: list[Packet]) -> None:
    assert engineio3.decode_payload(engineio3.encode_payload(items)) == items


@HYPOTHESIS
@given(st.lists(packets, max_size=8))
def test_binary_payload_round_trip(items: list[Packet]) -> None:
    body = engineio3.encode_binary_payload(items)
    assert engineio3.decode_binary_payload(body) == items if items else body == b""


@HYPOTHESIS
@given(packets, st.booleans())
def test_frame_round_trip(packet: Packet, binary: bool) -> None:
    assert engineio3.decode_frame(engineio3.encode_frame(packet, binary)) == packet


@HYPOTHESIS
@given(st.one_of(st.text(), st.text(alphabet="0123456789:b4AQI=😀é"), st.from_regex(r"(\d{1,3}:4[a-z😀]{0,4})+")))
def test_text_garbage_never_crashes(body: str) -> None:
    try:
        decoded = engineio3.decode_payload(body, max_packets=100)
    except EngineIOError:
        return
    assert all(isinstance(p, Packet) for p in decoded)


@HYPOTHESIS
@given(st.one_of(st.binary(), st.lists(st.sampled_from([0, 1, 2, 3, 9, 0xFF, 0x34, 0x04]))
                 .map(bytes)))
def test_binary_garbage_never_crashes(body: bytes) -> None:
    try:
        decoded = engineio3.decode_binary_payload(body, max_packets=100)
    except EngineIOError:
        return
    assert all(isinstance(p, Packet) for p in decoded)


@HYPOTHESIS
@given(st.one_of(st.text(), st.binary()))
def test_frame_garbage_never_crashes(frame: str | bytes) -> None:
    try:
        engineio3.decode_frame(frame)
    except EngineIOError:
        pass
