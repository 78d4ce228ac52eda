"""The connection state recovery store (wsgi_sio.managers.recovery), fed packets and times.

Sans-IO: every call is given ``now``; no sockets, no sleeps.
"""

from __future__ import annotations

import pytest

from wsgi_sio.managers.recovery import (
    MemoryRecovery,
    RecoveryOptions,
    SessionRecord,
    new_pid,
    stampable,
)
from wsgi_sio.protocol.socketio import Packet, PacketType


def event(*data, nsp="/"):
    return Packet(PacketType.EVENT, nsp, list(data))


def log(store, packet, rooms=None, skip=None, now=0.0, size=10):
    stamped = store.stamp(packet)
    store.append(stamped, rooms, skip, size, now)
    return stamped


def record(sid="s1", rooms=("s1",), data=None, pid=None):
    return SessionRecord(sid, pid or new_pid(), frozenset(rooms), data or {})


def test_stamp_appends_a_string_offset_as_the_last_element():
    store = MemoryRecovery(RecoveryOptions())
    first = log(store, event("a", 1))
    second = log(store, event("b"))
    assert first.data[:2] == ["a", 1] and isinstance(first.data[-1], str)
    assert second.data[-1] != first.data[-1]


def test_only_events_without_ack_and_not_volatile_are_stamped():
    assert stampable(event("a"), volatile=False)
    assert not stampable(event("a"), volatile=True)
    assert not stampable(Packet(PacketType.EVENT, "/", ["a"], 3), volatile=False)
    assert not stampable(Packet(PacketType.DISCONNECT, "/"), volatile=False)


def test_restore_returns_the_session_and_what_it_missed_in_order():
    store = MemoryRecovery(RecoveryOptions())
    seen = log(store, event("n", 0), rooms={"r"})
    kept = record(rooms=("s1", "r"), data={"k": 1})
    store.persist("/", kept, now=1)
    missed = [log(store, event("n", i), rooms={"r"}, now=2) for i in range(1, 4)]
    restored = store.restore("/", kept.pid, seen.data[-1], now=3)
    assert restored is not None
    assert restored.record is kept and restored.record.data == {"k": 1}
    assert [p.data[:2] for p in restored.missed] == [["n", 1], ["n", 2], ["n", 3]]
    assert restored.missed == missed


def test_replay_keeps_only_packets_meant_for_the_session():
    store = MemoryRecovery(RecoveryOptions())
    seen = log(store, event("start"))
    kept = record(sid="me", rooms=("me", "lobby"))
    store.persist("/", kept, now=0)
    log(store, event("all"))                                # whole namespace
    log(store, event("lobby"), rooms={"lobby"})
    log(store, event("other"), rooms={"kitchen"})
    log(store, event("mine"), rooms={"me"})                 # a private emit while away
    log(store, event("excluded"), skip={"me"})              # broadcast from this socket
    log(store, event("excluded room"), rooms={"lobby"}, skip={"lobby"})
    log(store, event("other nsp", nsp="/chat"))
    log(store, event("nobody"), rooms=set())
    restored = store.restore("/", kept.pid, seen.data[-1], now=0)
    assert [p.data[0] for p in restored.missed] == ["all", "lobby", "mine"]


def test_a_pid_works_once():
    store = MemoryRecovery(RecoveryOptions())
    seen = log(store, event("a"))
    kept = record()
    store.persist("/", kept, now=0)
    assert store.restore("/", kept.pid, seen.data[-1], now=0) is not None
    assert store.restore("/", kept.pid, seen.data[-1], now=0) is None


def test_a_failed_attempt_also_consumes_the_pid():
    store = MemoryRecovery(RecoveryOptions())
    seen = log(store, event("a"))
    kept = record()
    store.persist("/", kept, now=0)
    assert store.restore("/", kept.pid, "forged-offset", now=0) is None
    assert store.restore("/", kept.pid, seen.data[-1], now=0) is None


@pytest.mark.parametrize("pid", ["", "nope", "x" * 22])
def test_unknown_pid_is_refused(pid):
    store = MemoryRecovery(RecoveryOptions())
    seen = log(store, event("a"))
    store.persist("/", record(), now=0)
    assert store.restore("/", pid, seen.data[-1], now=0) is None
    assert store.stats()["sessions"] == 1  # someone else's session is untouched


@pytest.mark.parametrize("offset", ["", "1", "zz-1", "-1", "١٢", "a" * 100])
def test_unknown_offset_is_refused(offset):
    store = MemoryRecovery(RecoveryOptions())
    log(store, event("a"))
    kept = record()
    store.persist("/", kept, now=0)
    assert store.restore("/", kept.pid, offset, now=0) is None


def test_another_stores_offset_is_refused():
    one, two = MemoryRecovery(RecoveryOptions()), MemoryRecovery(RecoveryOptions())
    seen = log(one, event("a"))
    log(two, event("a"))
    kept = record()
    two.persist("/", kept, now=0)
    assert two.restore("/", kept.pid, seen.data[-1], now=0) is None


def test_a_session_of_another_namespace_is_refused():
    store = MemoryRecovery(RecoveryOptions())
    seen = log(store, event("a"))
    kept = record()
    store.persist("/chat", kept, now=0)
    assert store.restore("/", kept.pid, seen.data[-1], now=0) is None


def test_sessions_expire_with_the_window():
    store = MemoryRecovery(RecoveryOptions(max_disconnection_duration=10))
    seen = log(store, event("a"), now=0)
    kept = record()
    store.persist("/", kept, now=0)
    assert store.restore("/", kept.pid, seen.data[-1], now=10.5) is None
    assert store.stats()["sessions_expired"] == 1


def test_within_the_window_it_restores():
    store = MemoryRecovery(RecoveryOptions(max_disconnection_duration=10))
    seen = log(store, event("a"), now=0)
    kept = record()
    store.persist("/", kept, now=5)
    assert store.restore("/", kept.pid, seen.data[-1], now=9.9) is not None


def test_packets_expire_and_then_their_offset_is_unknown():
    store = MemoryRecovery(RecoveryOptions(max_disconnection_duration=10))
    seen = log(store, event("a"), now=0)
    log(store, event("b"), now=11)
    kept = record()
    store.persist("/", kept, now=11)
    assert store.stats()["packets"] == 1
    assert store.restore("/", kept.pid, seen.data[-1], now=11) is None


def test_prune_drops_what_expired():
    store = MemoryRecovery(RecoveryOptions(max_disconnection_duration=10))
    log(store, event("a"), now=0)
    store.persist("/", record(), now=0)
    store.prune(now=20)
    stats = store.stats()
    assert (stats["sessions"], stats["session_bytes"], stats["packets"], stats["packet_bytes"]) == (0, 0, 0, 0)


def test_the_log_is_bounded_by_count():
    store = MemoryRecovery(RecoveryOptions(max_packets=3))
    first = log(store, event(0))
    for i in range(1, 10):
        log(store, event(i))
    assert store.stats()["packets"] == 3
    kept = record()
    store.persist("/", kept, now=0)
    assert store.restore("/", kept.pid, first.data[-1], now=0) is None  # evicted: no recovery


def test_the_log_is_bounded_by_bytes():
    store = MemoryRecovery(RecoveryOptions(max_packet_bytes=100))
    for i in range(10):
        log(store, event(i), size=30)
    stats = store.stats()
    assert stats["packets"] == 3 and stats["packet_bytes"] == 90
    assert stats["packets_evicted"] == 7


def test_sessions_are_bounded_by_count_oldest_first():
    store = MemoryRecovery(RecoveryOptions(max_sessions=2))
    seen = log(store, event("a"))
    kept = [record(sid=f"s{i}") for i in range(3)]
    for i, one in enumerate(kept):
        store.persist("/", one, now=i)
    assert store.stats()["sessions"] == 2
    assert store.restore("/", kept[0].pid, seen.data[-1], now=3) is None
    assert store.restore("/", kept[2].pid, seen.data[-1], now=3) is not None


def test_sessions_are_bounded_by_bytes():
    store = MemoryRecovery(RecoveryOptions(max_session_bytes=2000))
    for i in range(10):
        store.persist("/", record(sid=f"s{i}", data={"blob": "x" * 500}), now=i)
    stats = store.stats()
    assert 0 < stats["session_bytes"] <= 2000 and stats["sessions"] < 10
    store.persist("/", record(data={"blob": "x" * 5000}), now=11)  # larger than it all: not kept
    assert store.stats()["session_bytes"] <= 2000


def test_pids_are_long_and_random():
    pids = {new_pid() for _ in range(100)}
    assert len(pids) == 100 and all(len(p) >= 22 for p in pids)  # 128 bits, base64url


def test_options_from_config():
    assert RecoveryOptions.from_config(None) is None
    assert RecoveryOptions.from_config(False) is None
    assert RecoveryOptions.from_config(True) == RecoveryOptions()
    options = RecoveryOptions.from_config({"max_disconnection_duration": 5, "skip_middlewares": False})
    assert options == RecoveryOptions(max_disconnection_duration=5, skip_middlewares=False)
    with pytest.raises(TypeError, match="maxDisconnectionDuration"):
        RecoveryOptions.from_config({"maxDisconnectionDuration": 5000})
    with pytest.raises(ValueError, match="positive"):
        RecoveryOptions.from_config({"max_disconnection_duration": 0})
