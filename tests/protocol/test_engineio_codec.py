"""Engine.IO v4 packet and polling-payload codec (PROTOCOL-NOTES §1.2, §1.5, §1.6)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsgi_sio.protocol import engineio
from wsgi_sio.protocol.engineio import (
    SEPARATOR,
    Packet,
    PacketType,
    decode_packet,
    decode_payload,
    decode_polling_packet,
    encode_packet,
    encode_payload,
    encode_polling_packet,
)
from wsgi_sio.protocol.errors import EngineIOError, LocalProtocolError, ProtocolError

HYPOTHESIS = settings(max_examples=150, deadline=None)


def test_packet_type_values() -> None:
    assert [(t.name, int(t)) for t in PacketType] == [
        ("OPEN", 0),
        ("CLOSE", 1),
        ("PING", 2),
        ("PONG", 3),
        ("MESSAGE", 4),
        ("UPGRADE", 5),
        ("NOOP", 6),
    ]
    assert SEPARATOR == "\x1e"


def test_packet_equality_and_repr() -> None:
    assert Packet(PacketType.MESSAGE, "hi") == Packet(PacketType.MESSAGE, "hi")
    assert Packet(PacketType.MESSAGE, "hi") != Packet(PacketType.MESSAGE, "ho")
    assert Packet(PacketType.PING) != Packet(PacketType.PONG)
    assert Packet(PacketType.PING) != "2"
    assert repr(Packet(PacketType.PING, "probe")) == "Packet(PING, 'probe')"
    assert not hasattr(Packet(PacketType.NOOP), "__dict__")


# --- single packets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("packet", "wire"),
    [
        (Packet(PacketType.OPEN, '{"sid":"abc"}'), '0{"sid":"abc"}'),
        (Packet(PacketType.CLOSE), "1"),
        (Packet(PacketType.PING), "2"),
        (Packet(PacketType.PING, "probe"), "2probe"),
        (Packet(PacketType.PONG), "3"),
        (Packet(PacketType.PONG, "probe"), "3probe"),
        (Packet(PacketType.MESSAGE, "hello"), "4hello"),
        (Packet(PacketType.MESSAGE, ""), "4"),
        (Packet(PacketType.MESSAGE, "é€😀"), "4é€😀"),
        (Packet(PacketType.UPGRADE), "5"),
        (Packet(PacketType.NOOP), "6"),
    ],
)
def test_text_packets_both_ways(packet: Packet, wire: str) -> None:
    assert encode_packet(packet) == wire
    assert encode_polling_packet(packet) == wire
    assert decode_packet(wire) == packet
    assert decode_polling_packet(wire) == packet


def test_decoded_type_is_the_enum() -> None:
    assert decode_packet("2probe").type is PacketType.PING
    assert decode_packet("4x").type is PacketType.MESSAGE


def test_empty_data_is_none_except_for_message() -> None:
    assert decode_packet("2").data is None
    assert decode_packet("6").data is None
    assert decode_packet("4").data == ""


def test_websocket_binary_frame_is_raw_bytes() -> None:
    # §1.6: a binary frame is the message bytes with no type byte.
    packet = Packet(PacketType.MESSAGE, b"\x01\x02\x03\x04")
    assert encode_packet(packet) == b"\x01\x02\x03\x04"
    assert decode_packet(b"\x01\x02\x03\x04") == packet
    assert decode_packet(b"") == Packet(PacketType.MESSAGE, b"")
    assert decode_packet(bytearray(b"\x04")) == Packet(PacketType.MESSAGE, b"\x04")
    assert type(decode_packet(bytearray(b"\x04")).data) is bytes


def test_bytearray_and_memoryview_are_encoded_as_bytes() -> None:
    assert encode_packet(Packet(PacketType.MESSAGE, bytearray(b"ab"))) == b"ab"
    assert encode_packet(Packet(PacketType.MESSAGE, memoryview(b"ab"))) == b"ab"
    assert encode_polling_packet(Packet(PacketType.MESSAGE, memoryview(b"ab"))) == "bYWI="


def test_polling_binary_is_base64() -> None:
    packet = Packet(PacketType.MESSAGE, b"\x01\x02\x03\x04")
    assert encode_polling_packet(packet) == "bAQIDBA=="
    assert decode_polling_packet("bAQIDBA==") == packet
    assert decode_polling_packet("b") == Packet(PacketType.MESSAGE, b"")


def test_binary_only_for_message() -> None:
    with pytest.raises(LocalProtocolError):
        encode_packet(Packet(PacketType.PING, b"x"))
    with pytest.raises(LocalProtocolError):
        encode_polling_packet(Packet(PacketType.PING, b"x"))


@pytest.mark.parametrize("wire", ["", "7", "9hello", "a", "x4", " 4", "b", "bAQIDBA==", "٤x"])
def test_websocket_decode_rejects(wire: str) -> None:
    # A "b" text frame is not a packet over WebSocket: binary goes in binary frames.
    with pytest.raises(EngineIOError):
        decode_packet(wire)


@pytest.mark.parametrize(
    "wire",
    ["", "7", "abc", "bAQIDBA", "bAQ==AQ==", "b!!!!", "bAQID BA==", "bAQIDBA==\n", "bé", "bA"],
)
def test_polling_decode_rejects(wire: str) -> None:
    with pytest.raises(EngineIOError):
        decode_polling_packet(wire)


def test_decode_rejects_other_types() -> None:
    with pytest.raises(EngineIOError):
        decode_packet(42)  # type: ignore[arg-type]


# --- payloads ------------------------------------------------------------------------------


def test_payload_examples_from_the_spec() -> None:
    # §1.5, byte for byte.
    packets = [
        Packet(PacketType.MESSAGE, "hello"),
        Packet(PacketType.PING),
        Packet(PacketType.MESSAGE, "world"),
    ]
    assert encode_payload(packets) == "4hello\x1e2\x1e4world"
    assert decode_payload("4hello\x1e2\x1e4world") == packets

    mixed = [Packet(PacketType.MESSAGE, "hello"), Packet(PacketType.MESSAGE, b"\x01\x02\x03\x04")]
    assert encode_payload(mixed) == "4hello\x1ebAQIDBA=="
    assert decode_payload("4hello\x1ebAQIDBA==") == mixed


def test_payload_of_buffered_messages() -> None:
    packets = [Packet(PacketType.MESSAGE, f"test{i}") for i in (1, 2, 3)]
    assert encode_payload(packets) == "4test1\x1e4test2\x1e4test3"
    assert encode_payload(iter(packets)) == "4test1\x1e4test2\x1e4test3"


def test_single_packet_payloads() -> None:
    assert encode_payload([Packet(PacketType.CLOSE)]) == "1"
    assert decode_payload("1") == [Packet(PacketType.CLOSE)]
    assert decode_payload("4") == [Packet(PacketType.MESSAGE, "")]
    assert decode_payload("4\x1e4") == [Packet(PacketType.MESSAGE, "")] * 2


@pytest.mark.parametrize(
    "body",
    ["", "abc", "4hello\x1e", "\x1e4hello", "4a\x1e\x1e4b", "4hello\x1e9", "4ok\x1ebnot base64"],
)
def test_payload_with_any_bad_packet_is_refused(body: str) -> None:
    with pytest.raises(EngineIOError):
        decode_payload(body)


def test_payload_packet_limit() -> None:
    assert len(decode_payload("2\x1e2\x1e2", max_packets=3)) == 3
    with pytest.raises(EngineIOError, match="more than"):
        decode_payload("2\x1e2\x1e2\x1e2", max_packets=3)


def test_huge_payload_is_linear() -> None:
    body = SEPARATOR.join(["4x"] * 200_000)
    assert len(decode_payload(body)) == 200_000
    with pytest.raises(EngineIOError):
        decode_payload(body, max_packets=1000)
    with pytest.raises(EngineIOError):
        decode_payload(SEPARATOR * 200_000)


# --- properties ----------------------------------------------------------------------------

text_packets = st.builds(
    Packet,
    st.sampled_from([t for t in PacketType if t is not PacketType.MESSAGE]),
    st.one_of(st.none(), st.text(min_size=1)),
)
message_packets = st.builds(
    Packet, st.just(PacketType.MESSAGE), st.one_of(st.text(), st.binary())
)
packets = st.one_of(text_packets, message_packets)


@HYPOTHESIS
@given(packets)
def test_websocket_round_trip(packet: Packet) -> None:
    assert decode_packet(encode_packet(packet)) == packet


@HYPOTHESIS
@given(st.lists(packets, min_size=1, max_size=8))
def test_payload_round_trip(items: list[Packet]) -> None:
    # A separator inside text data would split the packet; Engine.IO leaves that to the
    # caller (Socket.IO JSON never contains a raw \x1e), so keep it out of this property.
    items = [p for p in items if not (isinstance(p.data, str) and SEPARATOR in p.data)]
    if not items:
        return
    assert decode_payload(encode_payload(items)) == items


@HYPOTHESIS
@given(st.one_of(st.text(), st.binary()))
def test_websocket_garbage_only_raises_protocol_errors(data: str | bytes) -> None:
    try:
        decode_packet(data)
    except ProtocolError:
        pass


@HYPOTHESIS
@given(st.one_of(st.text(), st.text(alphabet="b46\x1e=+/AQIDBAxyz")))
def test_payload_garbage_only_raises_protocol_errors(body: str) -> None:
    try:
        decode_payload(body, max_packets=20)
    except EngineIOError:
        pass


def test_module_exports() -> None:
    assert set(engineio.__all__) >= {"Packet", "PacketType", "encode_payload", "decode_payload"}
