"""Engine.IO v4 long-polling through the WSGI app, driven with WebTest (PROTOCOL-NOTES §1.3–1.9).

WebTest calls the app in the test thread and offers no WebSocket, so every session here is a
polling one with ``"upgrades":[]``. A polling GET blocks until packets are queued: a GET that
may have to wait runs in a helper thread and is joined with a timeout (``poll``), and the
tests wait on events, never on sleeps.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():  # WebOb still imports the deprecated ``cgi`` module
    warnings.filterwarnings("ignore", "'cgi' is deprecated", DeprecationWarning)
    import webtest

import wsgi_sio
from tests.support.webtest import bounded_get

PATH = "/engine.io/"
HANDSHAKE = PATH + "?EIO=4&transport=polling"
WAIT = 5.0  # generous bound for anything that should happen "at once"


def url(sid: str, path: str = PATH) -> str:
    return f"{path}?EIO=4&transport=polling&sid={sid}"


def handshake(app: webtest.TestApp, path: str = PATH, **kw: Any) -> str:
    res = app.get(f"{path}?EIO=4&transport=polling", **kw)
    assert res.status_int == 200
    assert res.text[0] == "0"
    return json.loads(res.text[1:])["sid"]


def error_of(res: webtest.TestResponse) -> tuple[int, dict[str, Any]]:
    assert res.content_type == "application/json"
    return res.status_int, json.loads(res.text)


def poll(app: webtest.TestApp, sid: str, timeout: float = WAIT, path: str = PATH) -> webtest.TestResponse:
    """One polling GET that may block, run in a thread and bounded by ``timeout``."""
    return bounded_get(app, url(sid, path), timeout, expect_errors=True)


def post(app: webtest.TestApp, sid: str, body: str | bytes, **kw: Any) -> webtest.TestResponse:
    kw.setdefault("content_type", "text/plain;charset=UTF-8")
    return app.post(url(sid), body, expect_errors=True, **kw)


class Recorder:
    """Callbacks for a raw EngineServer: records connects/messages/disconnects, echoes messages."""

    def __init__(self, echo: bool = True) -> None:
        self.echo = echo
        self.messages: queue.Queue[str | bytes] = queue.Queue()
        self.disconnects: queue.Queue[tuple[str, str]] = queue.Queue()

    def on_message(self, sock: Any, data: str | bytes) -> None:
        self.messages.put(data)
        if self.echo:
            sock.send(data)

    def on_disconnect(self, sock: Any, reason: str) -> None:
        self.disconnects.put((sock.sid, reason))

    def next_message(self) -> str | bytes:
        return self.messages.get(timeout=WAIT)

    def next_disconnect(self) -> tuple[str, str]:
        return self.disconnects.get(timeout=WAIT)


def make_engine(recorder: Recorder | None = None, **kw: Any) -> wsgi_sio.EngineServer:
    kw.setdefault("async_mode", "threading")
    if recorder is not None:
        kw.update(on_message=recorder.on_message, on_disconnect=recorder.on_disconnect)
    return wsgi_sio.EngineServer(**kw)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def engine(rec: Recorder):
    eng = make_engine(rec)
    yield eng
    eng.close_all()


@pytest.fixture
def app(engine: wsgi_sio.EngineServer) -> webtest.TestApp:
    return webtest.TestApp(engine)


# -- handshake ------------------------------------------------------------------------------


def test_handshake_body_is_the_open_packet_byte_for_byte(app: webtest.TestApp) -> None:
    res = app.get(HANDSHAKE)
    assert res.status == "200 OK"
    match = re.fullmatch(r'0\{"sid":"([A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{20})","upgrades":\[\],"pingInterval":25000,'
                         r'"pingTimeout":20000,"maxPayload":1000000\}', res.text)
    assert match is not None, res.text
    assert res.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert res.headers["Cache-Control"] == "no-store"
    assert res.headers["Content-Length"] == str(len(res.body))
    assert "Set-Cookie" not in res.headers


def test_handshake_reflects_the_server_options() -> None:
    app = webtest.TestApp(make_engine(ping_interval=1.5, ping_timeout=0.25, max_http_buffer_size=4096))
    res = app.get(HANDSHAKE)
    body = json.loads(res.text[1:])
    assert list(body) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]
    assert body["upgrades"] == []
    assert (body["pingInterval"], body["pingTimeout"], body["maxPayload"]) == (1500, 250, 4096)
    app.app.close_all()


def test_each_handshake_gets_a_new_url_safe_sid_naming_this_process(app: webtest.TestApp) -> None:
    sids = {handshake(app) for _ in range(20)}
    assert len(sids) == 20
    # the process tag, then 20 random characters (issue 11)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{20}", sid) for sid in sids)
    assert len({sid.partition(".")[0] for sid in sids}) == 1


def test_cache_buster_and_unknown_query_parameters_are_ignored(app: webtest.TestApp) -> None:
    res = app.get(HANDSHAKE + "&t=PZ3zX1a&foo=bar")
    assert res.text.startswith('0{"sid":"')


# -- error answers (§1.9) -------------------------------------------------------------------


@pytest.mark.parametrize("query, code, message", [
    ("EIO=4", 0, "Transport unknown"),
    ("EIO=4&transport=abc", 0, "Transport unknown"),
    ("EIO=4&transport=", 0, "Transport unknown"),
    ("EIO=3", 0, "Transport unknown"),  # transport is checked first
    ("EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA", 1, "Session ID unknown"),
    ("EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA", 1, "Session ID unknown"),
    ("EIO=4&transport=websocket", 3, "Bad request"),  # no Upgrade under WebTest
    ("EIO=4&transport=polling&" + "&".join(f"x{i}=1" for i in range(40)), 3, "Bad request"),
    ("transport=polling", 5, "Unsupported protocol version"),
    ("EIO=3&transport=polling", 5, "Unsupported protocol version"),
    ("EIO=abc&transport=polling", 5, "Unsupported protocol version"),
    ("EIO=5&transport=polling", 5, "Unsupported protocol version"),
])
def test_get_errors(app: webtest.TestApp, query: str, code: int, message: str) -> None:
    res = app.get(PATH + "?" + query, expect_errors=True)
    assert res.status == "400 Bad Request"
    assert res.body == json.dumps({"code": code, "message": message},
                                  separators=(",", ":")).encode()
    assert error_of(res) == (400, {"code": code, "message": message})


@pytest.mark.parametrize("method", ["post", "put", "delete", "options"])
def test_handshake_that_is_not_a_get_is_code_2(app: webtest.TestApp, method: str) -> None:
    res = getattr(app, method)(HANDSHAKE, expect_errors=True)
    assert error_of(res) == (400, {"code": 2, "message": "Bad handshake method"})


def test_post_for_an_unknown_sid_is_code_1(app: webtest.TestApp) -> None:
    res = post(app, "AAAAAAAAAAAAAAAAAAAA", "4hello")
    assert error_of(res) == (400, {"code": 1, "message": "Session ID unknown"})


def test_disallowed_origin_is_403_code_4() -> None:
    app = webtest.TestApp(make_engine(cors_allowed_origins=["https://a.example"]))
    res = app.get(HANDSHAKE, headers={"Origin": "https://evil.example"}, expect_errors=True)
    assert res.status == "403 Forbidden"
    assert error_of(res) == (403, {"code": 4, "message": "Not an accepted origin"})
    assert "Access-Control-Allow-Origin" not in res.headers
    assert not app.app.sockets


# -- POST and GET -----------------------------------------------------------------------------


def test_post_answers_ok_as_text_html(app: webtest.TestApp, rec: Recorder) -> None:
    sid = handshake(app)
    res = post(app, sid, "4hello")
    assert res.status == "200 OK"
    assert res.body == b"ok"
    assert res.headers["Content-Type"].split(";")[0] == "text/html"
    assert res.headers["Content-Length"] == "2"
    assert rec.next_message() == "hello"


def test_several_packets_in_one_post_arrive_in_order(app: webtest.TestApp, rec: Recorder) -> None:
    sid = handshake(app)
    assert post(app, sid, "4hello\x1e4\x1e4wörld €").body == b"ok"
    assert [rec.next_message() for _ in range(3)] == ["hello", "", "wörld €"]
    # The echoes come back in order, possibly over more than one GET.
    packets: list[str] = []
    while len(packets) < 3:
        packets += poll(app, sid).text.split("\x1e")
    assert packets == ["4hello", "4", "4wörld €"]


def test_one_get_returns_every_buffered_packet(app: webtest.TestApp, engine: wsgi_sio.EngineServer) -> None:
    sid = handshake(app)
    sock = engine.sockets[sid]
    for text in ("test1", "test2", "test3"):
        assert sock.send(text)
    res = app.get(url(sid))
    assert res.status == "200 OK"
    assert res.body == b"4test1\x1e4test2\x1e4test3"
    assert res.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert res.headers["Cache-Control"] == "no-store"
    assert res.headers["Content-Length"] == str(len(res.body))


def test_get_carries_utf8_text(app: webtest.TestApp, engine: wsgi_sio.EngineServer) -> None:
    sid = handshake(app)
    engine.sockets[sid].send("héllo ☃ 😀")
    assert app.get(url(sid)).body == "4héllo ☃ 😀".encode()


def test_binary_message_is_b_plus_base64_both_ways(app: webtest.TestApp, rec: Recorder) -> None:
    sid = handshake(app)
    assert post(app, sid, "bAQIDBA==\x1e4text").body == b"ok"
    assert rec.next_message() == b"\x01\x02\x03\x04"
    assert rec.next_message() == "text"
    packets: list[str] = []
    while len(packets) < 2:
        packets += poll(app, sid).text.split("\x1e")
    assert packets == ["bAQIDBA==", "4text"]


def test_server_binary_and_empty_binary(app: webtest.TestApp, engine: wsgi_sio.EngineServer) -> None:
    sid = handshake(app)
    sock = engine.sockets[sid]
    sock.send(b"\xff\x00\xfe")
    sock.send(b"")
    assert app.get(url(sid)).body == b"b/wD+\x1eb"


def test_post_over_max_http_buffer_size_is_413() -> None:
    eng = make_engine(max_http_buffer_size=16)
    app = webtest.TestApp(eng)
    sid = handshake(app)
    res = post(app, sid, "4" + "x" * 16)
    assert res.status_int == 413
    assert error_of(res) == (413, {"code": 3, "message": "Payload too large"})
    # Exactly at the limit is fine.
    assert post(app, sid, "4" + "x" * 15).body == b"ok"
    eng.close_all()


def test_octet_stream_post_is_400_and_ends_the_session(app: webtest.TestApp, rec: Recorder) -> None:
    sid = handshake(app)
    res = post(app, sid, b"\x04\x01\x02", content_type="application/octet-stream")
    assert error_of(res) == (400, {"code": 3, "message": "Binary payloads are not supported on EIO=4"})
    assert rec.next_disconnect() == (sid, "transport error")
    res = app.get(url(sid), expect_errors=True)
    assert error_of(res) == (400, {"code": 1, "message": "Session ID unknown"})
    assert rec.messages.empty()


@pytest.mark.parametrize("body", ["abc", "4ok\x1e9nope", "b!!notbase64", "\xff"])
def test_invalid_payload_is_400_and_ends_the_session(app: webtest.TestApp, rec: Recorder, body: str) -> None:
    sid = handshake(app)
    res = post(app, sid, body.encode("utf-8") if body != "\xff" else b"\xff")
    status, err = error_of(res)
    assert status == 400 and err["code"] == 3 and err["message"]
    assert rec.next_disconnect() == (sid, "parse error")
    res = app.get(url(sid), expect_errors=True)
    assert error_of(res) == (400, {"code": 1, "message": "Session ID unknown"})
    # The payload is refused as a whole: not even its valid first packet is delivered.
    assert rec.messages.empty()


def test_concurrent_get_is_refused_and_the_first_get_gets_close(app: webtest.TestApp, rec: Recorder) -> None:
    sid = handshake(app)
    results: list[webtest.TestResponse] = []
    done = threading.Event()

    def first_get() -> None:
        results.append(webtest.TestApp(app.app).get(url(sid), expect_errors=True))
        done.set()

    threading.Thread(target=first_get, daemon=True).start()
    second = app.get(url(sid), expect_errors=True)  # nothing is queued: one of the two waits
    assert done.wait(WAIT), "the first GET was not answered"
    # Whichever of the two reached the session first is the one that was waiting.
    answers = sorted([results[0], second], key=lambda r: r.status_int)
    assert answers[0].status_int == 200 and answers[0].body == b"1"
    assert error_of(answers[1]) == (400, {"code": 3, "message": "Bad request"})
    assert rec.next_disconnect() == (sid, "transport error")
    res = app.get(url(sid), expect_errors=True)
    assert error_of(res) == (400, {"code": 1, "message": "Session ID unknown"})


def test_client_close_packet_ends_the_session(app: webtest.TestApp, rec: Recorder) -> None:
    sid = handshake(app)
    assert post(app, sid, "1").body == b"ok"
    assert rec.next_disconnect() == (sid, "transport close")
    # A GET sent at the same moment as the close (the official suite does so) may arrive just
    # after it: it gets a noop, as it would have had it come first; then the sid is unknown.
    assert app.get(url(sid)).body == b"6"
    assert error_of(app.get(url(sid), expect_errors=True)) == (400, {"code": 1, "message": "Session ID unknown"})
    assert error_of(post(app, sid, "4late")) == (400, {"code": 1, "message": "Session ID unknown"})


def test_a_get_concurrent_with_the_client_close_gets_a_noop(app: webtest.TestApp, rec: Recorder) -> None:
    """Whichever of the two the server sees first (the GET waiting, or the close before the
    GET), the GET is answered with a noop."""
    sid = handshake(app)
    results: list[webtest.TestResponse] = []
    done = threading.Event()

    def get() -> None:
        results.append(webtest.TestApp(app.app).get(url(sid), expect_errors=True))
        done.set()

    threading.Thread(target=get, daemon=True).start()
    assert post(app, sid, "1").body == b"ok"
    assert done.wait(WAIT), "the GET was not answered"
    assert (results[0].status_int, results[0].body) == (200, b"6")
    assert rec.next_disconnect() == (sid, "transport close")
    assert error_of(app.get(url(sid), expect_errors=True))[1]["code"] == 1


def test_server_close_reaches_the_next_get_as_close_packet(app: webtest.TestApp, rec: Recorder,
                                                           engine: wsgi_sio.EngineServer) -> None:
    sid = handshake(app)
    engine.sockets[sid].send("bye")
    engine.sockets[sid].close()
    assert app.get(url(sid)).body == b"4bye\x1e1"
    assert rec.next_disconnect() == (sid, "forced close")
    assert error_of(app.get(url(sid), expect_errors=True))[1]["code"] == 1


def test_other_method_with_a_sid_is_400(app: webtest.TestApp) -> None:
    sid = handshake(app)
    res = app.put(url(sid), "4x", expect_errors=True)
    assert error_of(res) == (400, {"code": 3, "message": "Bad request"})


# -- heartbeat (§1.8) ---------------------------------------------------------------------------


def test_heartbeat_ping_pong_and_ping_timeout() -> None:
    rec = Recorder()
    eng = make_engine(rec, ping_interval=0.2, ping_timeout=0.2)
    app = webtest.TestApp(eng)
    sid = handshake(app)
    # The GET waits for the first ping; nothing else is ever queued.
    assert poll(app, sid).body == b"2"
    # A pong restarts the interval: another ping comes.
    assert post(app, sid, "3").body == b"ok"
    assert poll(app, sid).body == b"2"
    # No pong this time: the session ends with "ping timeout", and GETs then get code 1.
    deadline = time.monotonic() + WAIT
    while True:
        res = poll(app, sid)
        if res.status_int == 400:
            break
        assert res.status_int == 200 and res.body in (b"6", b"1"), res.body
        assert time.monotonic() < deadline, "the session outlived its ping timeout"
    assert error_of(res) == (400, {"code": 1, "message": "Session ID unknown"})
    assert rec.next_disconnect() == (sid, "ping timeout")


def test_socketio_connect_timeout_closes_a_session_without_connect() -> None:
    sio = wsgi_sio.Server(async_mode="threading", connect_timeout=0.3)
    app = webtest.TestApp(sio)
    sid = handshake(app, "/socket.io/")
    assert poll(app, sid, path="/socket.io/").body == b"1"
    res = app.get(url(sid, "/socket.io/"), expect_errors=True)
    assert error_of(res) == (400, {"code": 1, "message": "Session ID unknown"})


# -- CORS and origins ------------------------------------------------------------------------------


@pytest.fixture
def cors_app():
    eng = make_engine(Recorder(), cors_allowed_origins=["https://a.example", "https://b.example/"])
    yield webtest.TestApp(eng)
    eng.close_all()


def test_allowed_origin_is_echoed_with_credentials(cors_app: webtest.TestApp) -> None:
    origin = {"Origin": "https://a.example"}
    res = cors_app.get(HANDSHAKE, headers=origin)
    assert res.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert res.headers["Access-Control-Allow-Credentials"] == "true"
    sid = json.loads(res.text[1:])["sid"]
    res = cors_app.post(url(sid), "4hi", headers=origin, content_type="text/plain;charset=UTF-8")
    assert res.body == b"ok"
    assert res.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert res.headers["Access-Control-Allow-Credentials"] == "true"
    # A trailing slash in the configured origin does not matter.
    res = cors_app.get(HANDSHAKE, headers={"Origin": "https://b.example"})
    assert res.headers["Access-Control-Allow-Origin"] == "https://b.example"


def test_error_answers_to_an_allowed_origin_carry_cors_headers(cors_app: webtest.TestApp) -> None:
    res = cors_app.get(url("AAAAAAAAAAAAAAAAAAAA"), headers={"Origin": "https://a.example"},
                       expect_errors=True)
    assert error_of(res) == (400, {"code": 1, "message": "Session ID unknown"})
    assert res.headers["Access-Control-Allow-Origin"] == "https://a.example"


def test_preflight_is_204_with_cors_headers(cors_app: webtest.TestApp) -> None:
    res = cors_app.options(HANDSHAKE, headers={
        "Origin": "https://a.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-token",
    })
    assert res.status == "204 No Content"
    assert res.body == b""
    assert res.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert res.headers["Access-Control-Allow-Credentials"] == "true"
    assert set(res.headers["Access-Control-Allow-Methods"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert res.headers["Access-Control-Allow-Headers"] == "content-type, x-token"
    assert not cors_app.app.sockets  # a preflight opens no session


def test_preflight_from_a_disallowed_origin_is_403(cors_app: webtest.TestApp) -> None:
    res = cors_app.options(HANDSHAKE, headers={"Origin": "https://evil.example",
                                               "Access-Control-Request-Method": "POST"},
                           expect_errors=True)
    assert error_of(res) == (403, {"code": 4, "message": "Not an accepted origin"})


def test_disallowed_origin_on_an_existing_session_is_403(cors_app: webtest.TestApp) -> None:
    sid = handshake(cors_app)
    res = cors_app.post(url(sid), "4x", headers={"Origin": "https://evil.example"},
                        content_type="text/plain;charset=UTF-8", expect_errors=True)
    assert error_of(res) == (403, {"code": 4, "message": "Not an accepted origin"})


def test_default_policy_is_same_origin(app: webtest.TestApp) -> None:
    host = {"Host": "chat.example.com"}
    res = app.get(HANDSHAKE, headers={**host, "Origin": "https://chat.example.com"})
    assert res.text.startswith('0{"sid":"')
    assert "Access-Control-Allow-Origin" not in res.headers  # same origin needs no CORS
    res = app.get(HANDSHAKE, headers={**host, "Origin": "https://evil.example"}, expect_errors=True)
    assert error_of(res) == (403, {"code": 4, "message": "Not an accepted origin"})
    res = app.get(HANDSHAKE, headers={**host, "Origin": "null"}, expect_errors=True)
    assert error_of(res) == (403, {"code": 4, "message": "Not an accepted origin"})
    # No Origin header: not a browser, allowed.
    assert app.get(HANDSHAKE, headers=host).text.startswith('0{"sid":"')


def test_star_lets_any_origin_in_without_credentials() -> None:
    """``"*"`` is not "any site with the user's cookies" (issue 9, item 7): the CORS answer
    allows no credentials, and a foreign handshake's Cookie and Authorization headers are
    not kept with the session, whatever the browser sent (WebSocket handshakes carry cookies
    whatever CORS says)."""
    app = webtest.TestApp(make_engine(cors_allowed_origins="*"))
    credentials = {"Cookie": "sessionid=victim", "Authorization": "Basic dmljdGltOnB3"}
    res = app.get(HANDSHAKE, headers={"Host": "site.example", "Origin": "https://evil.example",
                                      "User-Agent": "kept", **credentials})
    assert res.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in res.headers
    sock = app.app.sockets[json.loads(res.text[1:])["sid"]]
    assert "HTTP_COOKIE" not in sock.environ and "HTTP_AUTHORIZATION" not in sock.environ
    assert sock.environ["HTTP_USER_AGENT"] == "kept"
    # the site's own pages, and clients that send no Origin, keep their credentials
    for origin in ({"Origin": "https://site.example"}, {}):
        res = app.get(HANDSHAKE, headers={"Host": "site.example", **origin, **credentials})
        sock = app.app.sockets[json.loads(res.text[1:])["sid"]]
        assert sock.environ["HTTP_COOKIE"] == "sessionid=victim"
        assert sock.environ["HTTP_AUTHORIZATION"] == "Basic dmljdGltOnB3"
    app.app.close_all()


def test_listed_origins_keep_credentials_and_the_own_origin_is_always_allowed(
        cors_app: webtest.TestApp) -> None:
    res = cors_app.get(HANDSHAKE, headers={"Host": "site.example", "Origin": "https://a.example",
                                           "Cookie": "sessionid=user"})
    sock = cors_app.app.sockets[json.loads(res.text[1:])["sid"]]
    assert sock.environ["HTTP_COOKIE"] == "sessionid=user"
    res = cors_app.get(HANDSHAKE, headers={"Host": "site.example", "Origin": "http://site.example"})
    assert res.text.startswith('0{"sid":"')
    assert "Access-Control-Allow-Origin" not in res.headers  # same origin needs no CORS


def test_a_callable_decides_which_origins_are_trusted() -> None:
    seen = []

    def trusted(origin, environ):
        seen.append((origin, environ["HTTP_HOST"]))
        return origin.endswith(".friends.example")

    app = webtest.TestApp(make_engine(cors_allowed_origins=trusted))
    res = app.get(HANDSHAKE, headers={"Host": "site.example", "Origin": "https://a.friends.example"})
    assert res.headers["Access-Control-Allow-Origin"] == "https://a.friends.example"
    assert res.headers["Access-Control-Allow-Credentials"] == "true"
    res = app.get(HANDSHAKE, headers={"Host": "site.example", "Origin": "https://evil.example"},
                  expect_errors=True)
    assert error_of(res) == (403, {"code": 4, "message": "Not an accepted origin"})
    assert seen == [("https://a.friends.example", "site.example"), ("https://evil.example", "site.example")]
    app.app.close_all()


def test_a_session_keeps_only_bounded_headers_of_its_handshake() -> None:
    """30 abandoned handshakes with megabytes of headers each held them until the connect
    timeout (issue 9, item 6): a session keeps headers up to 16 KiB each, 64 KiB in all,
    shortest first, and none of the request's I/O objects."""
    app = webtest.TestApp(make_engine())
    floods = {f"X-Flood-{i}": "f" * 60_000 for i in range(5)}
    mediums = {f"X-Medium-{i:02}": "m" * 8_000 for i in range(12)}
    res = app.get(HANDSHAKE, headers={"Host": "site.example", "Cookie": "sessionid=user",
                                      **floods, **mediums})
    sock = app.app.sockets[json.loads(res.text[1:])["sid"]]
    env = sock.environ
    assert env["HTTP_COOKIE"] == "sessionid=user" and env["HTTP_HOST"] == "site.example"
    assert not any(key.startswith("HTTP_X_FLOOD") for key in env)
    kept = [key for key in env if key.startswith("HTTP_X_MEDIUM")]
    assert 0 < len(kept) < len(mediums)
    assert sum(len(k) + len(v) for k, v in env.items() if k.startswith("HTTP_")) <= 65536
    assert "wsgi.input" not in env and "wsgi.errors" not in env
    assert env["REQUEST_METHOD"] == "GET" and env["wsgi.url_scheme"] == "http"
    app.app.close_all()


# -- cookie ----------------------------------------------------------------------------------------


def test_cookie_is_set_on_the_handshake_only() -> None:
    eng = make_engine(Recorder(), cookie="io")
    app = webtest.TestApp(eng)
    res = app.get(HANDSHAKE)
    sid = json.loads(res.text[1:])["sid"]
    assert res.headers.getall("Set-Cookie") == [f"io={sid}; Path=/; HttpOnly; SameSite=Lax"]
    res = post(app, sid, "4hello")
    assert res.body == b"ok" and "Set-Cookie" not in res.headers
    res = poll(app, sid)
    assert res.body == b"4hello" and "Set-Cookie" not in res.headers
    eng.close_all()


def test_no_cookie_by_default(app: webtest.TestApp) -> None:
    assert "Set-Cookie" not in app.get(HANDSHAKE).headers


def test_allow_request_hook_refuses_with_403_code_4_before_any_handler() -> None:
    seen: list[str] = []

    def only_trusted(environ):
        return None if environ.get("HTTP_X_TRUSTED") == "yes" else "Host not allowed"

    engine = wsgi_sio.EngineServer(async_mode="threading", allow_request=only_trusted,
                                   on_connect=lambda sock: seen.append(sock.sid))
    app = webtest.TestApp(engine)
    refused = app.get("/engine.io/?EIO=4&transport=polling", status=403)
    assert refused.json == {"code": 4, "message": "Host not allowed"}
    assert seen == []
    ok = app.get("/engine.io/?EIO=4&transport=polling", headers={"X-Trusted": "yes"})
    assert ok.text.startswith("0{") and len(seen) == 1


def test_a_websocket_handshake_environ_is_trimmed_in_place() -> None:
    """A WebSocket session's request lives as long as it does: its own environ is trimmed
    instead of copied (no second dict per connection)."""
    from wsgi_sio.engine.http import session_environ

    environ = {"REQUEST_METHOD": "GET", "HTTP_HOST": "site.example", "HTTP_COOKIE": "sessionid=x",
               "HTTP_X_FLOOD": "f" * 60_000, "wsgi.input": object()}
    kept = session_environ(environ, in_place=True)
    assert kept is environ
    assert "HTTP_X_FLOOD" not in environ and environ["HTTP_COOKIE"] == "sessionid=x"
    anonymous = session_environ(dict(environ), anonymous=True, in_place=True)
    assert "HTTP_COOKIE" not in anonymous and anonymous["HTTP_HOST"] == "site.example"
