"""python-socketio's own ``socketio.Client`` (from PyPI) against a real wsgi_sio server.

Run over WebSocket only, long-polling only, and polling upgraded to WebSocket, behind gevent's
pywsgi handler and behind gevent-websocket's handler.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import pytest
import socketio

from tests.support.python_client import TIMEOUT, connect, refused

TRANSPORTS = {
    "websocket": ["websocket"],
    "polling": ["polling"],
    "upgrade": ["polling", "websocket"],
}


SERVERS = {
    "pywsgi": "interop_server",
    "gevent-websocket": "interop_server_gevent_websocket",
    "gunicorn": "interop_server_gunicorn",
}


@pytest.fixture(params=sorted(SERVERS))
def url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(SERVERS[request.param]).url


@pytest.fixture(params=sorted(TRANSPORTS))
def transports(request: pytest.FixtureRequest) -> list[str]:
    return TRANSPORTS[request.param]


@pytest.fixture
def clients() -> Iterator[list[socketio.Client]]:
    made: list[socketio.Client] = []
    yield made
    for client in made:
        client.disconnect()


def test_connect_with_auth_gets_welcome_after_connect(url, transports, clients):
    client, rec = connect(url, transports, auth={"user": "ann"})
    clients.append(client)
    assert rec.next("welcome") == ({"user": "ann"},)
    assert client.transport() == transports[-1]
    who = client.call("whoami", namespace="/chat", timeout=TIMEOUT)
    assert who["auth"] == {"user": "ann"}
    assert who["sid"] == client.get_sid("/chat")
    assert who["sid"] != client.eio.sid  # the Socket.IO id is not the Engine.IO id


def test_refused_connection_reports_message_and_data(url, transports):
    assert refused(url, transports, "/chat", {"refuse": True}) == {"message": "refused",
                                                                  "data": {"code": 401}}


def test_unknown_namespace_is_refused(url, transports):
    assert refused(url, transports, "/nowhere") == {"message": "Invalid namespace"}


def test_acks_both_ways_and_binary(url, transports, clients):
    client, rec = connect(url, transports)
    clients.append(client)
    # client -> server with ack, binary nested in the arguments, both ways
    payload = {"blob": b"\x00\x01\xff", "list": [b"abc", 1, "é"]}
    assert client.call("echo", (payload, b"raw"), namespace="/chat", timeout=TIMEOUT) == (payload, b"raw")
    # function handler
    assert client.call("ping", (1, "2"), namespace="/chat", timeout=TIMEOUT) == (1, "2")
    # catch-all handler
    assert client.call("unheard_of", 5, namespace="/chat", timeout=TIMEOUT) == ["caught", "unheard_of", 5]
    # server -> client event with binary
    client.emit("emit_back", data=("bytes", b"\x10\x20"), namespace="/chat")
    assert rec.next("bytes") == (b"\x10\x20",)
    # server -> client call waiting for the client's ack, inside a handler
    assert client.call("ask", "life", namespace="/chat", timeout=TIMEOUT) == "answer to life"
    # server -> client emit with a callback
    client.emit("ask_callback", "x", namespace="/chat")
    assert rec.next("told") == ("answer to x",)


def test_failing_handler_keeps_the_connection(url, transports, clients):
    client, _ = connect(url, transports)
    clients.append(client)
    client.emit("fail", namespace="/chat")
    assert client.call("echo", "still here", namespace="/chat", timeout=TIMEOUT) == "still here"


def test_rooms_and_broadcast_across_three_clients(url, transports, clients):
    members = [connect(url, transports) for _ in range(3)]
    clients.extend(c for c, _ in members)
    (a, ra), (b, rb), (c, rc) = members
    assert a.call("join", "red", namespace="/chat", timeout=TIMEOUT) == ["red"]
    assert b.call("join", "red", namespace="/chat", timeout=TIMEOUT) == ["red"]
    # room broadcast including the sender
    assert a.call("to_room", ("red", "news", {"n": 1}), namespace="/chat", timeout=TIMEOUT)
    assert ra.next("news") == ({"n": 1},)
    assert rb.next("news") == ({"n": 1},)
    # socket.to(room): everyone in the room but the sender
    assert a.call("to_room_others", ("red", "gossip"), namespace="/chat", timeout=TIMEOUT)
    assert rb.next("gossip") == ()
    # whole-namespace broadcast reaches all three
    assert c.call("broadcast", ("all", b"\x01"), namespace="/chat", timeout=TIMEOUT)
    for rec in (ra, rb, rc):
        assert rec.next("all") == (b"\x01",)
    # leaving the room stops delivery; the messages above prove ordering, so c and a got nothing
    assert b.call("leave", "red", namespace="/chat", timeout=TIMEOUT) == []
    assert a.call("to_room", ("red", "news", {"n": 2}), namespace="/chat", timeout=TIMEOUT)
    assert ra.next("news") == ({"n": 2},)
    assert b.call("echo", "sync", namespace="/chat", timeout=TIMEOUT) == "sync"
    assert rb.empty("news") and rc.empty("news") and ra.empty("gossip")


def test_disconnect_both_ways(url, transports, clients):
    client, _ = connect(url, transports)
    sid = client.get_sid("/chat")
    observer, _ = connect(url, transports)
    clients.append(observer)
    client.disconnect()
    # the server saw the namespace disconnect with the reference reason
    def reasons() -> list[Any]:
        return observer.call("disconnects", namespace="/chat", timeout=TIMEOUT)
    assert sid is not None
    for _ in range(100):
        if ["/chat", "client namespace disconnect"] in reasons():
            break
        observer.sleep(0.05)
    assert ["/chat", "client namespace disconnect"] in reasons()

    # server-initiated disconnect
    other, _ = connect(url, transports)
    gone = queue.Queue()
    other.on("disconnect", lambda *reason: gone.put(reason), namespace="/chat")
    other.emit("disconnect_me", namespace="/chat")
    assert gone.get(timeout=TIMEOUT) is not None
    other.disconnect()
