"""Point 3 of issue 6, the Socket.IO layer: hostile packets over a real WebSocket and over
polling. Each closes that one connection (or is refused), runs no handler (checked through
the test app's handler-call counter) and leaves the server serving others."""

from __future__ import annotations

import pytest

from tests.support.checks import assert_healthy, assert_no_handler_ran, handler_calls
from tests.support.raw_http import http, polling_sid
from tests.support.wire import ws_connected

PH = '{"_placeholder":true,"num":%s}'

# (packets to send after connecting to "/": text as str, attachments as bytes)
HOSTILE = {
    "zero-attachments": ['450-["echo",' + PH % 0 + ']'],
    "negative-attachments": ['45-1-["echo",' + PH % 0 + ']'],
    "huge-attachments": ['4599999999-["echo",' + PH % 0 + ']', b"x"],
    "attachments-over-max": ['4511-["echo",' + PH % 0 + ']', b"x"],
    "num-splice": ['451-["echo",' + PH % '"splice"' + ']', b"x"],
    "num-minus-1": ['451-["echo",' + PH % -1 + ']', b"x"],
    "num-1.5": ['451-["echo",' + PH % 1.5 + ']', b"x"],
    "num-true": ['451-["echo",' + PH % 'true' + ']', b"x"],
    "num-out-of-range": ['451-["echo",' + PH % 1 + ']', b"x"],
    "num-huge": ['451-["echo",' + PH % ('9' * 5000) + ']', b"x"],
    "text-while-pending": ['452-["echo",' + PH % 0 + ',' + PH % 1 + ']', b"x", '42["echo"]'],
    "binary-without-packet": [b"\x00\x01"],
    "reserved-connect": ['42["connect"]'],
    "reserved-disconnecting": ['42["disconnecting"]'],
    "reserved-newListener": ['42["newListener","echo"]'],
    "event-object": ['42{"0":"echo"}'],
    "event-string": ['42"echo"'],
    "event-empty-array": ['42[]'],
    "event-null": ['42null'],
    "event-name-object": ['42[{"a":1}]'],
    "ack-id-100000-digits": ['42' + '1' * 100_000 + '["echo"]'],
    "ack-not-array": ['431{"a":1}'],
    "connect-error-from-client": ['44{"message":"x"}'],
    "nested-50000": ['42["echo",' + '[' * 50_000 + ']' * 50_000 + ']'],
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_packet_over_websocket_closes_that_connection(server, name):
    before = handler_calls(server.url)
    ws = ws_connected(server.url)
    try:
        for message in HOSTILE[name]:
            if isinstance(message, bytes):
                ws.send_binary(message)
            else:
                ws.send_text(message)
        frame = ws.recv_close()
        ws.assert_eof()
        # 1009 for the packets larger than the app's 100 kB limit
        assert frame.close_code in (None, 1000, 1009), frame
    finally:
        ws.close()
    assert_no_handler_ran(server.url, before + 1)  # + the connect of ``ws``
    assert_healthy(server.url)


def test_binary_before_the_namespace_connect_is_refused(server, wire):
    before = handler_calls(server.url)
    ws = wire(server.url)
    assert ws.upgrade() == 101
    assert ws.recv_text().startswith('0{"sid":')
    ws.send_text('451-["echo",' + PH % 0 + ']')
    ws.send_binary(b"x")
    ws.recv_close()
    ws.assert_eof()
    # the same with the attachment withheld: the text alone is refused
    ws = wire(server.url)
    assert ws.upgrade() == 101
    assert ws.recv_text().startswith('0{"sid":')
    ws.send_text('451-/chat,["echo",' + PH % 0 + ']')
    ws.send_text('40/chat,')
    ws.recv_close()
    ws.assert_eof()
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


def test_withheld_attachment_runs_nothing_and_the_next_text_closes(server):
    before = handler_calls(server.url)
    ws = ws_connected(server.url)
    try:
        ws.send_text('451-1["echo",' + PH % 0 + ']')
        ws.send_text('4299["calls"]')  # text while the attachment is withheld
        ws.recv_close()
        ws.assert_eof()
    finally:
        ws.close()
    assert_no_handler_ran(server.url, before + 1)


def test_polling_payload_of_10000_tiny_packets_is_handled_linearly(server):
    """10,000 bad packets in one body: refused at the first, the session closed."""
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    status, _, body = http(server.url, "POST", target, "\x1e".join(["42[]"] * 10_000).encode())
    assert (status, body) == (200, b"ok")  # valid Engine.IO; the Socket.IO layer refuses
    status, _, body = http(server.url, "GET", target)
    assert status == 400 or body.endswith(b"1"), (status, body)
    # 10,000 Engine.IO pongs and noops (the most one payload may hold): pongs are free, a
    # noop is a protocol error
    sid = polling_sid(server.url)
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    status, _, _ = http(server.url, "POST", target, "\x1e".join(["3"] * 9_999 + ["6"]).encode())
    assert status == 200
    status, _, body = http(server.url, "GET", target)
    assert status == 400 or body.endswith(b"1"), (status, body)
    assert_no_handler_ran(server.url, before)
    assert_healthy(server.url)


@pytest.mark.parametrize("name", ["num-splice", "text-while-pending", "ack-id-100000-digits",
                                  "reserved-connect", "event-empty-array"])
def test_hostile_packet_over_polling_closes_that_session(server, name):
    before = handler_calls(server.url)
    sid = polling_sid(server.url)
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    import base64
    packets = ["40"] + [("b" + base64.b64encode(m).decode()) if isinstance(m, bytes) else "4" + m[1:]
                        for m in HOSTILE[name]]
    status, _, body = http(server.url, "POST", target, "\x1e".join(packets).encode())
    assert status in (200, 400, 413), (status, body)
    if status == 413:
        # over the app's 100 kB body limit: refused whole, nothing decoded; the session is
        # left as it was (as the reference server does), so there is no close to wait for
        assert_no_handler_ran(server.url, before)
        return
    for _ in range(3):
        status, _, body = http(server.url, "GET", target)
        if status == 400 or body.endswith(b"1"):
            break
    else:
        raise AssertionError((status, body))
    assert_no_handler_ran(server.url, before, connects=1)
    assert_healthy(server.url)
