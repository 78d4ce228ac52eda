"""The django-socketio tutorial with its socket.io 0.9.16 client, under ``manage.py
runserver_socketio``, in real headless Chromium: the page as written (``{% socketio %}``,
``io.connect("/echo")``, ``alert(data)``), over WebSocket and over xhr-polling, and beside a
page moved to socket.io-client 4.x."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live import ROOT, django_server, free_port

pytestmark = pytest.mark.browser

# resolves once the page's socket has joined /echo on the server: an ack comes back only
# after the server handled the namespace connect sent before it (frames are handled in order)
JOINED = "() => new Promise(resolve => socket.emit('joined?', function () { resolve(true); }))"


@pytest.fixture(scope="module")
def legacy_site() -> Iterator[str]:
    if not (ROOT / "wsgi_sio/django/static/wsgi_sio/socket.io-0.9.16.min.js").exists():
        pytest.fail("socket.io-client 0.9.16 is not installed for the static files: run `make setup`")
    server = django_server("runserver_socketio", "--noreload", TEST_SOCKETIO_PORT=str(free_port()),
                           DJANGO_SETTINGS_MODULE="tests.browser.legacy_site.settings")
    yield server.url
    output = server.stop()
    assert "Traceback" not in output, output


def open_page(new_page, url: str):
    page = new_page()
    page.goto(url)
    assert page.evaluate(JOINED) is True
    return page


def emit_and_see_alerts(sender, pages, text: str) -> None:
    """``socket.emit("echo", text)`` in ``sender``; every page shows ``alert(text)``."""
    waiters = [page.expect_event("dialog") for page in pages]
    infos = [w.__enter__() for w in waiters]
    try:
        sender.evaluate(f"socket.emit('echo', {text!r})")
    finally:
        for waiter in reversed(waiters):
            waiter.__exit__(None, None, None)
    for info in infos:
        dialog = info.value
        assert (dialog.type, dialog.message) == ("alert", text)
        dialog.accept()


def test_tutorial_page_over_websocket(new_page, legacy_site):
    one = open_page(new_page, legacy_site + "/")
    two = open_page(new_page, legacy_site + "/")
    assert one.evaluate("io.version") == "0.9.16"
    assert one.evaluate("socket.socket.transport.name") == "websocket"
    emit_and_see_alerts(one, [one, two], "hello world")


def test_tutorial_page_over_xhr_polling(new_page, legacy_site):
    one = open_page(new_page, legacy_site + "/polling/")
    two = open_page(new_page, legacy_site + "/polling/")
    assert one.evaluate("socket.socket.transport.name") == "xhr-polling"
    emit_and_see_alerts(one, [one, two], "hello world")
    emit_and_see_alerts(two, [one, two], "and back")


def test_a_09_page_and_a_4x_page_see_each_other(new_page, legacy_site):
    old = open_page(new_page, legacy_site + "/")
    polling = open_page(new_page, legacy_site + "/polling/")
    new = open_page(new_page, legacy_site + "/v4/")
    assert new.evaluate("socket.io.engine.transport.name") in ("polling", "websocket")  # a 4.x client
    emit_and_see_alerts(old, [old, polling, new], "from 0.9")
    emit_and_see_alerts(new, [old, polling, new], "from 4.x")
