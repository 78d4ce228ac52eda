"""wsgi_sio.compat: old gevent-socketio / django-socketio namespaces, imports changed only."""

import logging
from pathlib import Path

import pytest

from wsgi_sio.testing import ConnectError, SocketIOTestClient

from .sockapp.sockets import seen

# The events.py of the old tutorial, as the issue gives it.
TUTORIAL = """\
from socketio.namespace import BaseNamespace
from django_socketio.events import Namespace
from socketio.mixins import BroadcastMixin

@Namespace('/echo')
class EchoNamespace(BaseNamespace, BroadcastMixin):
    nicknames = []
    def initialize(self):
        pass
    def on_echo(self, echo):
        self.broadcast_event('echo', echo)
    def recv_disconnect(self):
        self.log('Disconnected')
        self.disconnect(silent=True)
        return True
"""

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_tutorial_module_is_the_snippet_with_only_its_imports_changed():
    ported = (Path(__file__).parent / "echo" / "events.py").read_text()
    expected = (TUTORIAL.replace("from socketio.namespace import", "from wsgi_sio.compat import")
                .replace("from django_socketio.events import", "from wsgi_sio.compat import")
                .replace("from socketio.mixins import", "from wsgi_sio.compat import"))
    assert ported == expected


def test_tutorial_echo_reaches_every_page(application, caplog):
    caplog.set_level(logging.INFO, logger="wsgi_sio.compat")
    with SocketIOTestClient(application, "/echo") as one, SocketIOTestClient(application, "/echo") as two:
        one.emit("echo", "hello world")
        assert one.wait_for("echo") == ["hello world"]
        assert two.wait_for("echo") == ["hello world"]
        two.disconnect("/echo")
        one.call("echo", "after")   # ordered: two's recv_disconnect may still be running elsewhere
        assert one.wait_for("echo") == ["after"]
    logged = [r for r in caplog.records if r.getMessage() == "[/echo] Disconnected"]
    assert logged


@pytest.fixture
def old(application):
    return SocketIOTestClient(application, "/old")


def test_return_values_answer_acks_and_initialize_runs(old):
    with old:
        assert old.call("add", 2, 3) == 5
        assert old.call("pair") == ("one", "two")
        assert old.call("state") == {"initialized": True}


def test_recv_connect_sees_request_and_environ_and_may_refuse(application):
    with SocketIOTestClient(application, "/old") as client:
        assert client.wait_for("hello") == [False, "/socket.io/"]
    with pytest.raises(ConnectError):
        SocketIOTestClient(application, "/old", auth={"refuse": True})


def test_rooms_mixin_and_broadcast_not_me(application):
    with SocketIOTestClient(application, "/old") as a, SocketIOTestClient(application, "/old") as b, \
            SocketIOTestClient(application, "/old") as c:
        a.call("join", "r")
        b.call("join", "r")
        a.call("to_room", "r", "hi")            # everyone in r but a
        assert b.wait_for("room_message") == ["hi"]
        a.call("shout", "all")                  # everyone in /old but a
        assert b.wait_for("shout") == ["all"]
        assert c.wait_for("shout") == ["all"]
        b.call("leave", "r")
        a.call("to_room", "r", "nobody")
        c.call("add", 0, 0)
        b.call("add", 0, 0)
        for client in (a, b, c):
            assert [e["name"] for e in client.get_received()] == ["hello"]


def test_spawn_send_and_silent_disconnect(old):
    with old:
        old.call("spawn")
        assert old.wait_for("spawned") == ["done"]
        old.send("plain message")
        assert old.wait_for("got_message") == ["plain message"]
        old.emit("bye")                         # silent: the namespace goes, no packet says so
        old.connect("/")                        # handled after "bye": the connection lives on
        assert old.call("ping", namespace="/") == ["pong"]
        assert old.is_connected("/old")
    assert ("recv_disconnect", "/old") not in _drain()


def test_disconnect_tells_the_client_and_skips_recv_disconnect(old):
    with old:
        old.emit("kick")
        assert old.wait_for_disconnect("/old")
        old.connect("/")
        assert old.call("ping", namespace="/") == ["pong"]
    assert ("recv_disconnect", "/old") not in _drain()


def test_recv_disconnect_runs_when_the_client_goes(application):
    _drain()
    with SocketIOTestClient(application, "/old"):
        pass
    assert seen.get(timeout=5) == ("recv_disconnect", "/old")


def _drain():
    items = []
    while not seen.empty():
        items.append(seen.get_nowait())
    return items
