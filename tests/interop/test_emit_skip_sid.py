"""``Server.emit(..., skip_sid=...)`` with no ``to=``: the whole namespace but the skipped
clients, through real python-socketio clients over WebSocket against a real server."""

from __future__ import annotations

import itertools
import os

import pytest

from tests.support.python_client import TIMEOUT, connect

WS = ["websocket"]
# A namespace of the interop app's ``/room-\d+`` pattern that no other test uses, so that
# a broadcast to "the whole namespace" reaches this test's clients only.
_numbers = itertools.count(os.getpid() * 1000)


@pytest.fixture
def namespace() -> str:
    return f"/room-{next(_numbers)}"


def test_broadcast_to_the_namespace_skips_one_client(interop_server, namespace):
    url = interop_server.url
    members = [connect(url, WS, namespace=namespace) for _ in range(3)]
    outsider, outsider_rec = connect(url, WS, namespace=f"/room-{next(_numbers)}")
    try:
        (a, ra), (b, rb), (c, rc) = members
        b_sid, c_sid = b.get_sid(namespace), c.get_sid(namespace)
        # to_rooms with rooms None: server.emit(event, to=None, skip_sid=b_sid, namespace=...)
        assert a.call("to_rooms", (None, b_sid, "news", 1), namespace=namespace, timeout=TIMEOUT)
        assert ra.next("news") == (1,)   # the sender is not skipped
        assert rc.next("news") == (1,)
        # A list of sids: only a is left.
        assert a.call("to_rooms", (None, [b_sid, c_sid], "news", 2), namespace=namespace,
                      timeout=TIMEOUT)
        assert ra.next("news") == (2,)
        # Then a broadcast that skips nobody: b and the others get it, and b gets it after
        # where news 1 and 2 would have been (one connection's packets arrive in order).
        assert a.call("to_rooms", (None, None, "after", 3), namespace=namespace, timeout=TIMEOUT)
        for rec in (ra, rb, rc):
            assert rec.next("after") == (3,)
        assert rb.empty("news"), "news reached the client it skipped"
        assert rc.empty("news"), "news 2 reached a client it skipped"
        # Another namespace of the same pattern got none of it.
        assert outsider.call("echo", "sync", namespace=outsider_rec.namespace,
                             timeout=TIMEOUT) == "sync"
        assert outsider_rec.empty("news") and outsider_rec.empty("after")
    finally:
        for client, _ in members:
            client.disconnect()
        outsider.disconnect()
