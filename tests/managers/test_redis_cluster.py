"""Two and three real wsgi_sio processes sharing one Redis, with python-socketio clients on each.

Nothing waits by sleeping: a test that expects nothing to arrive sends a marker afterwards
through the same path and checks, once the marker is in, that nothing else came first.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(90)


def test_room_broadcast_crosses_processes(servers, clients):
    a, b = servers(), servers()
    on_a, on_b, outsider = clients(a.url), clients(b.url), clients(b.url)
    assert on_a.server_uid != on_b.server_uid
    on_a.call("join", "lobby")
    on_b.call("join", "lobby")

    on_a.call("to", "lobby", "news", {"n": 1}, b"\x00\x01")
    assert on_a.next("news") == ({"n": 1}, b"\x00\x01")
    assert on_b.next("news") == ({"n": 1}, b"\x00\x01")   # binary survives MessagePack

    on_b.call("others", "lobby", "from_b", "hi")      # socket.to(room): all in it but me
    assert on_a.next("from_b") == ("hi",)
    on_b.call("broadcast", "marker")
    for client in (on_a, on_b, outsider):
        client.next("marker")
    assert on_b.pending("from_b") == [] and outsider.pending("from_b") == []
    assert outsider.pending("news") == []


def test_emit_to_a_sid_on_another_process(servers, clients):
    a, b = servers(), servers()
    on_a, on_b = clients(a.url), clients(b.url)
    on_a.call("to", on_b.sid, "direct", 42)
    assert on_b.next("direct") == (42,)
    on_b.call("to", on_a.sid, "back", "x")
    assert on_a.next("back") == ("x",)


def test_rooms_lists_and_exclusions_across_processes(servers, clients):
    a, b = servers(), servers()
    red_a, blue_b, both_b, none_a = (clients(a.url), clients(b.url), clients(b.url), clients(a.url))
    red_a.call("join", "red")
    blue_b.call("join", "blue")
    both_b.call("join", "red")
    both_b.call("join", "blue")
    none_a.call("to_except", ["red", "blue"], [both_b.sid], "some", 1)
    assert red_a.next("some") == (1,)
    assert blue_b.next("some") == (1,)
    none_a.call("to_except", ["red", "blue"], ["blue"], "red_only", 2)   # skip a room
    assert red_a.next("red_only") == (2,)
    none_a.call("broadcast", "marker")
    for client in (red_a, blue_b, both_b, none_a):
        client.next("marker")
    assert both_b.pending("some") == [] and none_a.pending("some") == []
    assert blue_b.pending("red_only") == [] and both_b.pending("red_only") == []


def test_join_leave_disconnect_a_sid_on_another_process(servers, clients):
    a, b = servers(), servers()
    on_a, on_b = clients(a.url), clients(b.url)
    on_a.call("enter", on_b.sid, "vip")              # Server.enter_room on a remote sid
    on_a.call("to", "vip", "vip_only", "welcome")
    assert on_b.next("vip_only") == ("welcome",)
    on_a.call("exit", on_b.sid, "vip")
    on_a.call("to", "vip", "vip_only", "again")
    on_a.call("to", on_b.sid, "marker")
    on_b.next("marker")
    assert on_b.pending("vip_only") == []

    on_b.call("join", "doomed")
    on_a.call("close_room", "doomed")               # close_room reaches every process
    on_a.call("to", "doomed", "doomed_news")
    on_a.call("to", on_b.sid, "marker")
    on_b.next("marker")
    assert on_b.pending("doomed_news") == []

    on_a.call("kick", on_b.sid)                     # Server.disconnect on a remote sid
    assert on_b.disconnected.wait(10)


def test_cluster_wide_sockets_rooms_and_server_side_events(servers, clients):
    a, b, c = servers(), servers(), servers()
    on_a, on_b, on_c = clients(a.url), clients(b.url), clients(c.url)
    on_b.call("join", "team")
    on_c.call("join", "team")
    listed = on_a.call("list")
    assert sorted(sid for sid, _ in listed) == sorted([on_a.sid, on_b.sid, on_c.sid])
    assert {sid: rooms for sid, rooms in listed}[on_b.sid] == sorted([on_b.sid, "team"])
    assert sorted(sid for sid, _ in on_a.call("list", "team")) == sorted([on_b.sid, on_c.sid])
    assert {"team", on_a.sid, on_b.sid, on_c.sid} <= set(on_a.call("all_rooms"))

    on_a.call("server_side", "relay", {"from": "a"})    # to the other servers, not itself
    assert on_b.next("relayed") == ({"from": "a"},)
    assert on_c.next("relayed") == ({"from": "a"},)
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


def test_emitter_reaches_clients_on_every_process(servers, clients, redis_url, key):
    import wsgi_sio

    a, b = servers(), servers()
    on_a, on_b, other = clients(a.url), clients(b.url), clients(b.url, "/chat")
    on_a.call("join", "room1")
    on_b.call("join", "room1")
    emitter = wsgi_sio.Emitter(redis_url, key=key)
    try:
        emitter.emit("hello", "all", b"\x01\x02\x03")
        assert on_a.next("hello") == ("all", b"\x01\x02\x03")
        assert on_b.next("hello") == ("all", b"\x01\x02\x03")
        emitter.to("room1").except_(on_a.sid).emit("room_only", 1)
        assert on_b.next("room_only") == (1,)
        emitter.of("/chat").emit("chat_only", 2)
        assert other.next("chat_only") == (2,)
        emitter.to(on_a.sid).emit("direct", 3)
        assert on_a.next("direct") == (3,)

        emitter.in_(on_b.sid).sockets_join("later")
        emitter.to("later").emit("joined", True)
        assert on_b.next("joined") == (True,)
        emitter.server_side_emit("relay", "from the emitter")
        assert on_a.next("relayed") == ("from the emitter",)
        assert on_b.next("relayed") == ("from the emitter",)
        emitter.in_("room1").disconnect_sockets()
        assert on_a.disconnected.wait(10) and on_b.disconnected.wait(10)

        emitter.of("/chat").emit("marker")
        other.next("marker")
        assert on_a.pending("room_only") == [] and other.pending("hello") == []
        with pytest.raises(ValueError):
            emitter.emit("connect")
    finally:
        emitter.close()
