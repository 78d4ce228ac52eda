"""RedisStreamsManager (wsgi_sio/managers/redis_streams.py): real wsgi_sio processes on one
Redis stream, a Node server with @socket.io/redis-streams-adapter 0.3.1 in the same cluster,
Redis restarted mid-run, and hostile stream entries and pub/sub messages.

Nothing waits by sleeping: a test that expects nothing to arrive sends a marker afterwards
through the same path (one stream is read in order) and checks, once the marker is in, that
nothing else came first.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import re
import subprocess
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import msgpack
import pytest

from tests.support.live import LiveServer
from tests.support.redis_peers import JS_DIR, NODE, RedisServer, redis, serve_threaded
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


# -- a Node server with @socket.io/redis-streams-adapter 0.3.1 -------------------------------------


@pytest.fixture
def cluster(servers, clients, node_peer):
    server = servers()
    py = clients(server.url)
    # our listener subscribed the public channel: the Node adapter counts us (PUBSUB NUMSUB)
    assert node_peer.request("serverCount") == 2
    return py, node_peer, server


@pytest.mark.node
def test_node_and_wsgi_share_rooms_and_broadcasts_both_ways(cluster):
    py, node, _ = cluster
    node_sid = node.info["sid"]
    py.call("join", "shared")
    assert "shared" in node.request("join", room="shared")

    py.call("to", "shared", "from_py", {"x": 1}, b"\x01")
    assert node.next("from_py") == [{"x": 1}, hexed(b"\x01")]
    assert py.next("from_py") == ({"x": 1}, b"\x01")

    node.request("emit", room="shared", event="from_node", args=["hi", hexed(b"\x02\x03")])
    assert py.next("from_node") == ("hi", b"\x02\x03")
    assert node.next("from_node") == ["hi", hexed(b"\x02\x03")]

    node.request("emit", room="shared", event="not_py", args=[], **{"except": py.sid})
    node.request("emit", room=py.sid, event="direct", args=[7])
    assert py.next("direct") == (7,)
    assert py.pending("not_py") == []
    py.call("to", node_sid, "direct_node", 5)
    assert node.next("direct_node") == [5]
    py.call("others", "shared", "others", "o")
    assert node.next("others") == ["o"]
    node.request("emit", event="everyone", args=[1])
    assert py.next("everyone") == (1,) and node.next("everyone") == [1]


@pytest.mark.node
def test_wsgi_answers_the_node_adapters_requests(cluster):
    py, node, _ = cluster
    node_sid = node.info["sid"]
    py.call("join", "shared")
    fetched = {s["id"]: s for s in node.request("fetch")}               # FETCH_SOCKETS
    assert set(fetched) == {py.sid, node_sid}
    assert fetched[py.sid]["rooms"] == sorted([py.sid, "shared"])
    assert [s["id"] for s in node.request("fetch", room="shared")] == [py.sid]

    relayed = node.request("serverSideEmitWithAck", event="relay", args=["n"])  # SERVER_SIDE_EMIT
    assert relayed == [{"relayed_by": py.server_uid}]
    assert py.next("relayed") == ("n",)

    node.request("socketsJoin", room=py.sid, join="vip")                 # SOCKETS_JOIN
    node.request("emit", room="vip", event="vip", args=[])
    assert py.next("vip") == ()
    node.request("socketsLeave", room=py.sid, leave="vip")               # SOCKETS_LEAVE
    node.request("emit", room="vip", event="vip_again", args=[])
    node.request("emit", room=py.sid, event="marker", args=[])
    py.next("marker")
    assert py.pending("vip_again") == []

    acks = node.request("emitWithAck", room=py.sid, event="question", args=[1])  # BROADCAST + ack
    assert acks == ["ack from py"]

    node.request("disconnectSockets", room=py.sid)                       # DISCONNECT_SOCKETS
    assert py.disconnected.wait(10)


@pytest.mark.node
def test_wsgi_reaches_into_the_node_server(cluster):
    py, node, _ = cluster
    node_sid = node.info["sid"]
    listed = {sid: rooms for sid, rooms in py.call("list")}       # our FETCH_SOCKETS, Node answers
    assert listed[node_sid] == [node_sid] and py.sid in listed
    assert node_sid in py.call("all_rooms")

    py.call("server_side", "relay", "from py")
    assert node.next("relayed") == ["from py"]
    assert py.call("server_side_ack", "relay", "ack me") == [{"relayed_by": "node"}]
    assert node.next("relayed") == ["ack me"]

    py.call("enter", node_sid, "from_py_room")                     # SOCKETS_JOIN on Node
    py.call("to", "from_py_room", "in_room", 1)
    assert node.next("in_room") == [1]
    py.call("kick", node_sid)                                      # DISCONNECT_SOCKETS
    assert node.next("disconnect") == ["io server disconnect"]


# -- faults: Redis restarted, hostile entries ------------------------------------------------------


@pytest.fixture
def persistent_redis():
    """A private Redis that keeps its data across a restart on the same port (AOF, fsync
    always): the stream survives, as it would on a real Redis that restarts."""
    server = RedisServer(config=("--appendonly", "yes", "--appendfsync", "always"))
    yield server
    server.cleanup()


def test_redis_restart_mid_run_loses_and_duplicates_nothing(persistent_redis, servers, clients):
    a = servers(persistent_redis.url, retry_max=0.2)
    b = servers(persistent_redis.url, retry_max=0.2)
    on_a, on_b = clients(a.url), clients(b.url)
    on_a.call("join", "room")
    on_b.call("join", "room")
    n = 50

    on_a.call("emit_many", "room", "before", n)   # b may not have read these when Redis dies
    persistent_redis.stop()
    on_a.call("emit_many", "room", "during_a", n)  # delivered here at once, queued for b
    on_b.call("emit_many", "room", "during_b", n)
    late = clients(a.url, ready=False)              # new connections are accepted meanwhile
    late.call("join", "room")
    persistent_redis.start()                        # same port, same data
    assert on_a.call("ready")["ready"] and on_b.call("ready")["ready"]
    on_a.call("emit_many", "room", "after_a", n)
    on_b.call("emit_many", "room", "after_b", n)
    # python-socketio's client runs each event's handler in a thread of its own, so what it
    # records may be out of order: the counts and the values are checked, not the order
    expected = {on_a: ("before", "during_a", "during_b", "after_a", "after_b"),
                on_b: ("before", "during_a", "during_b", "after_a", "after_b"),
                late: ("during_b", "after_a", "after_b")}   # it joined while Redis was away
    for client, events in expected.items():
        for event in events:
            got = [client.next(event)[0] for _ in range(n)]
            assert sorted(got) == list(range(n)), (event, got)
    for client in (on_a, on_b, late):
        for event in ("before", "during_a", "during_b", "after_a", "after_b"):
            assert client.pending(event) == [], event   # nothing twice

    for client in (on_a, on_b):
        stats = client.call("stats")
        assert stats["outages"] == 1 and stats["appended_late"] >= n, stats
        assert stats["pending"] == 0 and stats.get("stream_gap", 0) == 0, stats
        assert stats.get("errors", 0) == 0, stats
    outputs = [a.stop(), b.stop()]
    for output in outputs:                          # the outage is logged once, not per message
        assert output.count("is unreachable") == 1, output
        assert output.count("is back after") == 1, output


def test_a_redis_that_lost_the_stream_is_noticed(private_redis, servers, clients):
    """A Redis restarted without its data: what was not read is gone; the reader says so
    (``stream_gap``, one error line) and carries on with the new stream."""
    a = servers(private_redis.url, retry_max=0.2)
    b = servers(private_redis.url, retry_max=0.2)
    on_a, on_b = clients(a.url), clients(b.url)
    on_a.call("join", "room")
    on_b.call("join", "room")
    on_a.call("to", "room", "before", 1)
    assert on_b.next("before") == (1,)
    on_b.call("to", "room", "before_b", 1)         # after a's in the stream: once a has it,
    assert on_a.next("before_b") == (1,)           # both readers have read both entries
    private_redis.restart()                         # empty
    assert on_a.call("ready")["ready"] and on_b.call("ready")["ready"]
    on_b.call("to", "room", "after", 2)
    assert on_a.next("after") == (2,)
    for client in (on_a, on_b):
        stats = client.call("stats")
        assert stats["stream_gap"] == 1 and stats.get("errors", 0) == 0, stats
    for server in (a, b):
        assert server.stop().count("may have been missed") == 1


class Exploit:
    """Unpickling this would run a shell command: proof that nothing unpickles."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_entries_and_messages_are_dropped_counted_and_survived(servers, clients, redis_client,
                                                                       key, tmp_path):
    server = servers()
    py = clients(server.url)
    py.call("join", "room1")
    marker = tmp_path / "unpickled"
    opts = {"rooms": [], "except": [], "flags": {}}

    def b64(value: Any, **kw: Any) -> bytes:
        return base64.b64encode(msgpack.packb(value, **kw))

    def event(*data: Any) -> dict[str, Any]:
        return {"packet": {"type": 2, "data": list(data)}, "opts": opts}

    good = {"uid": "x", "nsp": "/", "type": "3"}
    entries = [                                                          # -> malformed
        {"nsp": "/", "type": "3", "data": json.dumps(event("forged"))},            # no uid
        {**good, "type": "three", "data": json.dumps(event("forged"))},
        {**good, "type": "3" * 2000, "data": json.dumps(event("forged"))},
        {**good, "nsp": "chat"},
        {**good, "uid": b"\xff\xfe"},
        {**good, "data": "{not json"},
        {**good, "data": '{"packet": NaN}'},
        {**good, "data": "!!! not base64"},
        {**good, "data": base64.b64encode(b"\xc1\xc1 not msgpack")},
        {**good, "data": base64.b64encode(pickle.dumps(Exploit(str(marker))))},
        {**good, "data": pickle.dumps(Exploit(str(marker)))},
        {**good, "data": b64({"packet": {"type": 2, "data": ["forged", msgpack.ExtType(42, b"?")]},
                              "opts": opts})},
        {**good, "data": b64({"packet": {"type": 2, "data": ["forged", {1: 2}]}, "opts": opts},
                             strict_types=False)},
        {**good, "data": json.dumps(event("connect"))},                            # reserved
        {**good, "data": json.dumps({"packet": {"type": 2, "data": "forged"}, "opts": opts})},
        {**good, "data": json.dumps({**event("forged"), "opts": {"rooms": [None]}})},
        {**good, "data": json.dumps({**event("forged"), "opts": "everyone"})},
        {**good, "data": json.dumps({"opts": opts})},                              # no packet
        {**good, "type": "4", "data": json.dumps({"opts": opts, "rooms": {"a": 1}})},
        {**good, "type": "6", "data": json.dumps({"opts": opts, "close": "yes"})},
        {**good, "type": "8", "data": json.dumps({"requestId": "r", "sockets": "all"})},
        {**good, "data": json.dumps([1, 2])},                                       # not a map
    ]
    unknown = [                                                          # -> unknown_type
        {**good, "type": "99", "data": json.dumps(event("forged"))},
        {**good, "data": json.dumps({"packet": {"type": 0, "data": ["forged"]}, "opts": opts})},
    ]
    huge = [{**good, "data": json.dumps(event("forged", "x" * 2_000_000))}]  # -> oversized
    quiet = [{"uid": "x", "type": "3", "data": json.dumps(event("forged"))},  # no nsp: skipped
             {**good, "type": "2"},                                          # 0.2.x heartbeat
             {**good, "uid": py.server_uid, "data": json.dumps(event("forged"))}]  # our uid
    for fields in entries + unknown + huge + quiet:
        redis_client.xadd(key, fields)

    public = f"{key}#/#"
    for payload in (pickle.dumps(Exploit(str(marker))), b"\xc1 garbage",
                    msgpack.packb({"uid": "x", "nsp": "/chat", "type": 9,         # wrong channel
                                   "data": {"packet": ["relay", 1]}}),
                    msgpack.packb({"uid": "x", "nsp": "/", "type": 7, "data": {"opts": opts}}),
                    msgpack.packb({"uid": "x", "nsp": "/", "type": 9, "data": {"packet": ["connect"]}}),
                    msgpack.packb({"uid": "x", "nsp": "/", "type": "9", "data": {}}),
                    b"\x80" * 2_000_000):
        redis_client.publish(public, payload)

    # one stream, read in order: once this arrives, every entry above was handled
    redis_client.xadd(key, {**good, "data": json.dumps(event("after", 1))})
    assert py.next("after") == (1,)
    assert py.pending("forged") == [] and py.pending("connect") == []
    assert not marker.exists()
    py.call("server_side", "relay", "marker")      # a pub/sub message of ours: the listener is
    stats = py.call("stats")                       # past the hostile ones once its own comes back
    while stats.get("own", 0) < 2:
        stats = py.call("stats")
    assert stats["malformed"] == len(entries) + 6, stats
    assert stats["unknown_type"] == len(unknown), stats
    assert stats["oversized"] == len(huge) + 1, stats
    assert stats["skipped"] == 1 and stats["ignored"] == 1, stats
    assert stats["delivered"] == 1 and stats.get("errors", 0) == 0, stats
    assert not py.disconnected.is_set()

    other = clients(servers().url)                 # and everything still works
    other.call("to", "room1", "still", "working")
    assert py.next("still") == ("working",)


# -- connection state recovery through Redis ---------------------------------------------------


@pytest.mark.node
def test_a_client_recovers_on_another_process(servers, redis_client, key):
    if not streams_node_available():
        pytest.skip("node or tests/interop/js/node_modules (npm install) is missing")
    a, b = servers(recovery=True), servers(recovery=True)
    proc = subprocess.run([NODE, str(JS_DIR / "streams_recovery.mjs"), a.url, b.url], cwd=JS_DIR,
                          check=False, capture_output=True, text=True, timeout=60)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout + proc.stderr
    seen = json.loads(lines[0])
    assert seen["ok"] is True, seen
    first = seen["firstNews"]
    assert first[0][0] == 0 and first[0][-1] == seen["offset"]
    assert re.fullmatch(r"\d+-\d+", seen["offset"])             # a stream entry id
    # the same sid and its room back (the client's own `recovered` flag compares with the pid
    # of the same socket object; this one is a new object on another URL)
    assert seen["backId"] == seen["sid"] and "room" in seen["rooms"]
    back = seen["backNews"]
    assert [args[0] for args in back] == [1, 2, 3]               # missed, in order, then live
    assert all(re.fullmatch(r"\d+-\d+", args[-1]) for args in back)
    assert back[0][-1] > seen["offset"]
    assert seen["reusedId"] != seen["sid"]
    assert redis_client.keys(f"{key}:session:*") == []         # restored sessions are gone


@pytest.mark.node
def test_a_session_kept_by_wsgi_sio_is_recovered_by_a_node_server(servers, redis_url, key):
    """The Node adapter reads our session (``SET <prefix><pid>``, base64 MessagePack) and
    replays our stream entries after the offset we gave the client."""
    if not streams_node_available():
        pytest.skip("node or tests/interop/js/node_modules (npm install) is missing")
    a = servers(recovery=True)
    with mock.patch.dict(os.environ, {"STREAMS_PEER_RECOVERY": "1"}):
        node = StreamsNodePeer(redis_url, key)
    try:
        node_url = f"http://127.0.0.1:{node.info['port']}"
        proc = subprocess.run([NODE, str(JS_DIR / "streams_recovery.mjs"), a.url, node_url, "node"],
                              cwd=JS_DIR, check=False, capture_output=True, text=True, timeout=60)
    finally:
        node.stop()
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout + proc.stderr
    seen = json.loads(lines[0])
    assert seen["ok"] is True, seen
    assert seen["backId"] == seen["sid"] and "room" in seen["rooms"]
    back = seen["backNews"]
    assert [args[0] for args in back] == [1, 2, 3]
    assert all(re.fullmatch(r"\d+-\d+", args[-1]) for args in back)


@pytest.mark.node
def test_a_session_kept_by_a_node_server_is_recovered_by_wsgi_sio(servers, redis_url, key):
    """We read the Node adapter's session and its offsets (entry ids the Node server appended)."""
    if not streams_node_available():
        pytest.skip("node or tests/interop/js/node_modules (npm install) is missing")
    a = servers(recovery=True)
    with mock.patch.dict(os.environ, {"STREAMS_PEER_RECOVERY": "1"}):
        node = StreamsNodePeer(redis_url, key)
    try:
        node_url = f"http://127.0.0.1:{node.info['port']}"
        proc = subprocess.run([NODE, str(JS_DIR / "streams_recovery.mjs"), a.url, node_url, "from-node"],
                              cwd=JS_DIR, check=False, capture_output=True, text=True, timeout=60)
    finally:
        node.stop()
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout + proc.stderr
    seen = json.loads(lines[0])
    assert seen["ok"] is True, seen
    assert re.fullmatch(r"\d+-\d+", seen["offset"])
    assert seen["backId"] == seen["sid"] and "room" in seen["rooms"]
    back = seen["backNews"]
    assert [args[0] for args in back] == [1, 2, 3]
    assert all(re.fullmatch(r"\d+-\d+", args[-1]) for args in back)
    assert seen["reusedId"] != seen["sid"]


# -- the threading runtime ---------------------------------------------------------------------


def test_threading_runtime_shares_rooms_with_a_gevent_process(servers, clients, redis_url, key):
    import wsgi_sio

    manager = wsgi_sio.RedisStreamsManager(redis_url, stream_name=key, channel_prefix=key,
                                           block_time=1.0)
    sio = wsgi_sio.Server(async_mode="threading", manager=manager)

    @sio.on("join")
    def join(socket, room):
        socket.join(room)
        return True

    @sio.on("to")
    def to(socket, room, event, *args):
        sio.emit(event, *args, to=room)
        return True

    @sio.on("ready")
    def ready(socket):
        return {"ready": manager.wait_ready(10), "uid": manager.uid, "sid": socket.sid}

    try:
        with serve_threaded(sio) as url:
            assert manager.server is not None and manager.server.runtime.name == "threading"
            polling = clients(url, transports=["polling"])
            gevent_side = clients(servers().url)
            polling.call("join", "mixed")
            gevent_side.call("join", "mixed")
            polling.call("to", "mixed", "from_threads", b"\x07")
            assert gevent_side.next("from_threads") == (b"\x07",)
            gevent_side.call("to", "mixed", "from_gevent", 1)
            assert polling.next("from_gevent") == (1,)
            assert {sid for sid, _ in manager.list_sockets("/", "mixed")} == {polling.sid, gevent_side.sid}
            stats = manager.stats()
            assert stats["appended"] >= 1 and stats["delivered"] >= 1, stats
            assert stats.get("errors", 0) == 0 and stats.get("dropped", 0) == 0, stats
            polling.close()                        # while its server is up
    finally:
        manager.close()


def test_a_request_reaching_another_process_is_relayed_to_the_sessions_owner(servers):
    """Sessions across hosts (issue 11) with this manager too: two processes in no common
    group (as on two hosts) find each other in Redis; a polling request for A's session that
    reaches B is relayed to A and answered there."""
    from tests.support.raw_http import http

    a, b = servers(), servers()
    status, _, body = http(a.url, "GET", "/socket.io/?EIO=4&transport=polling")
    assert status == 200, body
    sid = json.loads(body[1:])["sid"]
    target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    assert http(b.url, "POST", target, b"40")[2] == b"ok"
    status, _, body = http(b.url, "GET", target)
    assert status == 200 and body.startswith(b'40{"sid":'), body
    # a made-up token under A's tag: A itself says it does not know it
    forged = sid.partition(".")[0] + ".BBBBBBBBBBBBBBBBBBBB"
    status, _, body = http(b.url, "GET", f"/socket.io/?EIO=4&transport=polling&sid={forged}")
    assert (status, json.loads(body)["code"]) == (400, 1)
