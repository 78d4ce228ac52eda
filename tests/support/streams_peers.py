"""What the Redis Streams manager's tests run against: wsgi_sio processes with
``RedisStreamsManager`` (tests/apps/streams_app.py) and a Node socket.io server with
``@socket.io/redis-streams-adapter`` 0.3.1 (tests/interop/js/streams_peer.mjs).

The clients, ``redis-server`` processes and the JSON-lines driver of a Node process are
those of :mod:`tests.support.redis_peers`.
"""

from __future__ import annotations

import os
from unittest import mock

from tests.support.live import LiveServer
from tests.support.redis_peers import JS_DIR, NODE, NodePeer


def start_streams_server(url: str, key: str, retry_max: float = 5, recovery: bool = False) -> LiveServer:
    with mock.patch.dict(os.environ, {"WSGI_SIO_REDIS_URL": url, "WSGI_SIO_REDIS_KEY": key,
                                      "WSGI_SIO_REDIS_RETRY_MAX": str(retry_max),
                                      "WSGI_SIO_RECOVERY": "1" if recovery else ""}):
        return LiveServer("tests.apps.streams_app:application")


def streams_node_available() -> bool:
    return NODE is not None and (JS_DIR / "node_modules" / "@socket.io" / "redis-streams-adapter").is_dir()


class StreamsNodePeer(NodePeer):
    """``node streams_peer.mjs <redis url> <key>``: a Node socket.io server with the streams
    adapter (stream and channel prefix ``key``) and one socket.io-client connected to it."""

    script = "streams_peer.mjs"
