"""Error hooks: ``Namespace.on_error``, ``Server.on_error(namespace)`` and
``Server.on_error_default`` (as Flask-SocketIO's) answer the ack of an event whose handler
raised; without one the error is logged and the ack stays unanswered (test_polling.py)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import wsgi_sio
from wsgi_sio.testing import SocketIOTestClient


class Failure(Exception):
    pass


@pytest.fixture
def app() -> Any:
    sio = wsgi_sio.Server()

    @sio.namespace("/own")
    class Own(wsgi_sio.Namespace):
        def on_boom(self, what: str) -> None:
            raise Failure(what)

        def on_error(self, event: str, exc: BaseException) -> Any:
            return {"error": str(exc), "event": event, "hook": "class"}

        def catch_all(self, event: str, *args: Any) -> Any:
            return "caught", event, *args

    @sio.namespace("/chat")
    class Chat(wsgi_sio.Namespace):
        def on_boom(self, what: str) -> None:
            raise Failure(what)

    @sio.on("boom", namespace="/other")
    def boom(socket: wsgi_sio.Namespace, what: str) -> None:
        raise Failure(what)

    @sio.on("hook_fails", namespace="/chat")
    def hook_fails(socket: wsgi_sio.Namespace) -> None:
        raise Failure("hook_fails")

    @sio.on("ok", namespace="/chat")
    def ok(socket: wsgi_sio.Namespace) -> str:
        return "fine"

    @sio.on_error("/chat")
    def chat_error(socket: wsgi_sio.Namespace, event: str, exc: BaseException) -> Any:
        if event == "hook_fails":
            raise RuntimeError("the hook fails too (expected by the test)")
        socket.emit("oops", event)  # the socket is there to talk back
        return "chat", str(exc)     # a tuple: several ack arguments

    @sio.on_error_default
    def default_error(socket: wsgi_sio.Namespace, event: str, exc: BaseException) -> Any:
        return {"default": type(exc).__name__, "namespace": socket.namespace}

    return wsgi_sio.SocketIOMiddleware(None, sio)


def test_a_namespace_class_hook_answers_the_ack(app: Any) -> None:
    with SocketIOTestClient(app, "/own") as client:
        assert client.call("boom", "x") == {"error": "x", "event": "boom", "hook": "class"}


def test_a_namespace_hook_answers_the_ack_and_may_emit(app: Any) -> None:
    with SocketIOTestClient(app, "/chat") as client:
        assert client.call("boom", "y") == ("chat", "y")
        assert client.get_received() == [{"name": "oops", "args": ["boom"], "namespace": "/chat"}]


def test_the_default_hook_serves_namespaces_without_one(app: Any) -> None:
    with SocketIOTestClient(app, "/other") as client:
        assert client.call("boom", "z") == {"default": "Failure", "namespace": "/other"}


def test_a_hook_that_raises_is_logged_and_the_ack_unanswered(app: Any, caplog: Any) -> None:
    with SocketIOTestClient(app, "/chat") as client, caplog.at_level(logging.ERROR, "wsgi_sio"):
        client.emit("hook_fails")
        assert client.call("ok") == "fine"  # in order: the failed hook ran before this
        assert client.is_connected()
    assert "error handler for event 'hook_fails' on /chat raised" in caplog.text


def test_an_error_event_from_the_client_is_not_the_hook(app: Any) -> None:
    # ``on_error`` is the hook, never the handler of a client's "error" event
    with SocketIOTestClient(app, "/own") as client:
        assert client.call("error", "from the client") == ("caught", "error", "from the client")
        assert client.call("boom", "w")["hook"] == "class"
