"""The Engine.IO session state machine, driven with packets and a clock we choose."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from wsgi_sio.protocol import session as states
from wsgi_sio.protocol.engineio import Packet, PacketType
from wsgi_sio.protocol.session import Session


def new(transport: str = "polling", **kw) -> Session:
    kw.setdefault("ping_interval", 25.0)
    kw.setdefault("ping_timeout", 20.0)
    kw.setdefault("upgrades", ["websocket"] if transport == "polling" else [])
    return Session("abc", transport, 100.0, **kw)


def test_open_packet_is_queued_first_with_reference_key_order() -> None:
    s = new()
    (packet,) = s.drain()
    assert packet.type is PacketType.OPEN
    assert packet.data == ('{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,'
                           '"pingTimeout":20000,"maxPayload":1000000}')
    assert list(json.loads(packet.data)) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]


def test_ping_is_queued_after_the_interval_and_pong_rearms_it() -> None:
    s = new()
    s.drain()
    assert s.next_deadline() == 125.0
    s.tick(124.9)
    assert s.drain() == []
    s.tick(125.0)
    assert s.drain() == [Packet(PacketType.PING)]
    # the pong wait starts when the ping is queued
    assert s.next_deadline() == 145.0
    assert s.receive(Packet(PacketType.PONG), 130.0) is None
    assert s.next_deadline() == 155.0  # interval counted from the pong
    s.tick(145.0)
    assert s.state == states.OPEN


def test_missing_pong_times_the_session_out() -> None:
    s = new()
    s.tick(125.0)
    s.tick(144.99)
    assert s.state == states.OPEN
    s.tick(145.0)
    assert s.state == states.CLOSED
    assert s.close_reason == states.PING_TIMEOUT


def test_unsolicited_pong_changes_nothing() -> None:
    s = new()
    s.receive(Packet(PacketType.PONG), 110.0)
    assert s.next_deadline() == 125.0 and s.state == states.OPEN


def test_message_close_and_wrong_direction_ping() -> None:
    s = new()
    assert s.receive(Packet(PacketType.MESSAGE, "hi"), 101.0) == "hi"
    assert s.receive(Packet(PacketType.MESSAGE, b"\x01"), 101.0) == b"\x01"
    assert s.receive(Packet(PacketType.MESSAGE), 101.0) == ""
    s.receive(Packet(PacketType.PING), 101.0)
    assert s.close_reason == states.TRANSPORT_ERROR

    s = new()
    s.drain()
    s.receive(Packet(PacketType.CLOSE), 101.0)
    assert (s.state, s.close_reason) == (states.CLOSED, states.TRANSPORT_CLOSE)
    assert s.drain() == []  # the client closed: nothing to tell it


def test_server_close_queues_a_close_packet_once() -> None:
    s = new()
    s.drain()
    assert s.close(states.FORCED_CLOSE) is True
    assert s.close(states.FORCED_CLOSE) is False
    assert s.drain() == [Packet(PacketType.CLOSE)]
    assert s.send(Packet(PacketType.MESSAGE, "late")) is False
    assert s.receive(Packet(PacketType.MESSAGE, "late"), 101.0) is None


def test_slow_consumer_is_closed_when_the_queue_is_full() -> None:
    s = new(max_queue=3)
    s.drain()
    assert all(s.send(Packet(PacketType.MESSAGE, str(i))) for i in range(3))
    assert s.send(Packet(PacketType.MESSAGE, "one too many")) is False
    assert s.close_reason == states.SLOW_CONSUMER


def test_upgrade_probe_then_upgrade() -> None:
    s = new()
    assert s.can_upgrade()
    s.begin_upgrade(101.0)
    assert not s.can_upgrade()
    assert s.next_deadline() == 111.0  # the upgrade timeout comes before the ping
    assert s.probe(Packet(PacketType.PING, "probe")) == states.ProbeReply(Packet(PacketType.PONG, "probe"))
    assert s.probe(Packet(PacketType.UPGRADE)) == states.Upgraded()
    assert (s.transport, s.state, s.upgrades) == ("websocket", states.OPEN, ())
    assert not s.can_upgrade()


def test_upgrade_aborts_on_other_packets_and_on_timeout() -> None:
    s = new()
    s.begin_upgrade(101.0)
    assert s.probe(Packet(PacketType.MESSAGE, "x")) == states.ProbeAborted()
    assert s.transport == "polling" and s.state == states.OPEN and s.can_upgrade()

    s.begin_upgrade(102.0)
    s.tick(112.0)
    assert s.transport == "polling" and s.state == states.OPEN and s.upgrade_deadline is None


def test_websocket_sessions_cannot_upgrade() -> None:
    assert not new("websocket").can_upgrade()


packets = st.builds(Packet, st.sampled_from(list(PacketType)),
                    st.one_of(st.none(), st.text(max_size=5)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(packets, st.floats(min_value=0, max_value=100)), max_size=30))
def test_any_packet_sequence_leaves_a_consistent_state(steps) -> None:
    s = new()
    now = 100.0
    for packet, dt in steps:
        now += dt
        s.tick(now)
        s.receive(packet, now)
        assert s.state in (states.OPEN, states.CLOSED)
        if s.state == states.CLOSED:
            assert s.close_reason and s.next_deadline() is None
        else:
            assert s.next_deadline() is not None and s.next_deadline() > now


# -- the queue in bytes, and pongs for pings never fetched (issue 9, item 1) ----------------

def test_queue_is_bounded_in_bytes_as_well_as_packets() -> None:
    s = new(max_queue_bytes=1000)
    s.drain()
    assert s.send(Packet(PacketType.MESSAGE, "x" * 600))
    assert s.queued_bytes == 600
    assert s.queue([Packet(PacketType.MESSAGE, "y" * 300), Packet(PacketType.MESSAGE, "z" * 100)])
    assert s.queued_bytes == 1000
    assert s.state is states.OPEN
    assert not s.send(Packet(PacketType.MESSAGE, "!"))  # one byte past the bound
    assert s.state is states.CLOSED and s.close_reason == states.SLOW_CONSUMER
    assert s.outgoing[-1].type is PacketType.CLOSE  # the client learns why, if it ever polls


def test_draining_resets_the_byte_count_and_a_large_packet_may_wait_alone() -> None:
    s = new(max_queue_bytes=1000)
    s.drain()
    assert s.send(Packet(PacketType.MESSAGE, "x" * 900))
    assert len(s.drain()) == 1 and s.queued_bytes == 0
    assert s.send(Packet(PacketType.MESSAGE, "b" * 5000))  # alone in the queue: allowed
    assert not s.send(Packet(PacketType.MESSAGE, "c"))      # but nothing may join it
    assert s.close_reason == states.SLOW_CONSUMER


def test_a_batch_that_does_not_fit_is_not_queued_in_part() -> None:
    s = new(max_queue=3)
    s.drain()
    assert not s.queue([Packet(PacketType.MESSAGE, str(i)) for i in range(4)])
    assert [p.type for p in s.outgoing] == [PacketType.CLOSE]


def test_a_pong_before_the_ping_was_fetched_does_not_count() -> None:
    s = new()
    s.drain()
    s.tick(125.0)  # ping queued, not fetched: the client never polls
    assert s.receive(Packet(PacketType.PONG), 126.0) is None
    assert s.next_deadline() == 145.0  # still waiting for a real pong
    s.tick(145.0)
    assert s.state is states.CLOSED and s.close_reason == states.PING_TIMEOUT


def test_a_pong_after_the_ping_was_fetched_rearms_the_heartbeat() -> None:
    s = new()
    s.drain()
    s.tick(125.0)
    assert s.drain() == [Packet(PacketType.PING)]
    s.receive(Packet(PacketType.PONG), 126.0)
    assert s.next_deadline() == 151.0
    s.tick(151.0)  # the next ping: its pong again needs a fetch first
    s.receive(Packet(PacketType.PONG), 152.0)
    s.tick(171.0)
    assert s.close_reason == states.PING_TIMEOUT
