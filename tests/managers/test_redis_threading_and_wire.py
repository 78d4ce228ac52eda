"""The Redis manager under the threading runtime (a threaded wsgiref, long-polling only), and
the wire format byte for byte (PROTOCOL-NOTES §5.1) with "never crashes on garbage" properties."""

from __future__ import annotations

from collections.abc import Iterator

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wsgi_sio
from tests.support.redis_peers import serve_threaded
from wsgi_sio.managers import wire

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def threaded(redis_url: str, key: str) -> Iterator[tuple[str, wsgi_sio.RedisManager]]:
    manager = wsgi_sio.RedisManager(redis_url, key=key)
    sio = wsgi_sio.Server(async_mode="threading", manager=manager)

    @sio.on("join")
    def join(socket, room):
        socket.join(room)
        return True

    @sio.on("to")
    def to(socket, room, event, *args):
        sio.emit(event, *args, to=room)
        return True

    @sio.on("ready")
    def ready(socket):
        return {"ready": manager.wait_ready(10), "uid": manager.uid, "sid": socket.sid}

    with serve_threaded(sio) as url:
        yield url, manager
    manager.close()


def test_threading_runtime_shares_rooms_with_a_gevent_process(threaded, servers, clients,
                                                              redis_url, key):
    url, manager = threaded
    assert manager.server is not None and manager.server.runtime.name == "threading"
    polling = clients(url, transports=["polling"])
    gevent_side = clients(servers().url)
    polling.call("join", "mixed")
    gevent_side.call("join", "mixed")
    polling.call("to", "mixed", "from_threads", b"\x07")
    assert gevent_side.next("from_threads") == (b"\x07",)
    gevent_side.call("to", "mixed", "from_gevent", 1)
    assert polling.next("from_gevent") == (1,)
    emitter = wsgi_sio.Emitter(redis_url, key=key)
    try:
        emitter.to("mixed").emit("from_emitter", "e")
        assert polling.next("from_emitter") == ("e",) and gevent_side.next("from_emitter") == ("e",)
    finally:
        emitter.close()


def test_broadcast_bytes_match_the_node_adapter():
    # io.to("room1").emit("hello", "world", Buffer.from([1, 2, 3])) from uid "abc123"
    payload = wire.broadcast_message("abc123", "/", ["hello", "world", b"\x01\x02\x03"], ["room1"], [])
    assert payload == bytes.fromhex(
        "93a6616263313233"                                    # [ "abc123",
        "83a474797065 02"                                     #   {type: 2,
        "a464617461 93a568656c6c6fa5776f726c64c403010203"     #    data: ["hello", "world", <bin>],
        "a36e7370a12f"                                        #    nsp: "/"},
        "83a5726f6f6d7391a5726f6f6d31a66578636570749 0a5666c61677380".replace(" ", ""))
    channels = wire.Channels("socket.io", "/")
    assert wire.broadcast_channel(channels, ["room1"]) == "socket.io#/#room1#"
    assert wire.broadcast_channel(channels, ["a", "b"]) == "socket.io#/#"
    assert channels.request == "socket.io-request#/#"
    assert channels.response == "socket.io-response#/#"
    decoded = wire.decode_broadcast(payload, 1000)
    assert (decoded.uid, decoded.namespace, decoded.data, decoded.rooms) == \
        ("abc123", "/", ["hello", "world", b"\x01\x02\x03"], ["room1"])


def test_decoding_details():
    opts = {"rooms": [1, 2.0, "x"], "except": [], "flags": {}}
    packet = {"type": 2, "data": ["when", msgpack.Timestamp(0, 5_000_000)]}   # no nsp: "/"
    decoded = wire.decode_broadcast(msgpack.packb(["u", packet, opts]), 1000)
    assert decoded.namespace == "/" and decoded.rooms == ["1", "2", "x"]
    assert decoded.data == ["when", "1970-01-01T00:00:00.005Z"]             # a JS Date
    assert wire.decode_request(b'{"type":1,"uid":"u","requestId":"r"}', 100) == \
        wire.AllRooms("u", "r")
    assert wire.broadcast_pattern("a*b") == "a\\*b#*"
    with pytest.raises(wire.WireError) as caught:
        wire.decode_request(b'{"type":1}', 5)
    assert caught.value.reason == "oversized"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_never_crashes_the_decoders(payload):
    for decode in (wire.decode_broadcast, wire.decode_request, wire.decode_response):
        try:
            decode(payload, 100)
        except wire.WireError as exc:
            assert exc.reason in wire.REASONS


json_like = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | st.text()
                         | st.binary() | st.floats(allow_nan=True),
                         lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text() | st.integers(-2**63, 2**63 - 1), inner, max_size=4),
                         max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_any_msgpack_value_is_decoded_or_refused(value):
    payload = msgpack.packb(value)
    for decode in (wire.decode_broadcast, wire.decode_request, wire.decode_response):
        try:
            decode(payload, 10_000)
        except wire.WireError as exc:
            assert exc.reason in wire.REASONS
