"""Issue 6, point 7 (the part outside Django): session ids and the origin check.

Session ids come from ``secrets`` with 120 random bits; 100,000 of them are distinct. With
``cors_allowed_origins`` (tests/apps/lifecycle_app.py allows ``https://allowed.example``)
the Origin is checked on the handshake, on the WebSocket upgrade of a polling session and
on every polling POST, so a page elsewhere can neither open a socket nor speak on one whose
sid it learned.
"""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

from tests.support.wire import WS_QUERY, Wire
from wsgi_sio.protocol.routing import Route, compose_sid, parse_sid

ALLOWED = "https://allowed.example"
EVIL = "https://evil.example"


def test_100000_session_ids_are_distinct_and_carry_120_random_bits():
    # The sid names its owner (the process tag), and the token after it keeps the full
    # strength of the sids before issue 11.
    route = Route(None, "AbCd_-12")
    sids = [compose_sid(route) for _ in range(100_000)]
    assert len(set(sids)) == len(sids)
    assert all(parse_sid(sid) == route for sid in sids)
    tokens = [sid.partition(".")[2] for sid in sids]
    # 20 URL-safe base64 characters: 6 bits each, all random (secrets.token_urlsafe(15)).
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{20}", token) for token in tokens)
    # Every character position takes (nearly) all 64 values: no fixed or counter part.
    for position in range(20):
        assert len({token[position] for token in tokens[:10_000]}) == 64


def request(url: str, method: str, query: str, origin: str | None,
            body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Origin": origin} if origin else {}
    conn.request(method, f"/socket.io/?{query}", body=body, headers=headers)
    try:
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def handshake(url: str, origin: str | None = ALLOWED) -> str:
    status, headers, body = request(url, "GET", "EIO=4&transport=polling", origin)
    assert status == 200, body
    if origin:
        assert headers["access-control-allow-origin"] == origin
    return json.loads(body[1:])["sid"]


def test_handshake_from_another_origin_is_refused(live):
    status, headers, body = request(live.url, "GET", "EIO=4&transport=polling", EVIL)
    assert (status, json.loads(body)["code"]) == (403, 4)
    assert "access-control-allow-origin" not in headers
    handshake(live.url)            # the allowed origin
    handshake(live.url, None)      # no Origin: not a browser


def test_direct_websocket_from_another_origin_is_refused_before_the_101(live):
    ws = Wire(live.url)
    assert ws.upgrade(extra={"Origin": EVIL}) == 403
    assert json.loads(ws.body)["code"] == 4
    ws.close()
    ws = Wire(live.url)
    assert ws.upgrade(extra={"Origin": ALLOWED}) == 101
    assert ws.recv_text().startswith('0{"sid":')
    ws.close()


def test_upgrade_of_a_polling_session_from_another_origin_is_refused(live):
    sid = handshake(live.url)
    probe = Wire(live.url)
    assert probe.upgrade(f"{WS_QUERY}&sid={sid}", extra={"Origin": EVIL}) == 403
    assert json.loads(probe.body)["code"] == 4
    probe.close()
    # The session is untouched and still upgrades from its own origin.
    probe = Wire(live.url)
    assert probe.upgrade(f"{WS_QUERY}&sid={sid}", extra={"Origin": ALLOWED}) == 101
    probe.send_text("2probe")
    assert probe.recv_text() == "3probe"
    probe.close()


def test_polling_post_from_another_origin_is_refused_and_not_applied(live):
    sid = handshake(live.url)
    query = f"EIO=4&transport=polling&sid={sid}"
    status, _, body = request(live.url, "POST", query, EVIL, b"40")
    assert (status, json.loads(body)["code"]) == (403, 4)
    # The refused CONNECT did nothing: the session's own origin connects, once.
    assert request(live.url, "POST", query, ALLOWED, b"40")[::2] == (200, b"ok")
    status, _, body = request(live.url, "GET", query, ALLOWED)
    packets = [p for p in body.split(b"\x1e") if p != b"2"]
    assert status == 200 and len(packets) == 1 and packets[0].startswith(b"40{"), body
    # A GET from elsewhere cannot read the session either.
    status, _, body = request(live.url, "GET", query, EVIL)
    assert (status, json.loads(body)["code"]) == (403, 4)
