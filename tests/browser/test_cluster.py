"""The demo site as deployed: gunicorn ``-w 4`` (sample_site/gunicorn.conf.py) with the Redis
manager, in real headless Chromium, no sticky routing (issue 11; design §9.5).

All workers accept on one port, so the kernel picks the worker for each connection: a page's
handshake, its later polling requests and its WebSocket upgrade may each reach a different
worker, and those that are not the session's owner hand the request to it. Two pages whose
sessions live in different workers (their Engine.IO sids name the owner) must see each other's
messages, which cross workers through Redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.cluster import Gunicorn, redis_env
from tests.support.lifecycle import wait_until
from tests.support.live import assert_only_deliberate_tracebacks

pytestmark = pytest.mark.browser

WORKERS = 4
APP = "sample_site.wsgi:application"
#: most pages opened while looking for two sessions owned by different workers
MAX_PAGES = 12
TIMEOUT = 20


def wait_for_listeners(redis_url: str, channel: str, count: int) -> None:
    """Waits until ``count`` processes subscribe to ``channel``: every worker's Redis listener
    is in place, so no broadcast can be published before a worker hears it. Redis tells no
    one of new subscribers, so this asks it (PUBSUB NUMSUB, a round trip) until a deadline."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        wait_until(lambda: int(client.pubsub_numsub(channel)[0][1]) >= count,
                   f"{count} workers listening on {channel}", deadline=TIMEOUT)
    finally:
        client.close()


@pytest.fixture(scope="module")
def cluster(site_db: Path, redis_url: str) -> Iterator[Gunicorn]:
    env = {**redis_env(redis_url), "SAMPLE_SITE_DB": str(site_db),
           "DJANGO_SETTINGS_MODULE": "sample_site.settings"}
    server = Gunicorn(APP, WORKERS, env, "-c", "sample_site/gunicorn.conf.py")
    try:
        server.wait_for_workers()
        wait_for_listeners(redis_url, f"{env['WSGI_SIO_REDIS_KEY']}-request#/echo#", WORKERS)
    except BaseException:
        server.stop()
        raise
    yield server
    assert_only_deliberate_tracebacks(server.stop())


def open_echo(new_page, url: str):
    """The echo page, once its socket is connected; it records the URLs of its Socket.IO
    requests (``page.sio_requests``) and WebSockets (``page.sio_websockets``)."""
    page = new_page()
    page.sio_requests = []
    page.sio_websockets = []
    page.on("request", lambda r: "/socket.io/" in r.url and page.sio_requests.append(r.url))
    page.on("websocket", lambda ws: page.sio_websockets.append(ws.url))
    page.goto(f"{url}/")
    page.wait_for_function("() => window.socket && socket.connected")
    return page


def owner(page) -> str:
    """The tag of the worker that holds the page's session (``[host.]tag.token``)."""
    return page.evaluate("socket.io.engine.id").split(".")[-2]


def test_two_pages_on_different_workers_see_each_others_messages(new_page, cluster):
    pages = [open_echo(new_page, cluster.url)]
    while owner(pages[-1]) == owner(pages[0]) and len(pages) < MAX_PAGES:
        pages.append(open_echo(new_page, cluster.url))
    one, two = pages[0], pages[-1]
    assert owner(one) != owner(two), f"all {len(pages)} sessions were made by one worker"

    for page in (one, two):
        # the default client: a long-polling handshake, then the upgrade to WebSocket
        page.wait_for_function("() => socket.io.engine.transport.name === 'websocket'")
        expect(page.locator("#transport")).to_have_text("websocket")
        assert "transport=polling" in page.sio_requests[0] and "sid=" not in page.sio_requests[0]
        sid = page.evaluate("socket.io.engine.id")
        assert any(f"sid={sid}" in url for url in page.sio_websockets), page.sio_websockets

    one.evaluate('socket.emit("echo", "from one")')
    for page in pages:
        expect(page.locator("#log li")).to_have_text(["from one"])
    two.fill("#text", "from two")
    two.click("#form button")
    for page in pages:
        expect(page.locator("#log li")).to_have_text(["from one", "from two"])
