"""Socket.IO v5 packet codec and binary attachments (PROTOCOL-NOTES §2.1-§2.3)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsgi_sio.protocol import socketio
from wsgi_sio.protocol.errors import LocalProtocolError, ProtocolError, SocketIOError
from wsgi_sio.protocol.socketio import (
    RESERVED_EVENTS,
    Decoder,
    Packet,
    PacketType,
    encode,
    encode_text,
)

HYPOTHESIS = settings(max_examples=150, deadline=None)

BUF = b"\x01\x02\x03\x04"


def decode_all(*messages: str | bytes, decoder: Decoder | None = None) -> Packet:
    """Feed messages; only the last may complete the packet."""
    decoder = decoder or Decoder()
    for message in messages[:-1]:
        assert decoder.feed(message) is None
    packet = decoder.feed(messages[-1])
    assert packet is not None
    assert not decoder.pending
    return packet


def test_packet_types_and_reserved_names() -> None:
    assert [int(t) for t in PacketType] == list(range(7))
    assert PacketType.CONNECT_ERROR == 4 and PacketType.BINARY_ACK == 6
    assert RESERVED_EVENTS == {
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    }


def test_packet_defaults_equality_repr() -> None:
    packet = Packet(PacketType.EVENT)
    assert (packet.namespace, packet.data, packet.id) == ("/", None, None)
    assert Packet(PacketType.EVENT, "/a", ["x"], 1) == Packet(PacketType.EVENT, "/a", ["x"], 1)
    assert Packet(PacketType.EVENT, "/a", ["x"], 1) != Packet(PacketType.EVENT, "/a", ["x"], 2)
    assert Packet(PacketType.EVENT) != "2"
    assert repr(Packet(PacketType.ACK, "/", [], 3)) == "Packet(ACK, namespace='/', data=[], id=3)"
    assert not hasattr(packet, "__dict__")


# --- spec examples, both ways (§2.2) ------------------------------------------------------

TEXT_EXAMPLES = [
    (Packet(PacketType.CONNECT), "0"),
    (
        Packet(PacketType.CONNECT, "/admin", {"sid": "oSO0OpakMV_3jnilAAAA"}),
        '0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}',
    ),
    (
        Packet(PacketType.CONNECT_ERROR, data={"message": "Not authorized"}),
        '4{"message":"Not authorized"}',
    ),
    (Packet(PacketType.EVENT, data=["foo"]), '2["foo"]'),
    (Packet(PacketType.EVENT, "/admin", ["bar"]), '2/admin,["bar"]'),
    (Packet(PacketType.EVENT, data=["foo"], id=12), '212["foo"]'),
    (Packet(PacketType.ACK, "/admin", ["bar"], 13), '3/admin,13["bar"]'),
    (Packet(PacketType.DISCONNECT, "/admin"), "1/admin,"),
    (Packet(PacketType.DISCONNECT), "1"),
    (Packet(PacketType.ACK, data=[1, "2", {"3": [False]}], id=456), '3456[1,"2",{"3":[false]}]'),
    (Packet(PacketType.ACK, data=[], id=1), "31[]"),
    (
        Packet(PacketType.CONNECT_ERROR, "/random", {"message": "Invalid namespace"}),
        '4/random,{"message":"Invalid namespace"}',
    ),
    (Packet(PacketType.CONNECT_ERROR, data="legacy reason"), '4"legacy reason"'),
]


@pytest.mark.parametrize(("packet", "wire"), TEXT_EXAMPLES)
def test_text_examples(packet: Packet, wire: str) -> None:
    assert encode(packet) == [wire]
    assert encode_text(packet) == wire
    assert decode_all(wire) == packet


def test_engineio_prefixed_example() -> None:
    # The suites write the Engine.IO message prefix too: "4" + ACK "3" + id 456 + payload.
    packet = Packet(PacketType.ACK, data=[1, "2", {"3": [False]}], id=456)
    assert "4" + encode_text(packet) == '43456[1,"2",{"3":[false]}]'
    assert decode_all('43456[1,"2",{"3":[false]}]'[1:]) == packet


def test_binary_event_example() -> None:
    packet = Packet(PacketType.EVENT, data=["baz", BUF])
    assert encode(packet) == ['51-["baz",{"_placeholder":true,"num":0}]', BUF]
    decoded = decode_all('51-["baz",{"_placeholder":true,"num":0}]', BUF)
    assert decoded == Packet(PacketType.BINARY_EVENT, data=["baz", BUF])


def test_binary_event_two_buffers_in_namespace() -> None:
    wire = '52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    packet = Packet(PacketType.EVENT, "/admin", ["baz", b"\x01", b"\x02"])
    assert encode(packet) == [wire, b"\x01", b"\x02"]
    assert decode_all(wire, b"\x01", b"\x02") == Packet(
        PacketType.BINARY_EVENT, "/admin", ["baz", b"\x01", b"\x02"]
    )


def test_binary_ack_example() -> None:
    wire = '61-15["bar",{"_placeholder":true,"num":0}]'
    packet = Packet(PacketType.ACK, data=["bar", BUF], id=15)
    assert encode(packet) == [wire, BUF]
    assert decode_all(wire, BUF) == Packet(PacketType.BINARY_ACK, data=["bar", BUF], id=15)


def test_placeholders_depth_first_in_lists_tuples_and_dict_values() -> None:
    data = ["ev", {"a": b"0", "b": [b"1", (b"2",)]}, bytearray(b"3"), memoryview(b"4")]
    wire, *attachments = encode(Packet(PacketType.EVENT, data=data))
    assert wire == (
        '55-["ev",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1},'
        '[{"_placeholder":true,"num":2}]]},{"_placeholder":true,"num":3},'
        '{"_placeholder":true,"num":4}]'
    )
    assert attachments == [b"0", b"1", b"2", b"3", b"4"]
    assert all(type(a) is bytes for a in attachments)
    decoded = decode_all(wire, *attachments)
    assert decoded.data == ["ev", {"a": b"0", "b": [b"1", [b"2"]]}, b"3", b"4"]


def test_encoding_does_not_mutate_caller_data() -> None:
    data = ["ev", {"k": b"x"}]
    encode(Packet(PacketType.EVENT, data=data))
    assert data == ["ev", {"k": b"x"}]


def test_binary_types_without_binary_are_sent_plain() -> None:
    assert encode(Packet(PacketType.BINARY_EVENT, data=["a"])) == ['2["a"]']
    assert encode(Packet(PacketType.BINARY_ACK, data=[], id=2)) == ["32[]"]


def test_tuples_are_arrays_and_key_order_is_kept() -> None:
    packet = Packet(PacketType.EVENT, data=("ev", {"z": 1, "a": (1, 2)}))
    assert encode(packet) == ['2["ev",{"z":1,"a":[1,2]}]']


def test_non_ascii_is_not_escaped() -> None:
    packet = Packet(PacketType.EVENT, "/é", ["é", "€😀"])
    wire = encode_text(packet)
    assert wire == '2/é,["é","€😀"]'
    assert decode_all(wire) == packet


def test_numeric_event_names() -> None:
    assert decode_all("2[1]").data == [1]
    assert decode_all("2[1.5,2]").data == [1.5, 2]
    assert encode_text(Packet(PacketType.EVENT, data=[7, "x"])) == '2[7,"x"]'


def test_connect_namespace_without_comma() -> None:
    assert decode_all("0/custom") == Packet(PacketType.CONNECT, "/custom")


def test_connect_with_auth() -> None:
    assert decode_all('0{"token":"abc"}') == Packet(PacketType.CONNECT, data={"token": "abc"})


def test_plain_event_keeps_placeholder_lookalikes_as_data() -> None:
    # Placeholders only mean something in BINARY_ packets.
    wire = '2["ev",{"_placeholder":true,"num":0}]'
    assert decode_all(wire).data == ["ev", {"_placeholder": True, "num": 0}]


def test_placeholder_lookalikes_that_are_not_true_stay_data() -> None:
    wire = (
        '51-["ev",{"_placeholder":1,"num":0},{"_placeholder":false},'
        '{"_placeholder":true,"num":0}]'
    )
    assert decode_all(wire, b"z").data == [
        "ev",
        {"_placeholder": 1, "num": 0},
        {"_placeholder": False},
        b"z",
    ]


def test_duplicate_and_unused_attachments_are_allowed() -> None:
    wire = '52-["ev",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]'
    assert decode_all(wire, b"a", b"b").data == ["ev", b"a", b"a"]


def test_attachments_as_bytearray_or_memoryview() -> None:
    decoded = decode_all('51-["ev",{"_placeholder":true,"num":0}]', bytearray(b"q"))
    assert decoded.data == ["ev", b"q"]
    assert type(decoded.data[1]) is bytes


def test_decoder_is_reusable_across_packets() -> None:
    decoder = Decoder()
    assert decoder.feed('51-["a",{"_placeholder":true,"num":0}]') is None
    assert decoder.pending
    assert decoder.feed(b"x") == Packet(PacketType.BINARY_EVENT, data=["a", b"x"])
    assert decoder.feed('2["b"]') == Packet(PacketType.EVENT, data=["b"])
    decoder.feed('51-["a",{"_placeholder":true,"num":0}]')
    decoder.reset()
    assert not decoder.pending
    assert decoder.feed('2["c"]') == Packet(PacketType.EVENT, data=["c"])


def test_max_attachments() -> None:
    ten = "[" + ",".join(['"e"'] + [f'{{"_placeholder":true,"num":{i}}}' for i in range(10)]) + "]"
    assert decode_all("510-" + ten, *[bytes([i]) for i in range(10)]).data[10] == b"\x09"
    with pytest.raises(SocketIOError):
        Decoder().feed('511-["e"]')
    assert Decoder(max_attachments=11).feed('511-["e"]') is None


def test_ack_id_limit() -> None:
    assert decode_all('2999999999999999["e"]').id == 999_999_999_999_999
    with pytest.raises(SocketIOError, match="ack id"):
        Decoder().feed('21000000000000000["e"]')


def test_huge_ack_id_refused_fast() -> None:
    decoder = Decoder()
    start = time.perf_counter()
    with pytest.raises(SocketIOError, match="ack id"):
        decoder.feed("2" + "1" * 100_000 + '["e"]')
    assert time.perf_counter() - start < 0.1
    assert not decoder.pending


# --- rejections ----------------------------------------------------------------------------

PLACEHOLDER = '{"_placeholder":true,"num":0}'

REJECTED_TEXT = [
    pytest.param("", id="empty"),
    pytest.param("7", id="type-7"),
    pytest.param("9[]", id="type-9"),
    pytest.param("x", id="type-letter"),
    pytest.param('٢["e"]', id="type-non-ascii-digit"),
    pytest.param("4abc", id="bad-json-connect-error"),
    pytest.param('2abc["e"]', id="bad-json-prefix"),
    pytest.param('2["e"', id="truncated-json"),
    pytest.param('2["e",NaN]', id="nan"),
    pytest.param('2["e",Infinity]', id="infinity"),
    pytest.param('2["e",-Infinity]', id="minus-infinity"),
    pytest.param('2["e",1e999]', id="float-overflow"),
    pytest.param('2["e",' + "9" * 5000 + "]", id="int-over-digit-limit"),
    pytest.param('2["e",' + "[" * 100_000 + "]" * 100_000 + "]", id="deep-nesting"),
    pytest.param(
        '51-["e",{"_placeholder":true,"num":' + "9" * 5000 + "}]", id="placeholder-num-digits"
    ),
    pytest.param("2[]", id="event-empty-array"),
    pytest.param("2{}", id="event-object"),
    pytest.param("2[null]", id="event-null-name"),
    pytest.param("2[true]", id="event-bool-name"),
    pytest.param('2[["e"]]', id="event-array-name"),
    pytest.param('2"e"', id="event-string"),
    pytest.param("2", id="event-no-payload"),
    pytest.param("2/admin,", id="event-ns-no-payload"),
    pytest.param('2["connect"]', id="reserved-connect"),
    pytest.param('2["disconnecting"]', id="reserved-disconnecting"),
    pytest.param('2["newListener"]', id="reserved-newListener"),
    pytest.param('2["removeListener"]', id="reserved-removeListener"),
    pytest.param('2["connect_error"]', id="reserved-connect_error"),
    pytest.param('2["disconnect"]', id="reserved-disconnect"),
    pytest.param("3", id="ack-no-payload"),
    pytest.param("31{}", id="ack-object"),
    pytest.param('31"x"', id="ack-string"),
    pytest.param("0[]", id="connect-array"),
    pytest.param('0"x"', id="connect-string"),
    pytest.param("0null", id="connect-null"),
    pytest.param("1{}", id="disconnect-payload"),
    pytest.param("1null", id="disconnect-null"),
    pytest.param("1/admin,[]", id="disconnect-ns-payload"),
    pytest.param("4", id="connect-error-no-payload"),
    pytest.param("4[]", id="connect-error-array"),
    pytest.param("41", id="connect-error-id-only"),
    pytest.param('21-["e"]', id="attachments-on-event"),
    pytest.param("31-[]", id="attachments-on-ack"),
    pytest.param('01-{}', id="attachments-on-connect"),
    pytest.param(f'5["e",{PLACEHOLDER}]', id="binary-no-count"),
    pytest.param(f'5-["e",{PLACEHOLDER}]', id="binary-empty-count"),
    pytest.param(f'50-["e",{PLACEHOLDER}]', id="binary-zero-count"),
    pytest.param(f'5a-["e",{PLACEHOLDER}]', id="binary-count-letters"),
    pytest.param(f'51["e",{PLACEHOLDER}]', id="binary-count-no-dash"),
    pytest.param("51", id="binary-count-at-end"),
    pytest.param(f'5١-["e",{PLACEHOLDER}]', id="binary-count-non-ascii-digit"),
    pytest.param(f'5{"9" * 100_000}-["e"]', id="binary-count-huge"),
    pytest.param('511-["e"]', id="binary-count-over-max"),
    pytest.param("51-[]", id="binary-event-empty"),
    pytest.param("61-{}", id="binary-ack-object"),
    pytest.param('2/ad\x00min,["e"]', id="namespace-nul"),
    pytest.param('2/ad\nmin,["e"]', id="namespace-newline"),
    pytest.param('0/ad\x7fmin', id="namespace-del"),
    pytest.param('2admin,["e"]', id="namespace-without-slash"),
    pytest.param('2/admin["e"]', id="namespace-swallows-payload"),
]


@pytest.mark.parametrize("wire", REJECTED_TEXT)
def test_rejected_text(wire: str) -> None:
    decoder = Decoder()
    with pytest.raises(SocketIOError):
        decoder.feed(wire)
    assert not decoder.pending
    # The decoder works again straight away.
    assert decoder.feed('2["ok"]') == Packet(PacketType.EVENT, data=["ok"])


@pytest.mark.parametrize(
    "placeholder",
    [
        pytest.param('{"_placeholder":true,"num":1}', id="out-of-range"),
        pytest.param('{"_placeholder":true,"num":-1}', id="negative"),
        pytest.param('{"_placeholder":true,"num":0.0}', id="float"),
        pytest.param('{"_placeholder":true,"num":true}', id="bool"),
        pytest.param('{"_placeholder":true,"num":"0"}', id="string-digit"),
        pytest.param('{"_placeholder":true,"num":"splice"}', id="string-splice"),
        pytest.param('{"_placeholder":true,"num":null}', id="null"),
        pytest.param('{"_placeholder":true}', id="missing-num"),
        pytest.param('{"_placeholder":true,"num":0,"x":1}', id="extra-key"),
        pytest.param('{"_placeholder":true,"num":99999999999999999999}', id="num-huge"),
    ],
)
def test_rejected_placeholders(placeholder: str) -> None:
    decoder = Decoder()
    assert decoder.feed(f'51-["e",{{"deep":[{placeholder}]}}]') is None
    with pytest.raises(SocketIOError):
        decoder.feed(b"\x00")
    assert not decoder.pending
    with pytest.raises(SocketIOError):  # nothing pending any more
        decoder.feed(b"\x00")


def test_text_while_attachments_pending() -> None:
    decoder = Decoder()
    assert decoder.feed(f'52-["e",{PLACEHOLDER}]') is None
    assert decoder.feed(b"a") is None
    with pytest.raises(SocketIOError, match="pending"):
        decoder.feed('2["e"]')
    assert not decoder.pending
    assert decoder.feed('2["e"]') == Packet(PacketType.EVENT, data=["e"])


def test_bytes_when_nothing_pending() -> None:
    decoder = Decoder()
    with pytest.raises(SocketIOError):
        decoder.feed(b"\x01")
    assert not decoder.pending
    assert decoder.feed('2["e"]') is not None


def test_feed_rejects_other_types() -> None:
    decoder = Decoder()
    with pytest.raises(SocketIOError):
        decoder.feed(42)  # type: ignore[arg-type]
    with pytest.raises(SocketIOError):
        decoder.feed(None)  # type: ignore[arg-type]


# --- encoder misuse ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(RESERVED_EVENTS))
def test_emitting_a_reserved_name_is_refused(name: str) -> None:
    with pytest.raises(LocalProtocolError, match="reserved"):
        encode(Packet(PacketType.EVENT, data=[name, 1]))
    with pytest.raises(LocalProtocolError, match="reserved"):
        encode(Packet(PacketType.EVENT, data=[name, b"bin"]))
    with pytest.raises(LocalProtocolError, match="reserved"):
        encode_text(Packet(PacketType.EVENT, data=[name]))


@pytest.mark.parametrize(
    "packet",
    [
        Packet(PacketType.EVENT, data=[]),
        Packet(PacketType.EVENT, data="ev"),
        Packet(PacketType.EVENT, data=[None]),
        Packet(PacketType.ACK, data={"a": 1}, id=1),
        Packet(PacketType.DISCONNECT, data={}),
        Packet(PacketType.CONNECT, data=[1]),
        Packet(PacketType.CONNECT_ERROR, data=None),
        Packet(PacketType.CONNECT, data={"b": b"bytes only travel in events"}),
        Packet(PacketType.EVENT, "admin", ["e"]),
        Packet(PacketType.EVENT, "/a,b", ["e"]),
        Packet(PacketType.EVENT, data=["e", float("nan")]),
        Packet(PacketType.EVENT, data=["e", object()]),
        Packet(PacketType.EVENT, data=["e"], id=-1),
        Packet(7, data=["e"]),  # type: ignore[arg-type]
    ],
)
def test_encoding_invalid_packets_is_refused(packet: Packet) -> None:
    with pytest.raises(LocalProtocolError):
        encode(packet)


# --- properties ----------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
dict_keys = st.text(max_size=10).filter(lambda k: k != "_placeholder")


def json_like(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(dict_keys, children, max_size=4),
        ),
        max_leaves=12,
    )


plain_data = json_like(json_scalars)
binary_data = json_like(st.one_of(json_scalars, st.binary(max_size=16)))
namespaces = st.one_of(
    st.just("/"),
    st.text(
        alphabet=st.characters(blacklist_characters=",", blacklist_categories=("Cc", "Cs")),
        max_size=12,
    ).map(lambda s: "/" + s),
)
ack_ids = st.integers(min_value=0, max_value=10**15 - 1)
event_names = st.one_of(
    st.text(max_size=12).filter(lambda n: n not in RESERVED_EVENTS),
    st.integers(min_value=0, max_value=10**6),
)


@st.composite
def packets(draw: st.DrawFn) -> Packet:
    kind = draw(st.sampled_from(list(PacketType)))
    ns = draw(namespaces)
    if kind is PacketType.CONNECT:
        data = draw(st.one_of(st.none(), st.dictionaries(dict_keys, plain_data, max_size=4)))
        return Packet(kind, ns, data)
    if kind is PacketType.DISCONNECT:
        return Packet(kind, ns)
    if kind is PacketType.CONNECT_ERROR:
        data = draw(st.one_of(st.text(), st.dictionaries(dict_keys, plain_data, max_size=4)))
        return Packet(kind, ns, data)
    ack_id = draw(st.one_of(st.none(), ack_ids))
    args = draw(st.lists(binary_data, max_size=4))
    if kind in (PacketType.EVENT, PacketType.BINARY_EVENT):
        return Packet(PacketType.EVENT, ns, [draw(event_names), *args], ack_id)
    return Packet(PacketType.ACK, ns, args, ack_id)


def expected_type(packet: Packet, attachments: int) -> PacketType:
    if attachments and packet.type is PacketType.EVENT:
        return PacketType.BINARY_EVENT
    if attachments and packet.type is PacketType.ACK:
        return PacketType.BINARY_ACK
    return packet.type


@HYPOTHESIS
@given(packets())
def test_round_trip(packet: Packet) -> None:
    wire = encode(packet)
    assert isinstance(wire[0], str)
    assert all(type(a) is bytes for a in wire[1:])
    decoder = Decoder(max_attachments=1000)
    decoded = decode_all(*wire, decoder=decoder)
    assert decoded.type == expected_type(packet, len(wire) - 1)
    assert decoded.namespace == packet.namespace
    assert decoded.id == packet.id
    assert decoded.data == packet.data
    # Encoding what was decoded gives the same wire messages back.
    assert encode(decoded) == wire


@HYPOTHESIS
@given(st.lists(st.one_of(st.text(max_size=40), st.binary(max_size=8)), min_size=1, max_size=6))
def test_garbage_only_raises_socketio_errors(messages: list[str | bytes]) -> None:
    decoder = Decoder()
    for message in messages:
        try:
            decoder.feed(message)
        except SocketIOError:
            assert not decoder.pending


protocolish = st.text(alphabet='0123456-/,[]{}"_:placeholdertuenum9 \\', max_size=60)


@HYPOTHESIS
@given(st.lists(st.one_of(protocolish, st.binary(max_size=4)), min_size=1, max_size=6))
def test_protocol_shaped_garbage_only_raises_socketio_errors(messages: list[str | bytes]) -> None:
    decoder = Decoder()
    for message in messages:
        try:
            decoder.feed(message)
        except ProtocolError as exc:
            assert isinstance(exc, SocketIOError)
            assert not decoder.pending


def test_module_exports() -> None:
    assert set(socketio.__all__) == {
        "MAX_DEPTH",
        "MAX_NAMESPACE_LENGTH",
        "RESERVED_EVENTS",
        "Decoder",
        "Packet",
        "PacketType",
        "encode",
        "encode_text",
    }


# -- nesting depth and namespace length (issue 9, items 1 and 9) --------------------------------

def test_payload_nested_to_the_limit_decodes_and_encodes_again() -> None:
    nested: object = "x"
    for _ in range(socketio.MAX_DEPTH - 1):  # the event array itself is one level
        nested = [nested]
    text = socketio.encode_text(Packet(PacketType.EVENT, "/", ["echo", nested]))
    packet = Decoder().feed(text)
    assert packet is not None and packet.data == ["echo", nested]
    assert socketio.encode_text(packet) == text


@pytest.mark.parametrize("opener, closer", [("[", "]"), ('{"a":', "}")])
def test_payload_nested_past_the_limit_is_a_protocol_error(opener: str, closer: str) -> None:
    depth = socketio.MAX_DEPTH  # plus the event array: one level too many
    text = '2["echo",' + opener * depth + "1" + closer * depth + "]"
    decoder = Decoder()
    with pytest.raises(SocketIOError, match="nested more than"):
        decoder.feed(text)
    assert not decoder.pending
    # 960 levels, the size of the report: json.loads accepts it, the encoder would not
    with pytest.raises(SocketIOError, match="nested more than"):
        decoder.feed('2["echo",' + "[" * 960 + "]" * 960 + "]")


def test_many_brackets_that_do_not_nest_are_accepted() -> None:
    text = '2["echo",' + ",".join(["[]"] * 500) + ',"[[[[{{{{"]'
    packet = Decoder().feed(text)
    assert packet is not None and len(packet.data) == 502


def test_binary_packet_nested_past_the_limit_is_refused_before_its_attachments() -> None:
    depth = socketio.MAX_DEPTH
    text = '51-["up",' + "[" * depth + '{"_placeholder":true,"num":0}' + "]" * depth + "]"
    with pytest.raises(SocketIOError, match="nested more than"):
        Decoder().feed(text)


def test_namespace_longer_than_the_limit_is_refused() -> None:
    ok = "/" + "n" * (socketio.MAX_NAMESPACE_LENGTH - 1)
    packet = Decoder().feed("0" + ok + ",")
    assert packet is not None and packet.namespace == ok
    for text in ("0" + ok + "n,", "0" + ok + "n" * 1_000_000, "2" + ok + "n,1[\"a\"]"):
        with pytest.raises(SocketIOError, match="namespace longer than"):
            Decoder().feed(text)
