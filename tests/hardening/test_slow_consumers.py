"""Issue 6, point 5: slow consumers are closed with a bounded cost, and volatile emits.

A client that stops reading while its room is flooded is closed as a slow consumer, the log
says so, and the server's resident memory grows by far less than what was flooded at it
(WebSocket: ``max_backlog`` bytes; long-polling: ``max_queue`` packets). Volatile emits are
dropped for a client whose transport cannot write at once and delivered to one that can.
Against tests/apps/lifecycle_app.py in a real process.
"""

from __future__ import annotations

import json

from tests.support.lifecycle import log_of, polling_member, wait_until
from tests.support.wire import Wire, answer, polling

MB = 1024 * 1024


def ws_member(url: str, room: str) -> tuple[Wire, str]:
    """A WebSocket client in ``room``: (connection, Socket.IO sid)."""
    ws = Wire(url)
    assert ws.upgrade() == 101
    assert ws.recv_text().startswith('0{"sid":')
    ws.send_text("40")
    reply = ws.recv_text()
    assert reply.startswith("40{"), reply
    ws.send_text(f'421["join","{room}"]')
    while (text := ws.recv_text()) == "2":
        ws.send_text("3")
    assert text == '431["joined"]', text
    return ws, json.loads(reply[2:])["sid"]


def test_websocket_client_that_stops_reading_is_closed_as_slow_consumer(live, monitor):
    slow, _ = ws_member(live.url, "busy")
    before = monitor.stats()
    # The client reads nothing more; the room gets 1 MB a call until the server gives up on it.
    flooded = 0
    while "slow consumer" not in monitor.call("disconnects"):
        assert monitor.call("flood", "busy", 250, 4096) == "flooded"
        flooded += MB
        assert flooded < 200 * MB, "never closed as a slow consumer"
    # More floods at an empty room cost nothing.
    for _ in range(8):
        monitor.call("flood", "busy", 250, 4096)
        flooded += MB
    after = monitor.stats()
    wait_until(lambda: "closing Engine.IO session" in log_of(live) and "slow consumer" in log_of(live),
               "the log names the slow consumer")
    assert "bytes unsent" in log_of(live)
    # Bounded by the 4 MB backlog (plus the kernel's buffers), not by what was flooded.
    assert after["rss_kb"] - before["rss_kb"] < 24 * 1024, (before, after, flooded)
    assert after["sessions"] == before["sessions"] - 1
    slow.close()


def test_polling_client_that_stops_polling_is_closed_as_slow_consumer(live, monitor):
    sid = polling_member(live.url, "quiet")
    before = monitor.call("disconnects").count("slow consumer")
    # 10,000 packets fill its queue (max_queue); the next one closes it.
    for _ in range(21):
        monitor.call("flood", "quiet", 500, 10)
    assert monitor.call("disconnects").count("slow consumer") == before + 1
    wait_until(lambda: "packets unsent" in log_of(live), "the log names the slow consumer")
    # Its next poll gets what was queued and the close packet; then the sid is gone.
    status, body = answer(polling(live.url, sid=sid))
    assert status == 200 and body.endswith(b"\x1e1"), body[-100:]
    status, body = answer(polling(live.url, sid=sid))
    assert (status, json.loads(body)["code"]) == (400, 1)


def test_volatile_emit_is_dropped_for_a_polling_client_with_no_get_pending(live, monitor):
    sid = polling_member(live.url, "ticker")
    assert monitor.call("volatile_flood", "ticker", 100) == "flooded"
    status, body = answer(polling(live.url, sid=sid))
    assert status == 200
    assert [p for p in body.split(b"\x1e") if p != b"2"] == [b'42["done",100]'], body


def test_volatile_emit_reaches_a_websocket_client_that_reads(live, monitor):
    ws, _ = ws_member(live.url, "ticker2")
    assert monitor.call("volatile_flood", "ticker2", 100) == "flooded"
    texts = []
    while not texts or not texts[-1].startswith('42["done"'):
        text = ws.recv_text()
        if text == "2":
            ws.send_text("3")
        else:
            texts.append(text)
    assert texts == [f'42["tick",{i}]' for i in range(100)] + ['42["done",100]']
    # socket.volatile.emit to itself, with nothing unsent: delivered too.
    ws.send_text('425["volatile_self",3]')
    texts = []
    while len(texts) < 5:
        text = ws.recv_text()
        if text == "2":
            ws.send_text("3")
        else:
            texts.append(text)
    assert texts == ['42["tick",0]', '42["tick",1]', '42["tick",2]', '42["done",3]', '435["sent"]']
    ws.close()


def test_volatile_emit_is_dropped_for_a_backlogged_websocket_client(live, monitor):
    ws, sid = ws_member(live.url, "ticker3")
    # Stop reading and fill the kernel's buffers until the server holds unsent bytes of its own
    # (well below the 4 MB that would close the client).
    sent = 0
    while monitor.call("ready", sid):
        monitor.call("flood", "ticker3", 16, 4096)
        sent += 16
        assert sent < 100_000, "the transport never became backlogged"
    assert monitor.call("volatile_flood", "ticker3", 100) == "flooded"
    # Reading again, the client gets every flood, no tick, then done.
    floods = 0
    while True:
        text = ws.recv_text()
        if text == "2":
            ws.send_text("3")
            continue
        assert not text.startswith('42["tick"'), "a volatile event was queued"
        if text.startswith('42["done"'):
            break
        floods += 1
    assert floods == sent
    ws.close()
