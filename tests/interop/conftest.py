"""Fixtures of the interop tests that need more than tests/conftest.py's servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The Redis on 127.0.0.1:6379 when one answers, else a private ``redis-server`` on a
    free port (as tests/managers/conftest.py does). Skips without the redis extra."""
    from tests.support.redis_peers import RedisServer, answers

    shared = "redis://127.0.0.1:6379/0"
    if answers(shared):
        yield shared
        return
    server = RedisServer()
    try:
        yield server.url
    finally:
        server.cleanup()
