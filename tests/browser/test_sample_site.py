"""The old django-socketio tutorial and the demo chat, in real headless Chromium on one port."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def open_echo(new_page, site: str, query: str = ""):
    page = new_page()
    page.goto(f"{site}/{query}")
    page.wait_for_function("() => window.socket && socket.connected")
    return page


def test_echo_two_pages_both_receive(new_page, site):
    one = open_echo(new_page, site)
    two = open_echo(new_page, site)
    one.evaluate('socket.emit("echo", "hello world")')   # as typed in the console
    expect(one.locator("#log li")).to_have_text(["hello world"])
    expect(two.locator("#log li")).to_have_text(["hello world"])


def test_polling_only_page_works(new_page, site):
    polling = open_echo(new_page, site, "?transport=polling")
    other = open_echo(new_page, site)
    assert polling.evaluate("socket.io.engine.transport.name") == "polling"
    polling.fill("#text", "over polling")
    polling.click("#form button")
    expect(polling.locator("#log li")).to_have_text(["over polling"])
    expect(other.locator("#log li")).to_have_text(["over polling"])
    other.evaluate('socket.emit("echo", "back to polling")')
    expect(polling.locator("#log li")).to_have_text(["over polling", "back to polling"])
    assert polling.evaluate("socket.io.engine.transport.name") == "polling"


def test_default_page_ends_up_on_websocket(new_page, site):
    page = open_echo(new_page, site)
    page.wait_for_function("() => socket.io.engine.transport.name === 'websocket'")
    expect(page.locator("#transport")).to_have_text("websocket")
    page.evaluate('socket.emit("echo", "over websocket")')
    expect(page.locator("#log li")).to_have_text(["over websocket"])


def log_in(new_page, site: str, name: str):
    page = new_page()
    page.goto(f"{site}/chat/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/chat/$"))
    page.fill("#id_username", name)
    page.fill("#id_password", "socketio")
    page.click("#login")
    expect(page).to_have_url(f"{site}/chat/")
    expect(page.locator("#status")).to_have_text(f"in lobby as {name}")
    return page


def test_chat_login_rooms_and_announcement(new_page, site):
    anonymous = open_echo(new_page, site)
    alice = log_in(new_page, site, "alice")
    bob = log_in(new_page, site, "bob")
    expect(alice.locator("#log li").last).to_have_text("bob joined")
    bob.fill("#text", "hi alice")
    bob.press("#text", "Enter")
    expect(alice.locator("#log li").last).to_have_text("bob: hi alice")
    expect(bob.locator("#log li").last).to_have_text("bob: hi alice")

    # another room: bob leaves the lobby, messages stay in their room
    bob.goto(f"{site}/chat/django/")
    expect(bob.locator("#status")).to_have_text("in django as bob")
    expect(alice.locator("#log li").last).to_have_text("bob left")
    bob.evaluate('socket.emit("say", "only in django")')
    expect(bob.locator("#log li").last).to_have_text("bob: only in django")
    alice.evaluate('socket.emit("say", "only in lobby")')
    expect(alice.locator("#log li").last).to_have_text("alice: only in lobby")
    # Bob gets the next message of his own room; his connection's packets arrive in order,
    # so the lobby message would be in his log by then had it been sent to him.
    bob.evaluate('socket.emit("say", "after the lobby message")')
    expect(bob.locator("#log li").last).to_have_text("bob: after the lobby message")
    bob_log = bob.locator("#log li").all_text_contents()
    assert "alice: only in lobby" not in bob_log, bob_log
    assert bob_log[-2:] == ["bob: only in django", "bob: after the lobby message"], bob_log

    # a view posts an announcement to everyone connected, logged in or not
    alice.fill("#announcement-text", "tea is ready")
    alice.click("#announce")
    expect(alice.locator("#status")).to_have_text("in lobby as alice")   # reloaded, reconnected
    expect(bob.locator(".announcement")).to_have_text(["📣 alice: tea is ready"])
    expect(anonymous.locator(".announcement")).to_have_text(["📣 alice: tea is ready"])


def test_anonymous_socket_is_refused_by_the_chat(new_page, site):
    page = open_echo(new_page, site)
    message = page.evaluate("""() => new Promise((resolve) => {
        const chat = io("/chat");
        chat.on("connect_error", (err) => { chat.close(); resolve(err.message); });
    })""")
    assert message == "log in first"
