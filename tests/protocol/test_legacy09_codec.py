"""The socket.io 0.9 codec (wsgi_sio.protocol.legacy09): frames and polling payloads, bytes in
and frames out, with the spec's and the 0.9.16 client's examples, limits, round trips and
garbage (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsgi_sio.protocol.legacy09 import (
    ErrorAdvice,
    ErrorReason,
    Frame,
    FrameType,
    Legacy09Error,
    decode_frame,
    decode_payload,
    encode_frame,
    encode_payload,
)


@pytest.mark.parametrize(("text", "frame"), [
    ("0::", Frame(FrameType.DISCONNECT)),
    ("0::/chat", Frame(FrameType.DISCONNECT, endpoint="/chat")),
    ("1::/echo", Frame(FrameType.CONNECT, endpoint="/echo")),
    ("2::", Frame(FrameType.HEARTBEAT)),
    ("3:::hi", Frame(FrameType.MESSAGE, data="hi")),
    ("3:7::hi: there\nand more", Frame(FrameType.MESSAGE, 7, False, "", "hi: there\nand more")),
    ('4:::{"a":1}', Frame(FrameType.JSON, data='{"a":1}')),
    ('5:1+::{"name":"x","args":[1]}', Frame(FrameType.EVENT, 1, True, "", '{"name":"x","args":[1]}')),
    ("6:::7", Frame(FrameType.ACK, data="7")),
    ('6::/echo:1+["A",1]', Frame(FrameType.ACK, endpoint="/echo", data='1+["A",1]')),
    ("7:::1+0", Frame(FrameType.ERROR, data="1+0")),
    ("8::", Frame(FrameType.NOOP)),
])
def test_spec_frames(text, frame):
    assert decode_frame(text) == frame
    assert encode_frame(frame) == text


def test_frame_bodies():
    assert decode_frame('5:::{"name":"x"}').event_body() == ("x", [])
    assert decode_frame('5:::{"name":"x","args":[1,"a"]}').event_body() == ("x", [1, "a"])
    assert decode_frame('6::/e:1+["A",1]').ack_body() == (1, ["A", 1])
    assert decode_frame("6:::7").ack_body() == (7, None)
    assert decode_frame('4:::{"a":[1]}').json_body() == {"a": [1]}


def test_builders():
    assert encode_frame(Frame.event("echo", ["hello world"], "/echo")) == \
        '5::/echo:{"name":"echo","args":["hello world"]}'
    assert encode_frame(Frame.event("x", [], id=3)) == '5:3+::{"name":"x"}'
    assert encode_frame(Frame.ack(1, ["A", 1], "/echo")) == '6::/echo:1+["A",1]'
    assert encode_frame(Frame.ack(7)) == "6:::7"
    assert encode_frame(Frame.error(ErrorReason.CLIENT_NOT_HANDSHAKEN, ErrorAdvice.RECONNECT)) == "7:::1+0"
    assert encode_frame(Frame.error(ErrorReason.UNAUTHORIZED, endpoint="/chat")) == "7::/chat:2"


@pytest.mark.parametrize("bad", [
    "", "9::", "x::", "1:", "1", "3:a::hi", "3:+::hi", "33:::hi",
])
def test_bad_frames(bad):
    with pytest.raises(Legacy09Error):
        decode_frame(bad)


def test_bad_bodies():
    for frame, read in [("5:::nope", "event_body"), ('5:::{"args":[]}', "event_body"),
                        ("5:::[1]", "event_body"), ("4:::{", "json_body"), ("6:::x", "ack_body"),
                        ("6:::1+[", "ack_body")]:
        with pytest.raises(Legacy09Error):
            getattr(decode_frame(frame), read)()


def test_limits():
    with pytest.raises(Legacy09Error, match="more than 10"):
        decode_frame("3:::" + "a" * 10, max_frame=10)
    with pytest.raises(Legacy09Error, match="endpoint"):
        decode_frame("1::/" + "a" * 300)
    many = "".join("\ufffd3\ufffd8::" for _ in range(5))
    assert len(decode_payload(many)) == 5
    with pytest.raises(Legacy09Error, match="more than 4 frames"):
        decode_payload(many, max_frames=4)
    with pytest.raises(Legacy09Error):
        decode_payload("\ufffd99999999999\ufffd8::")


def test_payload_lengths_are_utf16_code_units():
    # observed from socket.io 0.9 (PROTOCOL-NOTES-WAVE2 §2)
    body = '\ufffd35\ufffd5:::{"name":"hello","args":["é😀"]}\ufffd9\ufffd3:::plain'
    frames = decode_payload(body)
    assert [f.type for f in frames] == [FrameType.EVENT, FrameType.MESSAGE]
    assert frames[0].event_body() == ("hello", ["é😀"])
    assert encode_payload([encode_frame(f) for f in frames]) == body


def test_payload_one_bare_frame_and_fffd_in_data():
    assert decode_payload("3:::a\ufffdb") == [Frame(FrameType.MESSAGE, data="a\ufffdb")]
    body = encode_payload(["3:::\ufffd1\ufffd", "8::"])
    assert [f.data for f in decode_payload(body)] == ["\ufffd1\ufffd", None]


@pytest.mark.parametrize("bad", ["\ufffd", "\ufffd3", "\ufffd\ufffd8::", "\ufffd9\ufffd8::",
                                 "\ufffdx\ufffd8::", "\ufffd3\ufffd8::x",
                                 "\ufffd5\ufffd3:::😀"])
def test_bad_payloads(bad):
    with pytest.raises(Legacy09Error):
        decode_payload(bad)


def test_a_length_that_splits_a_surrogate_pair():
    with pytest.raises(Legacy09Error):
        decode_payload("\ufffd5\ufffd3:::😀\ufffd3\ufffd8::")


ENDPOINTS = st.sampled_from(["", "/echo", "/chat/x?a=1"])
TEXT = st.text(max_size=40)


@st.composite
def frames(draw):
    kind = draw(st.sampled_from(list(FrameType)))
    ident = draw(st.none() | st.integers(0, 10**9))
    ack_data = ident is not None and draw(st.booleans())
    data = draw(st.none() | TEXT)
    return Frame(kind, ident, ack_data, draw(ENDPOINTS), data)


@given(frames())
def test_frame_round_trip(frame):
    if frame.data is None or frame.data == "":
        # "3:::" and "3::" read back alike only up to an empty data field
        assert decode_frame(encode_frame(frame)).data in (None, "")
    else:
        assert decode_frame(encode_frame(frame)) == frame


@given(st.lists(frames().filter(lambda f: f.data), min_size=1, max_size=6))
def test_payload_round_trip(items):
    assert decode_payload(encode_payload([encode_frame(f) for f in items])) == items


@given(st.text(max_size=200))
def test_garbage_never_crashes(garbage):
    for decode in (decode_frame, decode_payload):
        try:
            frames_ = decode(garbage)
        except Legacy09Error:
            continue
        for frame in frames_ if isinstance(frames_, list) else [frames_]:
            for read in (frame.event_body, frame.json_body, frame.ack_body):
                try:
                    read()
                except Legacy09Error:
                    pass


@given(st.text(alphabet="\ufffd0123456789:+/{}[]\"38", max_size=60))
def test_payload_shaped_garbage_never_crashes(garbage):
    try:
        decode_payload("\ufffd" + garbage)
    except Legacy09Error:
        pass
