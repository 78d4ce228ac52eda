"""The sans-IO format of @socket.io/redis-streams-adapter 0.3.1 (wsgi_sio/managers/streams_wire.py):
values computed by the Node package (hashCode, a session MessagePack), round trips, and
"never crashes on garbage" (hypothesis): bad input is a WireError, nothing else.
"""

from __future__ import annotations

import base64
import json

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsgi_sio.managers import streams_wire as sw
from wsgi_sio.managers.wire import WireError

MAX = 1_000_000


@pytest.mark.parametrize(("name", "expected", "mod3", "mod7"), [
    ("/", 47, 2, 5), ("/chat", 46457863, 1, 4), ("/admin", 1438238848, 1, 4),
    ("/a-very-long-namespace-name-é😀", -1454560463, -2, -6),   # from node: util.js hashCode
])
def test_hash_code_and_stream_index_are_javascripts(name, expected, mod3, mod7):
    assert sw.hash_code(name) == expected
    assert sw.stream_for("s", 3, name) == f"s-{mod3}"
    assert sw.stream_for("s", 7, name) == f"s-{mod7}"
    assert sw.stream_for("s", 1, name) == "s"


def test_a_session_as_node_encodes_it_decodes():
    node = b"hKNzaWShc6NwaWShcKVyb29tc5Khc6FypGRhdGGBoWEB"  # @msgpack/msgpack, base64
    session, namespace, extras = sw.decode_session(node, MAX)
    assert session == sw.Session("s", "p", ["s", "r"], {"a": 1})
    assert namespace is None and extras == {}
    ours = sw.encode_session(session, "/chat", {"user": 1})
    assert sw.decode_session(ours, MAX) == (session, "/chat", {"user": 1})


def test_entries_round_trip_json_and_binary():
    data = sw.broadcast_data(["ev", {"x": 1}], ["r"], ["s"], {"volatile": True})
    fields = sw.entry_fields("u", "/", sw.BROADCAST, data)
    assert list(fields) == ["uid", "nsp", "type", "data"] and fields["type"] == b"3"
    assert json.loads(fields["data"]) == data
    message = sw.decode_entry({k.encode(): v for k, v in fields.items()}, MAX)
    assert message is not None and message.uid == "u" and message.namespace == "/"
    assert message.body == sw.Broadcast(["ev", {"x": 1}], ["r"], ["s"], {"volatile": True}, None)

    binary = sw.entry_fields("u", "/", sw.BROADCAST, sw.broadcast_data(["bin", b"\x01\x02"], [], []))
    assert binary["data"][:1] != b"{"
    assert msgpack.unpackb(base64.b64decode(binary["data"]))["packet"]["data"] == ["bin", b"\x01\x02"]
    message = sw.decode_entry({k.encode(): v for k, v in binary.items()}, MAX)
    assert message is not None and isinstance(message.body, sw.Broadcast)
    assert message.body.data == ["bin", b"\x01\x02"]
    # a room change never carries binary: JSON always
    join = sw.entry_fields("u", "/", sw.SOCKETS_JOIN, {"opts": sw.opts(["a"], []), "rooms": ["b"]})
    assert join["data"].startswith(b"{")


def test_pubsub_messages_round_trip():
    payload = sw.pubsub_message("u", "/", sw.FETCH_SOCKETS, {"opts": sw.opts([], []), "requestId": "r"})
    message = sw.decode_pubsub(payload, MAX)
    assert message.body == sw.FetchSockets("r", [], [])
    answer = sw.pubsub_message("v", "/", sw.FETCH_SOCKETS_RESPONSE, {"requestId": "r", "sockets": [
        {"id": "a", "handshake": {}, "rooms": ["a"], "data": None}]})
    assert sw.decode_pubsub(answer, MAX).body == sw.FetchSocketsResponse(
        "r", [sw.SocketInfo("a", {}, ["a"], None)])


def test_offsets():
    assert sw.valid_offset("1700000000000-0") and not sw.valid_offset("1-2-3")
    assert not sw.valid_offset("¹-2") and not sw.valid_offset("1" * 21 + "-0")
    assert not sw.valid_offset(12)
    assert sw.next_offset("5-1") == "5-2"
    assert sw.next_offset(f"5-{(1 << 64) - 1}") == "6-0"
    assert sw.should_include({"a", "s"}, [], [])
    assert sw.should_include({"a", "s"}, ["a"], [])
    assert not sw.should_include({"a", "s"}, ["b"], [])
    assert not sw.should_include({"a", "s"}, [], ["s"])


fields_strategy = st.dictionaries(
    st.sampled_from([b"uid", b"nsp", b"type", b"data", b"other"]),
    st.one_of(st.binary(max_size=64), st.sampled_from([b"/", b"3", b"4", b"7", b"{", b"{}"]),
              st.builds(lambda v: json.dumps(v).encode(),
                        st.recursive(st.none() | st.integers() | st.text(max_size=8),
                                     lambda inner: st.lists(inner, max_size=3)
                                     | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                                     max_leaves=10))))


@given(fields_strategy)
def test_garbage_entries_raise_wire_errors_only(fields):
    try:
        sw.decode_entry(fields, 10_000)
    except WireError:
        pass


@given(st.binary(max_size=200))
def test_garbage_pubsub_messages_raise_wire_errors_only(payload):
    try:
        sw.decode_pubsub(payload, 10_000)
    except WireError:
        pass


@given(st.binary(max_size=200))
def test_garbage_sessions_raise_wire_errors_only(raw):
    for value in (base64.b64encode(raw), raw):
        try:
            sw.decode_session(value, 10_000)
        except WireError:
            pass


json_values = st.recursive(st.none() | st.booleans() | st.integers(-(1 << 63), (1 << 64) - 1) | st.floats() | st.text(max_size=8)
                           | st.binary(max_size=4),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(["rooms", "except", "flags", "opts", "packet",
                                                              "type", "data", "requestId", "sockets",
                                                              "id", "handshake", "clientCount", "close"]),
                                             inner, max_size=4),
                           max_leaves=16)


@given(st.integers(min_value=0, max_value=14), json_values, st.sampled_from(["/", "x", 1]))
def test_well_framed_messages_with_garbage_inside_raise_wire_errors_only(mtype, data, nsp):
    payload = msgpack.packb({"uid": "x", "nsp": nsp, "type": mtype, "data": data})
    try:
        sw.decode_pubsub(payload, 10_000)
    except WireError:
        pass
