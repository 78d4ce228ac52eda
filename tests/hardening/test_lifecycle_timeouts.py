"""Issue 6, point 4: heartbeat eviction, PONG floods, connect and upgrade timeouts, and no
session, greenlet or file descriptor left behind by 1,000 aborted or half-open connections.

Against tests/apps/lifecycle_app.py in a real process (ping every 0.5 s, 0.5 s to answer,
connect_timeout 1 s, upgrade_timeout 0.5 s). What the server holds is read through its
test-only ``stats`` event (``EngineServer.stats()``, greenlets via gc, /proc/self/fd).
No sleeps: the clients wait on socket reads, conditions are asked until they hold.
"""

from __future__ import annotations

import json
import socket
import struct
from urllib.parse import urlsplit

import pytest

from tests.support.lifecycle import Monitor, wait_until
from tests.support.wire import WS_QUERY, Wire, answer, client_frame, polling
from wsgi_sio.protocol.websocket import Opcode


def reasons(monitor: Monitor, reason: str) -> int:
    return monitor.call("disconnects").count(reason)


def ws_session(url: str, namespace: bool = True) -> Wire:
    ws = Wire(url)
    assert ws.upgrade() == 101
    assert ws.recv_text().startswith('0{"sid":')
    if namespace:
        ws.send_text("40")
        text = ws.recv_text()
        while text == "2":
            ws.send_text("3")
            text = ws.recv_text()
        assert text.startswith("40{"), text
    return ws


def polling_session(url: str) -> str:
    status, body = answer(polling(url))
    assert status == 200, body
    return json.loads(body[1:])["sid"]


def expect_server_close(ws: Wire) -> list[str]:
    """Texts until the server ends the connection (Close frame, then EOF)."""
    texts = []
    while True:
        try:
            frame = ws.recv_frame()
        except (EOFError, ConnectionResetError):
            return texts
        if frame.opcode == Opcode.CLOSE:
            ws.assert_eof()
            return texts
        texts.append(frame.text)


# -- heartbeat ------------------------------------------------------------------------------------


def test_a_client_that_stops_answering_pings_is_evicted_once(live, monitor):
    before = reasons(monitor, "ping timeout")
    ws = ws_session(live.url)
    # The server pings after ping_interval, waits ping_timeout, then closes: a ping and
    # nothing else comes before the end.
    assert expect_server_close(ws) == ["2"]
    ws.close()
    wait_until(lambda: reasons(monitor, "ping timeout") == before + 1, "one 'ping timeout' disconnect")
    # Let more than another interval + timeout pass (a fresh client sees three pings go by):
    # the eviction is not repeated.
    other = ws_session(live.url)
    for _ in range(3):
        assert other.recv_text() == "2"
        other.send_text("3")
    other.close()
    assert reasons(monitor, "ping timeout") == before + 1


def test_a_polling_client_that_stops_polling_is_evicted_once(live, monitor):
    before = reasons(monitor, "ping timeout")
    sid = polling_session(live.url)
    assert answer(polling(live.url, "POST", sid, b"40")) == (200, b"ok")
    status, body = answer(polling(live.url, sid=sid))
    assert status == 200 and body.startswith(b"40{"), body
    wait_until(lambda: reasons(monitor, "ping timeout") == before + 1, "one 'ping timeout' disconnect")
    # Evicted: the sid is unknown at once (no stale ping of the dead session is served).
    status, body = answer(polling(live.url, sid=sid))
    assert (status, json.loads(body)["code"]) == (400, 1)
    assert reasons(monitor, "ping timeout") == before + 1


def test_a_pong_flood_costs_no_timer_and_no_greenlet(live, monitor):
    ws = ws_session(live.url)
    base = monitor.stats()
    pong = client_frame(Opcode.TEXT, b"3")
    ws.send(pong * 20_000)  # unsolicited pongs, all at once
    # A round trip on the flooded connection itself: every pong has been read before the ack.
    ws.send_text('421["stats"]')
    while True:
        text = ws.recv_text()
        if text == "2":
            ws.send_text("3")
        elif text.startswith("431"):
            after = json.loads(text[3:])[0]
            break
    # A timer (or greenlet) per pong would show as 20,000 more; what varies by a few is the
    # other sessions' heartbeats and cancelled timers not yet popped.
    assert after["timers"] < base["timers"] + 10, (base, after)
    assert after["greenlets"] < base["greenlets"] + 10, (base, after)
    assert after["sessions"] == base["sessions"]
    # The heartbeat goes on: the next ping is answered and the session lives.
    text = ws.recv_text()
    assert text == "2", text
    ws.send_text("3")
    ws.send_text('422["join","x"]')
    while (text := ws.recv_text()) == "2":
        ws.send_text("3")
    assert text == '432["joined"]'
    ws.close()


# -- connect timeout ------------------------------------------------------------------------------


def test_a_websocket_session_that_joins_no_namespace_is_closed(live, monitor):
    ws = ws_session(live.url, namespace=False)
    # Pings are answered, so only connect_timeout can end it: the close packet, then the end.
    texts = []
    while True:
        try:
            frame = ws.recv_frame()
        except EOFError:
            break
        if frame.opcode == Opcode.CLOSE:
            ws.assert_eof()
            break
        texts.append(frame.text)
        if frame.text == "2":
            ws.send_text("3")
    ws.close()
    assert texts[-1:] == ["1"], texts
    wait_until(lambda: monitor.stats()["sessions"] == 1, "the session is forgotten")


def test_a_polling_session_that_joins_no_namespace_is_closed(live):
    sid = polling_session(live.url)
    while True:
        status, body = answer(polling(live.url, sid=sid))
        assert status == 200, body
        if body == b"2":
            assert answer(polling(live.url, "POST", sid, b"3")) == (200, b"ok")
            continue
        assert body == b"1", body
        break
    status, body = answer(polling(live.url, sid=sid))
    assert (status, json.loads(body)["code"]) == (400, 1)


# -- upgrade timeout ------------------------------------------------------------------------------


@pytest.mark.parametrize("stall_after", ["nothing", "2probe"])
def test_a_stalled_upgrade_probe_times_out_and_polling_goes_on(live, stall_after):
    sid = polling_session(live.url)
    pending = polling(live.url, sid=sid)
    probe = Wire(live.url)
    assert probe.upgrade(f"{WS_QUERY}&sid={sid}") == 101
    if stall_after == "2probe":
        probe.send_text("2probe")
        assert probe.recv_text() == "3probe"
        assert answer(pending) == (200, b"6")  # the pending GET is let go with a noop
        pending = None
    # No "5": after upgrade_timeout the server closes the probe.
    assert expect_server_close(probe) == []
    probe.close()
    if pending is not None:
        status, body = answer(pending)
        assert status == 200 and body in (b"2", b"6"), body
        if body == b"2":
            assert answer(polling(live.url, "POST", sid, b"3")) == (200, b"ok")
    # Polling is intact: the namespace connects and its answer comes by GET.
    assert answer(polling(live.url, "POST", sid, b"40")) == (200, b"ok")
    while True:
        status, body = answer(polling(live.url, sid=sid))
        assert status == 200, body
        packets = body.split(b"\x1e")
        if b"2" in packets:
            assert answer(polling(live.url, "POST", sid, b"3")) == (200, b"ok")
        rest = [p for p in packets if p not in (b"2", b"6")]
        if rest:
            assert rest[0].startswith(b"40{"), body
            break
    assert answer(polling(live.url, "POST", sid, b"41")) == (200, b"ok")


# -- 1,000 aborted and half-open connections leave nothing behind ----------------------------------


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN: the peer sees an aborted connection."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _tcp_only(url: str) -> None:
    _connect(url).close()


def _partial_request(url: str) -> None:
    sock = _connect(url)
    sock.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Half: ")
    _reset(sock)


def _upgrade_then_reset(url: str) -> None:
    ws = Wire(url)
    assert ws.upgrade() == 101
    _reset(ws.sock)


def _connected_then_reset(url: str) -> None:
    ws = ws_session(url)
    ws.send(client_frame(Opcode.TEXT, b"42")[:3])  # half a frame, then gone
    _reset(ws.sock)


def _polling_then_gone(url: str) -> None:
    sid = polling_session(url)
    assert answer(polling(url, "POST", sid, b"40")) == (200, b"ok")


def _probe_then_reset(url: str) -> None:
    sid = polling_session(url)
    probe = Wire(url)
    assert probe.upgrade(f"{WS_QUERY}&sid={sid}") == 101
    probe.send_text("2probe")
    assert probe.recv_text() == "3probe"
    _reset(probe.sock)


KINDS = [_tcp_only, _partial_request, _upgrade_then_reset, _connected_then_reset,
         _polling_then_gone, _probe_then_reset]


def test_aborted_and_half_open_connections_leak_nothing(live, monitor):
    def settled() -> dict[str, int]:
        return monitor.stats()

    # Sessions of earlier tests may still be on their way out: start from the monitor alone.
    base = wait_until(lambda: (s := settled())["sessions"] == 1 and s, "only the monitor's session")
    for i in range(900):
        KINDS[i % len(KINDS)](live.url)
    # 100 half-open WebSockets: connected, then silent with the TCP connection left open.
    silent = [ws_session(live.url) for _ in range(100)]
    during = settled()
    assert during["sessions"] > base["sessions"]

    def back_to_base() -> bool:
        now = settled()
        return (now["sessions"] == base["sessions"] and now["greenlets"] <= base["greenlets"]
                and now["fds"] <= base["fds"])

    # Heartbeats evict the silent and vanished sessions; everything else ended at once.
    wait_until(back_to_base, f"sessions, greenlets and fds back to {base}")
    for ws in silent:
        assert expect_server_close(ws) == ["2"]
        ws.close()
    final = settled()
    assert final["sessions"] == base["sessions"], (base, final)
    assert final["greenlets"] <= base["greenlets"], (base, final)
    assert final["fds"] <= base["fds"], (base, final)
