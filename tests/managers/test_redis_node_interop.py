"""A wsgi_sio process and a Node socket.io server with @socket.io/redis-adapter 8.x as one
cluster, and @socket.io/redis-emitter 5.x reaching wsgi_sio clients (the real npm packages).

The Node side (tests/interop/js/redis_peer.mjs) runs the server, one socket.io-client
connected to it and the emitter; binary values cross as ``{"$hex": ...}``.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.node, pytest.mark.timeout(90)]


def hexed(data: bytes) -> dict[str, str]:
    return {"$hex": data.hex()}


@pytest.fixture
def cluster(servers, clients, node_peer):
    server = servers()
    py = clients(server.url)
    # our listener subscribed the request channel: the Node adapter counts us
    assert node_peer.request("serverCount") == 2
    return py, node_peer, server


def test_node_and_wsgi_share_a_room_both_ways(cluster):
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
    py.call("others", "shared", "others", "o")     # socket.to(room) from wsgi_sio
    assert node.next("others") == ["o"]


def test_wsgi_answers_the_node_adapters_requests(cluster):
    py, node, _ = cluster
    node_sid = node.info["sid"]
    py.call("join", "shared")
    fetched = {s["id"]: s for s in node.request("fetch")}              # REMOTE_FETCH
    assert set(fetched) == {py.sid, node_sid}
    assert fetched[py.sid]["rooms"] == sorted([py.sid, "shared"])
    assert [s["id"] for s in node.request("fetch", room="shared")] == [py.sid]
    assert {"shared", py.sid, node_sid} <= set(node.request("allRooms"))   # ALL_ROOMS

    relayed = node.request("serverSideEmitWithAck", event="relay", args=["n"])  # SERVER_SIDE_EMIT
    assert relayed == [{"relayed_by": py.server_uid}]
    assert py.next("relayed") == ("n",)

    node.request("socketsJoin", room=py.sid, join="vip")                # REMOTE_JOIN
    node.request("emit", room="vip", event="vip", args=[])
    assert py.next("vip") == ()
    node.request("socketsLeave", room=py.sid, leave="vip")              # REMOTE_LEAVE
    node.request("emit", room="vip", event="vip_again", args=[])
    node.request("emit", room=py.sid, event="marker", args=[])
    py.next("marker")
    assert py.pending("vip_again") == []

    acks = node.request("emitWithAck", room=py.sid, event="question", args=[1])  # BROADCAST + acks
    assert acks == ["ack from py"]

    node.request("disconnectSockets", room=py.sid)                      # REMOTE_DISCONNECT
    assert py.disconnected.wait(10)


def test_wsgi_reaches_into_the_node_server(cluster):
    py, node, _ = cluster
    node_sid = node.info["sid"]
    listed = {sid: rooms for sid, rooms in py.call("list")}       # our fetch, Node answers
    assert listed[node_sid] == [node_sid] and py.sid in listed
    assert node_sid in py.call("all_rooms")

    py.call("server_side", "relay", "from py")
    assert node.next("relayed") == ["from py"]

    py.call("enter", node_sid, "from_py_room")                           # remote join on Node
    py.call("to", "from_py_room", "in_room", 1)
    assert node.next("in_room") == [1]
    py.call("kick", node_sid)                                            # remote disconnect
    assert node.next("disconnect") == ["io server disconnect"]


def test_node_emitter_reaches_wsgi_clients(cluster, clients):
    py, node, server = cluster
    chat = clients(server.url, "/chat")
    node.request("emitter", event="hello", args=["x", hexed(b"\x00\xff")])
    assert py.next("hello") == ("x", b"\x00\xff")
    py.call("join", "room1")
    node.request("emitter", room="room1", event="room_news", args=[{"a": [1, 2]}])
    assert py.next("room_news") == ({"a": [1, 2]},)
    node.request("emitter", nsp="/chat", event="chat_news", args=[])
    assert chat.next("chat_news") == ()
    node.request("emitterJoin", room=py.sid, join="joined_by_emitter")
    node.request("emitter", room="joined_by_emitter", event="welcome", args=[])
    assert py.next("welcome") == ()
    node.request("emitterServerSideEmit", event="relay", args=["via emitter"])
    assert py.next("relayed") == ("via emitter",)
    assert node.next("relayed") == ["via emitter"]
