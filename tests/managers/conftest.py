"""Fixtures for the tests of the Redis manager (wsgi_sio/managers/redis_manager.py): a real
Redis, real server processes, real clients (built from tests/support/redis_peers.py).

``redis_url`` (tests/conftest.py) is the Redis on 127.0.0.1:6379 when one answers; otherwise
a private ``redis-server`` on a free port (so ``make test`` passes on a fresh machine).
``private_redis`` is always our own, on a free port, restartable mid-test (outage tests).
Every test gets its own channel prefix (``key``), so tests that share a Redis, or a Redis
shared with anything else, never hear each other.

Without the redis extra this whole directory is skipped (the import below). A test of
``managers/`` that needs no Redis would belong in a directory of its own, or this skip would
have to move into the test modules.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.live import LiveServer

# Skips this directory without the redis extra (see tests/support/redis_peers.py).
from tests.support.redis_peers import (
    Client,
    NodePeer,
    RedisServer,
    node_available,
    redis,
    start_server,
)


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def key() -> str:
    return "wsgi-sio-test-" + secrets.token_hex(4)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


# -- wsgi_sio server processes ---------------------------------------------------------------


@pytest.fixture
def servers(redis_url: str, key: str) -> Iterator[Callable[..., LiveServer]]:
    """``servers()`` starts one more wsgi_sio process on the test's Redis and key."""
    started: list[LiveServer] = []

    def start(url: str | None = None, **kw: Any) -> LiveServer:
        server = start_server(url or redis_url, key, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        output = server.stop()
        assert "Traceback" not in output, output


@pytest.fixture
def clients() -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def connect(url: str, namespace: str = "/", **kw: Any) -> Client:
        client = Client(url, namespace, **kw)
        made.append(client)
        return client

    yield connect
    for client in made:
        client.close()


# -- the Node peer ---------------------------------------------------------------------------

@pytest.fixture
def node_peer(redis_url: str, key: str) -> Iterator[NodePeer]:
    if not node_available():
        pytest.skip("node or tests/interop/js/node_modules (npm install) is missing")
    peer = NodePeer(redis_url, key)
    yield peer
    peer.stop()


