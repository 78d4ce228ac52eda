"""SocketIOMiddleware: Socket.IO under its path (prefix match), everything else to the wrapped app.

The wrapped app's response must come back untouched: status, headers, a streaming body
chunk by chunk, and the ``close()`` of its iterable (PEP 3333), which WebTest calls as a
WSGI server would.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

with warnings.catch_warnings():  # WebOb still imports the deprecated ``cgi`` module
    warnings.filterwarnings("ignore", "'cgi' is deprecated", DeprecationWarning)
    import webtest

import wsgi_sio
from tests.support.webtest import bounded_get


class StreamingBody:
    """A WSGI response iterable that streams its chunks and records ``close()``."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.yielded: list[bytes] = []
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.yielded.append(chunk)
            yield chunk

    def close(self) -> None:
        self.closed += 1


class Site:
    """The wrapped application: records every request it sees."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.bodies: list[StreamingBody] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> StreamingBody:
        self.requests.append({
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "query": environ.get("QUERY_STRING", ""),
            "body": environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)),
        })
        start_response("418 I'm a teapot", [
            ("Content-Type", "text/x-tea; charset=latin-1"),
            ("X-Site", "yes"),
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2; Path=/"),
        ])
        body = StreamingBody([b"first,", b"", b"second,", "thïrd".encode("latin-1")])
        self.bodies.append(body)
        return body


@pytest.fixture
def site() -> Site:
    return Site()


def make(site: Site, **kw: Any) -> tuple[webtest.TestApp, wsgi_sio.Server]:
    sio = wsgi_sio.Server(async_mode="threading", **kw)
    return webtest.TestApp(wsgi_sio.SocketIOMiddleware(site, sio)), sio


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/socket.iox", "/static/socket.io/app.js",
                                  "/engine.io/?EIO=4&transport=polling"])
def test_other_paths_reach_the_app_untouched(site: Site, path: str) -> None:
    app, _ = make(site)
    res = app.get(path, expect_errors=True)
    assert res.status == "418 I'm a teapot"
    assert res.headers["Content-Type"] == "text/x-tea; charset=latin-1"
    assert res.headers["X-Site"] == "yes"
    assert res.headers.getall("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert res.body == b"first,second,th\xefrd"
    body = site.bodies[-1]
    assert body.yielded == body.chunks  # streamed, chunk by chunk
    assert body.closed == 1
    assert site.requests[-1]["path"] == path.split("?")[0]


def test_post_body_reaches_the_app(site: Site) -> None:
    app, _ = make(site)
    res = app.post("/form?x=1", b"name=value", content_type="application/x-www-form-urlencoded",
                   expect_errors=True)
    assert res.status_int == 418
    assert site.requests == [{"method": "POST", "path": "/form", "query": "x=1", "body": b"name=value"}]
    assert site.bodies[-1].closed == 1


def test_the_app_iterable_is_returned_as_is(site: Site) -> None:
    sio = wsgi_sio.Server(async_mode="threading")
    middleware = wsgi_sio.SocketIOMiddleware(site, sio)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/page", "QUERY_STRING": "",
               "wsgi.input": io.BytesIO()}
    seen: list[Any] = []
    result = middleware(environ, lambda status, headers, exc_info=None: seen.append(status))
    assert result is site.bodies[-1]  # not wrapped, not consumed
    assert result.yielded == [] and seen == ["418 I'm a teapot"]


@pytest.mark.parametrize("path", ["/socket.io/", "/socket.io", "/socket.io/anything/below"])
def test_socketio_path_is_matched_by_prefix(site: Site, path: str) -> None:
    app, sio = make(site)
    res = app.get(path + "?EIO=4&transport=polling")
    assert res.status_int == 200
    assert res.text.startswith('0{"sid":"')
    assert json.loads(res.text[1:])["sid"] in sio.engine.sockets
    assert site.requests == []
    sio.shutdown()


def test_socketio_errors_come_from_the_server_not_the_app(site: Site) -> None:
    app, _ = make(site)
    res = app.get("/socket.io/", expect_errors=True)
    assert res.status_int == 400
    assert res.body == b'{"code":0,"message":"Transport unknown"}'
    assert site.requests == []


@pytest.mark.parametrize("configured", ["/realtime", "/realtime/", "realtime"])
def test_custom_path(site: Site, configured: str) -> None:
    app, sio = make(site, path=configured)
    res = app.get("/realtime/?EIO=4&transport=polling")
    assert res.text.startswith('0{"sid":"')
    assert app.get("/realtime?EIO=4&transport=polling").text.startswith('0{"sid":"')
    # The default path is now the app's.
    res = app.get("/socket.io/?EIO=4&transport=polling", expect_errors=True)
    assert res.status_int == 418
    assert [r["path"] for r in site.requests] == ["/socket.io/"]
    sio.shutdown()


def test_full_socketio_exchange_through_the_middleware(site: Site) -> None:
    app, sio = make(site)

    @sio.on("echo")
    def echo(socket: wsgi_sio.Namespace, *args: Any) -> Any:
        return args

    sid = json.loads(app.get("/socket.io/?EIO=4&transport=polling").text[1:])["sid"]
    url = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    assert app.post(url, '40\x1e421["echo","x",2]', content_type="text/plain;charset=UTF-8").body == b"ok"
    packets: list[str] = []
    while len(packets) < 2:  # both replies are queued by the connection's worker
        packets += bounded_get(app, url).text.split("\x1e")
    assert packets[0].startswith('40{"sid":"')
    assert packets[1] == '431["x",2]'
    assert site.requests == []
    sio.shutdown()


def test_without_an_app_other_paths_are_404() -> None:
    sio = wsgi_sio.Server(async_mode="threading")
    app = webtest.TestApp(wsgi_sio.SocketIOMiddleware(None, sio))
    res = app.get("/anything", expect_errors=True)
    assert res.status == "404 Not Found"
    assert res.body == b"Not Found"
