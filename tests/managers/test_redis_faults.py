"""Faults: hostile messages on Redis, and Redis going away and coming back mid-run."""

from __future__ import annotations

import json
import os
import pickle

import msgpack
import pytest

from tests.support.redis_peers import RedisServer, redis

pytestmark = pytest.mark.timeout(90)


class Exploit:
    """Unpickling this would run a shell command: proof that nothing unpickles."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_messages_are_dropped_counted_and_survived(servers, clients, redis_client, key,
                                                           tmp_path):
    server = servers()
    py = clients(server.url)
    py.call("join", "room1")
    marker = tmp_path / "unpickled"
    broadcast, room1, request = f"{key}#/#", f"{key}#/#room1#", f"{key}-request#/#"
    event = {"type": 2, "data": ["forged"], "nsp": "/"}
    opts = {"rooms": [], "except": [], "flags": {}}
    hostile = [
        (broadcast, pickle.dumps(Exploit(str(marker)))),                       # pickle
        (request, pickle.dumps(Exploit(str(marker)))),
        (broadcast, b"\xc1\xc1 not msgpack"),                                  # garbage
        (request, b"{not json"),                                               # non-JSON
        (request, b'{"type": 1, "requestId": NaN}'),
        (broadcast, msgpack.packb({"not": "an array"})),                       # wrong shapes
        (room1, msgpack.packb(["x", {"type": 2, "data": "forged", "nsp": "/"}, opts])),
        (broadcast, msgpack.packb(["x", {"type": 2, "data": ["connect"], "nsp": "/"}, opts])),
        (broadcast, msgpack.packb(["x", {"type": 2, "data": ["forged", {1: 2}], "nsp": "/"}, opts],
                                  strict_types=False)),
        (broadcast, msgpack.packb(["x", {"type": 2, "data": ["forged", msgpack.ExtType(42, b"?")],
                                         "nsp": "/"}, opts])),
        (broadcast, msgpack.packb(["x", {"type": 2, "data": ["forged"], "nsp": "/"},
                                   {"rooms": [None], "except": [], "flags": {}}])),
        (request, json.dumps({"uid": "x", "type": 4, "opts": "everyone"}).encode()),
        (broadcast, msgpack.packb(["x", {"type": 3, "data": ["forged"], "nsp": "/"}, opts])),  # unknown
        (request, json.dumps({"uid": "x", "type": 42}).encode()),
        (request, json.dumps({"type": 9, "requestId": "r", "packet": 1}).encode()),
        (broadcast, msgpack.packb([py.server_uid, event, opts])),             # our own uid
        (room1, msgpack.packb(["x", {"type": 2, "data": ["forged", "x" * 2_000_000], "nsp": "/"},
                               opts])),                                        # huge
        (request, b"{" + b" " * 2_000_000 + b"}"),
    ]
    for channel, payload in hostile:
        redis_client.publish(channel, payload)
    # one Redis connection delivers in order: once this arrives, all of the above were handled
    redis_client.publish(broadcast, msgpack.packb(["emitter", {"type": 2, "data": ["after", 1],
                                                               "nsp": "/"}, opts]))
    assert py.next("after") == (1,)
    assert py.pending("forged") == [] and py.pending("connect") == []
    assert not marker.exists()
    stats = py.call("stats")
    assert stats["malformed"] == 12, stats
    assert stats["unknown_type"] == 3, stats
    assert stats["oversized"] == 2, stats
    assert stats["own"] >= 1 and stats["delivered"] == 1, stats
    assert stats.get("errors", 0) == 0, stats
    assert py.disconnected.is_set() is False         # the client was never disconnected

    # and the listener still does everything
    other = clients(servers().url)
    other.call("to", "room1", "still", "working")
    assert py.next("still") == ("working",)


def test_redis_restart_mid_run_is_survived(private_redis, servers, clients):
    a = servers(private_redis.url, retry_max=0.2)
    b = servers(private_redis.url, retry_max=0.2)
    on_a, on_b = clients(a.url), clients(b.url)
    on_a.call("join", "room")
    on_b.call("join", "room")
    on_a.call("to", "room", "before", 1)
    assert on_b.next("before") == (1,)

    private_redis.stop()
    # local clients are served as before; what goes through Redis is lost while it is down
    on_a.call("to", "room", "during", 2)
    assert on_a.next("during") == (2,)
    on_b.call("to", "room", "during_b", 3)
    assert on_b.next("during_b") == (3,)
    late = clients(a.url, ready=False)          # new connections are accepted meanwhile
    late.call("join", "room")
    on_a.call("to", "room", "local_only", 4)
    assert late.next("local_only") == (4,) and on_a.next("local_only") == (4,)

    private_redis.start()                       # same port
    assert on_a.call("ready")["ready"] and on_b.call("ready")["ready"]   # resubscribed
    on_a.call("to", "room", "after", 5)
    assert on_b.next("after") == (5,)
    on_b.call("to", "room", "after_b", 6)
    assert on_a.next("after_b") == (6,) and late.next("after_b") == (6,)
    assert on_b.pending("during") == [] and on_b.pending("local_only") == []
    assert on_a.pending("during_b") == []

    stats_a = on_a.call("stats")
    assert stats_a["outages"] == 1, stats_a
    assert stats_a.get("publish_failed", 0) + stats_a.get("publish_skipped", 0) >= 2, stats_a

    outputs = [a.stop(), b.stop()]
    for output in outputs:                       # the outage is logged once, not per message
        assert output.count("is unreachable") == 1, output
        assert output.count("is back after") == 1, output


def wait_for_output(server, text: str) -> str:
    """The next line of the server's output that contains ``text`` (blocks on its log)."""
    while True:
        line = server.lines.get(timeout=20)
        assert line, f"server exited before logging {text!r}:\n" + "".join(server.output)
        if text in line:
            return line


def test_client_kill_of_the_listener_is_survived(private_redis, servers, clients):
    a = servers(private_redis.url, retry_max=0.2)
    b = servers(private_redis.url, retry_max=0.2)
    on_a, on_b = clients(a.url), clients(b.url)
    on_a.call("join", "room")
    on_b.call("join", "room")
    admin = redis.Redis.from_url(private_redis.url)
    try:
        assert admin.client_kill_filter(_type="pubsub") == 2    # both listeners' connections
    finally:
        admin.close()
    for server in (a, b):                                      # noticed, counted, resubscribed
        wait_for_output(server, "is back after")
    on_a.call("to", "room", "after", 1)
    assert on_b.next("after") == (1,)
    on_b.call("to", "room", "after_b", 2)
    assert on_a.next("after_b") == (2,)
    for client in (on_a, on_b):
        stats = client.call("stats")
        assert stats["outages"] == 1 and stats.get("errors", 0) == 0, stats
    assert not on_a.disconnected.is_set() and not on_b.disconnected.is_set()


FIFTY_MB = 50 * 1024 * 1024


@pytest.fixture(params=["lifted", "default"])
def big_message_redis(request):
    """A private Redis taking a 50 MB PUBLISH (its defaults do: proto-max-bulk-len 512mb).

    What differs is the subscriber's output buffer: "lifted", the message reaches the listener,
    which must drop it as oversized; "default" (pubsub hard limit 32mb), Redis cuts the
    listener's connection instead, and the listener must reconnect and resubscribe."""
    config = ("--proto-max-bulk-len", "64mb", "--client-query-buffer-limit", "128mb")
    if request.param == "lifted":
        config += ("--client-output-buffer-limit", "pubsub 0 0 0")
    server = RedisServer(config=config)
    server.limit = request.param
    yield server
    server.cleanup()


def test_a_50_mb_message_is_dropped_and_survived(big_message_redis, servers, clients, key):
    server = servers(big_message_redis.url, retry_max=0.2)
    py = clients(server.url)
    opts = {"rooms": [], "except": [], "flags": {}}
    huge = msgpack.packb(["x", {"type": 2, "data": ["forged", "x" * FIFTY_MB], "nsp": "/"}, opts])
    admin = redis.Redis.from_url(big_message_redis.url)
    try:
        assert admin.publish(f"{key}#/#", huge) == 1
        del huge
        if big_message_redis.limit == "default":
            wait_for_output(server, "is back after")
        admin.publish(f"{key}#/#", msgpack.packb(["emitter", {"type": 2, "data": ["after", 1],
                                                              "nsp": "/"}, opts]))
    finally:
        admin.close()
    assert py.next("after") == (1,)
    assert py.pending("forged") == []
    stats = py.call("stats")
    if big_message_redis.limit == "lifted":
        assert stats["oversized"] == 1 and stats.get("outages", 0) == 0, stats
    else:
        assert stats["outages"] == 1, stats
    assert stats["delivered"] == 1 and stats.get("errors", 0) == 0, stats
    assert not py.disconnected.is_set()
