"""RedisStreamsManager (wsgi_sio/managers/redis_streams.py): real wsgi_sio processes on one
Redis stream, a Node server with @socket.io/redis-streams-adapter 0.3.1 in the same cluster,
Redis restarted mid-run, and hostile stream entries and pub/sub messages.

Nothing waits by sleeping: a test that expects nothing to arrive sends a marker afterwards
through the same path (one stream is read in order) and checks, once the marker is in, that
nothing else came first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.live import LiveServer
from tests.support.redis_peers import redis
from tests.support.streams_peers import (
    StreamsNodePeer,
    start_streams_server,
    streams_node_available,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def servers(redis_url: str, key: str) -> Iterator[Callable[..., LiveServer]]:
    """``servers()`` starts one more wsgi_sio process with the streams manager."""
    started: list[LiveServer] = []

    def start(url: str | None = None, **kw: Any) -> LiveServer:
        server = start_streams_server(url or redis_url, key, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        output = server.stop()
        assert "Traceback" not in output, output
    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(key)
    finally:
        client.close()


@pytest.fixture
def node_peer(redis_url: str, key: str) -> Iterator[StreamsNodePeer]:
    if not streams_node_available():
        pytest.skip("node or tests/interop/js/node_modules (npm install) is missing")
    peer = StreamsNodePeer(redis_url, key)
    yield peer
    peer.stop()


def hexed(data: bytes) -> dict[str, str]:
    return {"$hex": data.hex()}


# -- two wsgi_sio processes ----------------------------------------------------------------------


def test_rooms_and_broadcasts_cross_processes_once(servers, clients):
    a, b = servers(), servers()
    on_a, on_b, outsider = clients(a.url), clients(b.url), clients(b.url)
    assert on_a.server_uid != on_b.server_uid
    on_a.call("join", "lobby")
    on_b.call("join", "lobby")

    on_a.call("to", "lobby", "news", {"n": 1}, b"\x00\x01")
    assert on_a.next("news") == ({"n": 1}, b"\x00\x01")
    assert on_b.next("news") == ({"n": 1}, b"\x00\x01")   # binary: base64 MessagePack

    on_b.call("others", "lobby", "from_b", "hi")
    assert on_a.next("from_b") == ("hi",)
    on_a.call("to", on_b.sid, "direct", 42)                # a sid on the other process
    assert on_b.next("direct") == (42,)
    on_b.call("to_except", ["lobby"], [on_a.sid], "not_a", 1)
    assert on_b.next("not_a") == (1,)
    on_b.call("broadcast", "marker")
    for client in (on_a, on_b, outsider):
        client.next("marker")
    assert on_b.pending("from_b") == [] and outsider.pending("from_b") == []
    assert outsider.pending("news") == [] and on_a.pending("not_a") == []
    assert on_a.pending("news") == [] and on_b.pending("news") == []   # once each


def test_room_changes_and_disconnects_cross_processes(servers, clients):
    a, b = servers(), servers()
    on_a, on_b = clients(a.url), clients(b.url)
    on_a.call("enter", on_b.sid, "vip")            # SOCKETS_JOIN on the stream
    on_a.call("to", "vip", "vip_only", "welcome")
    assert on_b.next("vip_only") == ("welcome",)
    on_a.call("exit", on_b.sid, "vip")             # SOCKETS_LEAVE
    on_a.call("to", "vip", "vip_only", "again")
    on_a.call("to", on_b.sid, "marker")
    on_b.next("marker")
    assert on_b.pending("vip_only") == []
    on_b.call("join", "doomed")
    on_a.call("close_room", "doomed")
    on_a.call("to", "doomed", "doomed_news")
    on_a.call("to", on_b.sid, "marker")
    on_b.next("marker")
    assert on_b.pending("doomed_news") == []
    on_a.call("kick", on_b.sid)                    # DISCONNECT_SOCKETS
    assert on_b.disconnected.wait(10)


def test_fetch_sockets_and_server_side_events(servers, clients):
    a, b, c = servers(), servers(), servers()
    on_a, on_b, on_c = clients(a.url), clients(b.url), clients(c.url)
    on_b.call("join", "team")
    on_c.call("join", "team")
    listed = on_a.call("list")
    assert sorted(sid for sid, _ in listed) == sorted([on_a.sid, on_b.sid, on_c.sid])
    assert dict(map(tuple, listed))[on_b.sid] == sorted([on_b.sid, "team"])
    assert sorted(sid for sid, _ in on_a.call("list", "team")) == sorted([on_b.sid, on_c.sid])
    assert {"team", on_a.sid, on_b.sid, on_c.sid} <= set(on_a.call("all_rooms"))

    on_a.call("server_side", "relay", {"from": "a"})   # to the other servers, not itself
    assert on_b.next("relayed") == ({"from": "a"},)
    assert on_c.next("relayed") == ({"from": "a"},)
    answers = on_a.call("server_side_ack", "relay", "with ack")
    assert sorted(x["relayed_by"] for x in answers) == sorted([on_b.server_uid, on_c.server_uid])
    on_a.call("broadcast", "marker")
    on_a.next("marker")
    assert on_a.pending("relayed") == []


def test_namespaces_are_kept_apart(servers, clients):
    a, b = servers(), servers()
    root_b, chat_b, chat_a = clients(b.url), clients(b.url, "/chat"), clients(a.url, "/chat")
    chat_a.call("broadcast", "chat_news", "c")
    assert chat_b.next("chat_news") == ("c",)
    root_b.call("broadcast", "marker")
    root_b.next("marker")
    assert root_b.pending("chat_news") == []
