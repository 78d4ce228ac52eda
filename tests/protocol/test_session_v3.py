"""The Engine.IO v3 heartbeat in the session state machine: the client pings, the server
answers, and times the client out after ping_interval + ping_timeout without a ping
(PROTOCOL-NOTES-WAVE2 §1; engine.io socket.ts ``onOpen``/``onPacket``)."""

from __future__ import annotations

from wsgi_sio.protocol import session as states
from wsgi_sio.protocol.engineio import Packet, PacketType
from wsgi_sio.protocol.session import Session


def v3(now: float = 0.0) -> Session:
    session = Session("sid", "polling", now, ping_interval=25, ping_timeout=20, protocol=3)
    session.drain()  # the open packet
    return session


def test_open_packet_is_the_same_json() -> None:
    session = Session("sid", "polling", 0.0, ping_interval=25, ping_timeout=20, protocol=3)
    assert session.drain()[0].data == ('{"sid":"sid","upgrades":[],"pingInterval":25000,'
                                       '"pingTimeout":20000,"maxPayload":1000000}')


def test_server_never_pings_and_answers_a_ping_with_a_pong() -> None:
    session = v3()
    session.tick(44.9)
    assert session.drain() == []
    assert session.receive(Packet(PacketType.PING), 44.9) is None
    assert session.drain() == [Packet(PacketType.PONG)]
    assert session.state is states.OPEN


def test_a_ping_restarts_the_timeout_of_interval_plus_timeout() -> None:
    session = v3()
    assert session.next_deadline() == 45
    session.receive(Packet(PacketType.PING), 40)
    assert session.next_deadline() == 85
    session.tick(84.9)
    assert session.state is states.OPEN
    session.tick(85)
    assert session.state is states.CLOSED and session.close_reason == states.PING_TIMEOUT


def test_no_ping_at_all_times_out() -> None:
    session = v3()
    assert not session.pong_overdue(44)
    assert session.pong_overdue(45)
    session.tick(45)
    assert session.close_reason == states.PING_TIMEOUT


def test_a_pong_from_a_v3_client_is_a_transport_error() -> None:
    session = v3()
    session.receive(Packet(PacketType.PONG), 1)
    assert session.close_reason == states.TRANSPORT_ERROR


def test_messages_and_close_as_v4() -> None:
    session = v3()
    assert session.receive(Packet(PacketType.MESSAGE, "40"), 1) == "40"
    session.receive(Packet(PacketType.CLOSE), 1)
    assert session.close_reason == states.TRANSPORT_CLOSE


def test_v4_client_ping_still_a_transport_error() -> None:
    session = Session("sid", "polling", 0.0)
    session.receive(Packet(PacketType.PING), 1)
    assert session.close_reason == states.TRANSPORT_ERROR
