"""Issue 13: a socket.io 0.9.16 page, a socket.io-client 2.5 page and a 4.x page in one room
see each other's messages.

One server, the django-socketio tutorial's project (tests/browser/legacy_site/) under
``manage.py runserver_socketio`` (0.9 clients on) with ``WSGI_SIO["ALLOW_EIO3"]`` (2.x clients
on), serves three pages in headless Chromium, one per client generation, all on ``/echo``,
whose ``echo`` event the tutorial's handler broadcasts to every socket of the namespace.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live import ROOT, django_server, free_port

pytestmark = pytest.mark.browser

V2_CLIENT = ROOT / "tests/interop/js/node_modules/socket.io-client-v2/dist/socket.io.js"
CLIENTS = {
    "0.9": ROOT / "wsgi_sio/django/static/wsgi_sio/socket.io-0.9.16.min.js",
    "2.x": V2_CLIENT,
    "4.x": ROOT / "wsgi_sio/django/static/wsgi_sio/socket.io.min.js",
}

# resolves once the page's socket has joined /echo on the server: an ack comes back only
# after the server handled the namespace connect sent before it (frames are handled in order)
JOINED = "() => new Promise(resolve => socket.emit('joined?', function () { resolve(true); }))"

# the name of the transport each generation's socket uses, read in the page
TRANSPORT = {
    "0.9": "socket.socket.transport.name",
    "2.x": "socket.io.engine.transport.name",
    "4.x": "socket.io.engine.transport.name",
}


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    missing = [str(path.relative_to(ROOT)) for path in CLIENTS.values() if not path.exists()]
    if missing:
        pytest.fail(f"socket.io clients missing ({', '.join(missing)}): run `make setup`")
    server = django_server("runserver_socketio", "--noreload", TEST_SOCKETIO_PORT=str(free_port()),
                           DJANGO_SETTINGS_MODULE="tests.browser.legacy_site.settings",
                           LEGACY_SITE_ALLOW_EIO3="1")
    yield server.url
    output = server.stop()
    assert "Traceback" not in output, output


def test_a_09_a_2x_and_a_4x_page_see_each_others_messages(new_page, site):
    pages = {}
    for client in CLIENTS:
        page = new_page()
        page.goto(f"{site}/generations/{client}/")
        assert page.evaluate(JOINED) is True, client
        pages[client] = page

    # each page really runs its generation's client
    assert pages["0.9"].evaluate("io.version") == "0.9.16"
    for client, eio in (("2.x", "3"), ("4.x", "4")):
        assert pages[client].evaluate("String(socket.io.engine.transport.query.EIO)") == eio, client

    # where each ends: 0.9 opens on websocket; 2.x and 4.x open on polling and upgrade
    for client, page in pages.items():
        page.wait_for_function(f"() => {TRANSPORT[client]} === 'websocket'")

    sent = {client: f"from {client}" for client in pages}
    for client, page in pages.items():
        page.evaluate("text => socket.emit('echo', text)", sent[client])
    for page in pages.values():
        page.wait_for_function("n => received.length >= n", arg=len(sent))

    # Every page has seen all three broadcasts; any duplicate of one was queued to each socket
    # before this last one was, so once "end" has arrived a duplicate would be in the list too.
    pages["4.x"].evaluate("socket.emit('echo', 'end')")
    for page in pages.values():
        page.wait_for_function("() => received.includes('end')")

    for client, page in pages.items():
        received = page.evaluate("received")
        assert received[-1] == "end", (client, received)
        assert sorted(received[:-1]) == sorted(sent.values()), (client, received)
        assert page.evaluate(TRANSPORT[client]) == "websocket", client
