"""Hostile messages on every Redis channel (issue 9, item 8): each one is refused while it is
decoded, counted by reason (``malformed`` for a field of the wrong shape, ``unknown_type`` for
a type number with no meaning), logged rate-limited and without a traceback, and nothing is
delivered, applied or published in reply; the listener carries on.

The manager runs in this process (threading runtime, a threaded wsgiref) so the test reads
its counters and its log records. Nothing waits by sleeping: after the messages under test,
:meth:`Member.settle` publishes a valid request and waits for its answer; Redis delivers one
subscriber's messages in order, so once the answer is in, everything before it was handled,
and whatever else the response channel carried meanwhile was published in reply to them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wsgi_sio
from tests.support.redis_peers import TIMEOUT, Client, serve_threaded

pytestmark = pytest.mark.timeout(120)

RESERVED = ["connect", "connect_error", "disconnect", "disconnecting", "newListener",
            "removeListener"]
SERVER_SIDE_RESERVED = ["connect", "connection", "new_namespace"]
DROP_REASONS = ("malformed", "unknown_type", "oversized")
#: counters that a refused message must leave alone
UNTOUCHED = ("errors", "delivered", "own", "request_timeouts", *DROP_REASONS)
OPTS = {"rooms": [], "except": [], "flags": {}}


def encode(value: Any) -> bytes:
    """JSON when it can be (as Node sends requests), else MessagePack (binary, NaN...)."""
    try:
        return json.dumps(value, allow_nan=False).encode()
    except (TypeError, ValueError):
        return msgpack.packb(value, unicode_errors="surrogatepass")


@dataclass
class Member:
    """A wsgi_sio server of this process on the test's Redis and key, maybe with a client in
    ``room1``; ``answers`` listens to the response channel (what the manager publishes)."""

    manager: wsgi_sio.RedisManager
    redis: Any
    key: str
    answers: Any
    client: Client | None = None
    handled: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    markers: int = 0

    @property
    def broadcast(self) -> str:
        return f"{self.key}#/#"

    @property
    def request(self) -> str:
        return f"{self.key}-request#/#"

    @property
    def response(self) -> str:
        return f"{self.key}-response#/#"

    def stats(self) -> dict[str, int]:
        return self.manager.stats()

    def settle(self, *sent: bytes) -> list[bytes]:
        """Waits until the manager has handled everything published so far; returns what the
        response channel carried meanwhile, besides the answer to the marker request and the
        messages ``sent`` there by the test itself.

        That channel is where any answer goes (§5.1), so this is what the manager published in
        reply. (Its ``published`` counter cannot tell: the marker's answer can reach us before
        the manager has counted it.)"""
        self.markers += 1
        marker = f"marker-{self.markers}"
        self.redis.publish(self.request, encode({"uid": "tester", "requestId": marker, "type": 1}))
        seen: list[bytes] = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message = self.answers.get_message(timeout=1)
            if message is None:
                continue
            if marker.encode() in message["data"]:
                return seen
            if message["data"] not in sent:
                seen.append(message["data"])
        raise AssertionError(f"the manager did not answer {marker} within {TIMEOUT} s")


@pytest.fixture
def make_member(redis_url: str, key: str, redis_client: Any) -> Iterator[Callable[..., Member]]:
    made: list[Member] = []
    servers = contextlib.ExitStack()

    def make(client: bool = True, **options: Any) -> Member:
        manager = wsgi_sio.RedisManager(redis_url, key=key, requests_timeout=TIMEOUT, **options)
        sio = wsgi_sio.Server(async_mode="threading", manager=manager)
        answers = redis_client.pubsub(ignore_subscribe_messages=True)
        answers.subscribe(f"{key}-response#/#")
        member = Member(manager, redis_client, key, answers)
        for name in ["relay", *SERVER_SIDE_RESERVED, *RESERVED]:
            manager.on_server_event(name, lambda *args, name=name: member.handled.append((name, args)))
        url = servers.enter_context(serve_threaded(sio))
        made.append(member)
        assert manager.wait_ready(TIMEOUT)
        if client:
            member.client = Client(url, transports=["polling"], ready=False)
            sio.enter_room(member.client.sid, "room1")
        member.settle()  # the subscriptions are in place and the setup is behind us
        return member

    yield make
    for member in made:
        if member.client is not None:
            member.client.close()
        member.manager.close()
        member.answers.close()
    servers.close()


@pytest.fixture
def drop_log(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[logging.LogRecord]]]:
    """The manager's log records about dropped messages; each test also checks that nothing
    the library logged carries a traceback."""
    caplog.set_level(logging.WARNING, logger="wsgi_sio")

    def records() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name.startswith("wsgi_sio") and "dropped" in r.msg]

    yield records
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after.get(name, 0) - before.get(name, 0)
            for name in set(before) | set(after) if after.get(name, 0) != before.get(name, 0)}


def assert_still_delivers(member: Member) -> None:
    """A normal broadcast (as Node's emitter sends it) reaches the client, which got nothing
    of what was refused before it, and was never disconnected."""
    assert member.client is not None
    member.redis.publish(f"{member.key}#/#room1#", msgpack.packb(
        ["emitter", {"type": 2, "data": ["after", 1], "nsp": "/"}, OPTS]))
    assert member.client.next("after") == (1,)
    forged = {name: q.qsize() for name, q in member.client.queues.items() if q.qsize()}
    assert forged == {}, forged
    assert not member.client.disconnected.is_set()


# -- the two messages of the issue ------------------------------------------------------------


def broadcast_with_ack(event: Any) -> dict[str, Any]:
    """A Node ``io.timeout(ms).emit(event, ack)`` as the adapter publishes it (§5.1, type 7)."""
    return {"uid": "evil", "requestId": "r1", "type": 7,
            "packet": {"type": 2, "data": [event, "x"], "nsp": "/"}, "opts": OPTS}


def test_the_messages_of_the_issue_are_malformed_and_logged_once(make_member, drop_log):
    member = make_member()
    before = member.stats()
    hostile = [(member.request, json.dumps({"uid": "evil", "type": [1]}).encode())]
    hostile += [(member.request, msgpack.packb(broadcast_with_ack(RESERVED[i % len(RESERVED)])))
                for i in range(102)]
    for channel, payload in hostile:
        member.redis.publish(channel, payload)
    assert member.settle() == []  # no client count was published for any of them

    changes = delta(before, member.stats())
    assert changes.get("malformed") == 103 and "errors" not in changes, changes
    assert changes.get("delivered") is None, changes
    records = drop_log()
    # 103 bad messages: one line with the details, and at most one summary within 10 s
    assert 1 <= len(records) <= 2, [r.getMessage() for r in records]
    assert records[0].levelno == logging.WARNING
    assert "request type [1] is not an integer" in records[0].getMessage()
    assert_still_delivers(member)


# -- a table of wrong values for every field of every message ---------------------------------

DELETE = object()
WRONG_ROOMS = ["room1", 1, True, {}, [None], [True], [[]], [{}], [b"bin"], [1.5, None]]


def changed(template: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of ``template`` with the field at ``path`` set to ``value`` (or removed)."""
    copy = json.loads(json.dumps(template))
    target = copy
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


def variants(template: Any, path: tuple[Any, ...], values: list[Any]) -> list[Any]:
    return [changed(template, path, value) for value in values]


def hostile_cases(sid: str) -> list[tuple[str, str, bytes, str]]:
    """(what, channel kind, payload, expected reason) for each hostile message."""
    cases: list[tuple[str, str, bytes, str]] = []

    def add(kind: str, messages: list[Any], reason: str = "malformed",
            pack: Callable[[Any], bytes] = encode) -> None:
        for message in messages:
            cases.append((f"{kind} {message!r:.150}", kind, pack(message), reason))

    # broadcasts: [uid, {type, data, nsp}, {rooms, except, flags}], MessagePack (§5.1)
    bcast = ["evil", {"type": 2, "data": ["forged", 1], "nsp": "/"}, OPTS]
    b = msgpack.packb
    add("broadcast", variants(bcast, (0,), [1, None, True, [], {}, b"evil"]), pack=b)
    add("broadcast", variants(bcast, (1,), ["x", [], None, 1]), pack=b)
    add("broadcast", variants(bcast, (1, "type"), ["2", [2], 2.0, True, None, DELETE]), pack=b)
    add("broadcast", variants(bcast, (1, "type"), [0, 3, 99]), "unknown_type", pack=b)
    add("broadcast", variants(bcast, (1, "data"), [
        "forged", [], None, {}, [None], [True], [[1]], [{}], DELETE,
        *([name, "x"] for name in RESERVED)]), pack=b)
    add("broadcast", variants(bcast, (1, "nsp"), [1, None, "chat", [], b"/"]), pack=b)
    add("broadcast", variants(bcast, (2,), ["x", [], None, 1]), pack=b)
    for name in ("rooms", "except"):
        add("broadcast", variants(bcast, (2, name), WRONG_ROOMS), pack=b)
    add("broadcast", variants(bcast, (2, "flags"), [
        "x", [], 1, {"volatile": "yes"}, {"volatile": 1}, {"timeout": "5"}, {"compress": None}]),
        pack=b)
    add("broadcast", [{"a": 1}, bcast[:2], [*bcast, 1], "x", 1], pack=b)
    # a JS Date past year 9999 (notepack: ext -1)
    add("broadcast", [["evil", {"type": 2, "data": ["forged", msgpack.Timestamp(2**40, 0)],
                                "nsp": "/"}, OPTS]], pack=b)
    cases.append(("broadcast on a channel without its closing #", "broadcast-unterminated",
                  b(bcast), "malformed"))

    # requests (JSON, MessagePack for type 7), one template per type (§5.1 table)
    everyone = {"rooms": [], "except": []}
    nobody = {"rooms": ["nobody"], "except": []}
    all_rooms = {"uid": "evil", "requestId": "r", "type": 1}
    sockets = {"uid": "evil", "requestId": "r", "type": 0, "rooms": []}
    join = {"uid": "evil", "type": 2, "opts": everyone, "rooms": ["joined"]}
    leave = {"uid": "evil", "type": 3, "opts": everyone, "rooms": ["room1"]}
    disconnect = {"uid": "evil", "type": 4, "opts": nobody, "close": False}
    legacy_join = {"uid": "evil", "requestId": "r", "type": 2, "sid": sid, "room": "joined"}
    legacy_disconnect = {"uid": "evil", "requestId": "r", "type": 4, "sid": "someone-else",
                         "close": False}
    fetch = {"uid": "evil", "requestId": "r", "type": 5, "opts": everyone}
    server_side = {"uid": "evil", "type": 6, "data": ["relay", 1]}
    with_ack = broadcast_with_ack("forged")
    r = "request"
    add(r, variants(all_rooms, ("type",), ["1", [1], {}, 1.5, True, None, DELETE]))
    add(r, variants(all_rooms, ("type",), [42, -1, 8, 9, 2**40]), "unknown_type")
    for template in (all_rooms, join, server_side, with_ack):
        add(r, variants(template, ("uid",), [1, True, [], {}, b"evil"]))
    for template in (all_rooms, sockets, fetch, legacy_join, legacy_disconnect, with_ack):
        add(r, variants(template, ("requestId",), [DELETE, None, [], {}, True, 1.5, b"r"]))
    add(r, variants(sockets, ("rooms",), ["x", 1, {}, [None], [True]]))
    for template in (join, leave, fetch):
        add(r, variants(template, ("opts",), ["x", [], 1, True, None, DELETE]))
        for name in ("rooms", "except"):
            add(r, variants(template, ("opts", name), WRONG_ROOMS))
    for template in (join, leave):
        add(r, variants(template, ("rooms",), [DELETE, None, 1, {}, [None], [{}], True, [True]]))
    add(r, variants(disconnect, ("close",), ["yes", 1, None, [], {}]))
    add(r, variants(disconnect, ("opts",), ["x", [], 1]))
    add(r, variants(disconnect, ("opts", "rooms"), WRONG_ROOMS))
    add(r, variants(legacy_join, ("sid",), [DELETE, 1, [], None]))
    add(r, variants(legacy_join, ("room",), [DELETE, None, [], {}, True]))
    add(r, variants(legacy_disconnect, ("close",), ["yes", 1]))
    add(r, variants(server_side, ("data",), [
        DELETE, "relay", [], None, [None], [[]], [{}], [True],
        *([name, 1] for name in SERVER_SIDE_RESERVED)]))
    add(r, variants({**server_side, "requestId": "r"}, ("requestId",), [[], {}, True, 1.5]))
    mp = msgpack.packb
    add(r, variants(with_ack, ("packet",), [DELETE, "x", [], None]), pack=mp)
    add(r, variants(with_ack, ("packet", "type"), ["2", None, True, 2.0, DELETE]), pack=mp)
    add(r, variants(with_ack, ("packet", "type"), [3]), "unknown_type", pack=mp)
    add(r, variants(with_ack, ("packet", "data"), [
        [], [None], DELETE, "x", *([name] for name in RESERVED)]), pack=mp)
    add(r, variants(with_ack, ("packet", "nsp"), [1, "x", None]), pack=mp)
    add(r, variants(with_ack, ("opts",), [DELETE, "x", []]), pack=mp)
    add(r, variants(with_ack, ("opts", "rooms"), [1, [None]]), pack=mp)
    add(r, variants(with_ack, ("opts", "except"), [[{}]]), pack=mp)
    add(r, variants(with_ack, ("opts", "flags"), [[], "x", {"volatile": 1}, {"timeout": "1"}]),
        pack=mp)
    # a lone surrogate (JSON's \ud800) that no UTF-8 encoder could write later
    add(r, [changed(with_ack, ("packet", "data"), ["forged", "\ud800"]),
            changed(join, ("rooms",), ["\ud800"])])
    add(r, [{"type": 8, "requestId": "r", "clientCount": 1},
            {"type": 9, "requestId": "r", "packet": 1}], "unknown_type")
    add(r, [[1, 2], "x", 1, None, True])
    # the last one targets every socket: the client must not be disconnected by it
    add(r, [changed(disconnect, ("opts",), {**everyone, "except": "x"}),
            changed(disconnect, ("close",), "yes") | {"opts": everyone}])

    # responses: checked as far as can be known without the request they answer
    s = "response"
    add(s, [{"type": [9], "requestId": "x"}, {"type": "9", "requestId": "x"},
            {"type": True, "requestId": "x"}, {"type": 1.5, "requestId": "x"}])
    add(s, [{"type": 42, "requestId": "x"}, {"type": 1, "requestId": "x"}], "unknown_type")
    add(s, [{"requestId": [1]}, {"requestId": True}, {"requestId": None}, {}, {"rooms": []}])
    add(s, variants({"type": 8, "requestId": "x", "clientCount": 1}, ("clientCount",),
                    [-1, "3", DELETE, True, 1.5]))
    add(s, [{"requestId": "x", "sockets": "all"}, {"requestId": "x", "rooms": {}}, [1], "x"])
    return cases


def test_wrong_values_in_every_field_are_refused(make_member, drop_log):
    member = make_member()
    assert member.client is not None
    channels = {"broadcast": member.broadcast, "request": member.request,
                "response": member.response,
                "broadcast-unterminated": f"{member.key}#/#room1"}
    started = time.monotonic()
    cases = hostile_cases(member.client.sid)
    failures = []
    for what, kind, payload, reason in cases:
        before = member.stats()
        member.redis.publish(channels[kind], payload)
        try:
            replies = member.settle(payload)
        except AssertionError as exc:  # e.g. a room name that no answer can encode any more
            failures.append(f"{what}: {exc}; the cases after it were not tried")
            break
        changes = delta(before, member.stats())
        for racing in ("received", "published"):  # by the marker and its answer
            changes.pop(racing, None)
        if changes != {reason: 1, "dropped": 1} or replies:
            failures.append(f"{what}: {changes}, published in reply: {replies}")
    assert not failures, f"{len(failures)} of {len(cases)}:\n" + "\n".join(failures)
    assert member.handled == []  # no server-side handler ran
    records = drop_log()
    assert len(records) <= 2 + (time.monotonic() - started) / 10, len(records)
    assert_still_delivers(member)


# -- answers to our own requests ----------------------------------------------------------------


def test_malformed_answers_to_our_requests_are_dropped_not_raised(make_member, redis_client, key,
                                                                  drop_log):
    member = make_member(client=False)
    peer = redis_client.pubsub(ignore_subscribe_messages=True)
    peer.subscribe(member.request)  # a second server: the manager now waits for one answer
    try:
        def ask(call: Callable[[], Any], bad: list[Any], good: Any) -> Any:
            result: dict[str, Any] = {}
            thread = threading.Thread(target=lambda: result.update(value=call()))
            thread.start()
            request = None
            deadline = time.monotonic() + TIMEOUT
            while request is None and time.monotonic() < deadline:
                message = peer.get_message(timeout=1)
                if message is not None and json.loads(message["data"]).get("uid") == member.manager.uid:
                    request = json.loads(message["data"])
            assert request is not None, "the manager published no request"
            rid = request["requestId"]
            for answer in [*bad, good]:
                redis_client.publish(member.response, encode({"requestId": rid, **answer}))
            thread.join(TIMEOUT)
            assert "value" in result, "the request raised or did not finish"
            return result["value"]

        before = member.stats()
        rooms = ask(lambda: member.manager.all_rooms("/"), [
            {"rooms": [None]}, {"rooms": [{"x": 1}]}, {"type": 9, "packet": 1}, {"sockets": []},
            {"rooms": "far-away"}], {"rooms": ["far-away", 7]})
        assert {"far-away", "7"} <= rooms
        good_socket = {"id": "far", "handshake": {"auth": {}}, "rooms": ["far", "r"],
                       "data": {"k": 1}}
        sockets = ask(lambda: member.manager.fetch_sockets("/"), [
            {"sockets": [1]}, {"sockets": [{**good_socket, "id": 5}]},
            {"sockets": [{**good_socket, "handshake": "h"}]},
            {"sockets": [{**good_socket, "rooms": [None]}]},
            {"sockets": [{k: v for k, v in good_socket.items() if k != "rooms"}]},
            {"rooms": []}], {"sockets": [good_socket]})
        assert [(s.sid, s.rooms, s.handshake, s.data) for s in sockets] == \
            [("far", {"far", "r"}, {"auth": {}}, {"k": 1})]
        member.settle()
        changes = delta(before, member.stats())
        assert changes.get("malformed") == 11 and "errors" not in changes, changes
        assert changes.get("request_timeouts") is None, changes
    finally:
        peer.close()


# -- rate-limited log ---------------------------------------------------------------------------


class Summaries(logging.Handler):
    """Counts the drops that the manager's summary lines report."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = threading.Condition()
        self.lines = 0
        self.reported = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "wsgi_sio.redis" and record.msg.startswith("dropped %d more"):
            with self.changed:
                self.lines += 1
                self.reported += record.args[0]  # type: ignore[index]
                self.changed.notify_all()


def test_a_flood_of_drops_is_summarised_not_logged_per_message(make_member, drop_log):
    interval = 0.5
    member = make_member(client=False, drop_log_interval=interval)
    summaries = Summaries()
    logger = logging.getLogger()  # after caplog's handler: it has the record when we wake up
    logger.addHandler(summaries)
    try:
        started = time.monotonic()
        for i in range(103):
            member.redis.publish(member.request, json.dumps({"uid": "evil", "type": [i]}).encode())
        assert member.settle() == []
        with summaries.changed:  # the last window ends within a tick (1 s) of its end
            assert summaries.changed.wait_for(lambda: summaries.reported >= 102, TIMEOUT)
        elapsed = time.monotonic() - started
    finally:
        logger.removeHandler(summaries)
    assert summaries.reported == 102
    assert summaries.lines <= 1 + elapsed / interval, (summaries.lines, elapsed)
    records = drop_log()
    assert len(records) == 1 + summaries.lines
    assert "request type [0]" in records[0].getMessage()           # the first, in full
    assert "malformed: " in records[-1].getMessage()                # then counts by reason


# -- random values as messages --------------------------------------------------------------------

FIELDS = ["uid", "type", "requestId", "opts", "rooms", "except", "flags", "data", "packet",
          "close", "sid", "room", "nsp", "sockets", "clientCount", "id", "handshake", "volatile"]
scalars = (st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | st.integers(0, 10)
           | st.floats(allow_nan=True) | st.text(max_size=6) | st.binary(max_size=4)
           | st.sampled_from(["evil", "/", "room1", "relay", "\ud800", *RESERVED,
                              *SERVER_SIDE_RESERVED]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=3), inner,
                                        max_size=5), max_leaves=12)
maps = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)
broadcasts = st.tuples(values, maps, maps).map(list) | st.lists(values, max_size=4) | values


@pytest.fixture
def bare_member(make_member: Callable[..., Member]) -> Member:
    """A member without clients: random requests may well be valid ones (disconnect all...)."""
    return make_member(client=False)


# one server for every example: its counters are compared before and after each
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(as_request=maps | values, as_response=maps | values, as_broadcast=broadcasts,
       as_json=st.booleans())
def test_random_values_never_raise_nor_log_a_traceback(bare_member, drop_log, as_request,
                                                       as_response, as_broadcast, as_json):
    member = bare_member
    before = member.stats()
    def pack(value: Any) -> bytes:  # a lone surrogate becomes invalid UTF-8, as notepack's does
        return msgpack.packb(value, unicode_errors="surrogatepass")

    member.redis.publish(member.request, (encode if as_json else pack)(as_request))
    member.redis.publish(member.response, (encode if as_json else pack)(as_response))
    member.redis.publish(member.broadcast, pack(as_broadcast))
    member.settle()  # the listener is alive: it answered the marker after these
    changes = delta(before, member.stats())
    assert "errors" not in changes, changes
