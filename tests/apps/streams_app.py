"""A wsgi_sio server with the Redis Streams manager, for tests/managers/test_redis_streams.py.

Configured by environment variables, so several real server processes can share one Redis:
``WSGI_SIO_REDIS_URL`` (required), ``WSGI_SIO_REDIS_KEY`` (the stream name and channel
prefix: each test uses its own, so tests sharing a Redis never hear each other) and
``WSGI_SIO_REDIS_RETRY_MAX`` (longest pause between reconnection attempts, seconds);
``WSGI_SIO_RECOVERY=1`` turns connection state recovery on.

Every server-side feature is reachable from a client event (tests/apps/cluster_namespace.py),
so the tests need no access to the server process.
"""

from __future__ import annotations

import os

import wsgi_sio
from tests.apps.cluster_namespace import cluster_namespace, serve

key = os.environ.get("WSGI_SIO_REDIS_KEY", "socket.io")
manager = wsgi_sio.RedisStreamsManager(
    os.environ["WSGI_SIO_REDIS_URL"], stream_name=key, channel_prefix=key,
    session_key_prefix=key + ":session:", requests_timeout=5,
    retry_max_delay=float(os.environ.get("WSGI_SIO_REDIS_RETRY_MAX", "5")))
recovery = {"max_disconnection_duration": 60} if os.environ.get("WSGI_SIO_RECOVERY") else None
sio = wsgi_sio.Server(cors_allowed_origins="*", ping_interval=5, ping_timeout=5, manager=manager,
                      connection_state_recovery=recovery)


class Cluster(cluster_namespace(manager, ready_timeout=15)):
    """The events of tests/apps/cluster_namespace.py, and the Streams manager's own."""

    def on_server_side_ack(self, event, *args):
        return manager.server_side_emit_with_ack(event, *args, namespace=self.namespace)

    def on_emit_many(self, target, event, count):
        """``count`` emits of ``event`` with 0..count-1 to ``target`` (None: everyone)."""
        for n in range(count):
            self.server.emit(event, n, to=target, namespace=self.namespace)
        return True

    def on_stream(self, room, start, count, pause=0):
        """Broadcasts ``n`` start..start+count-1 to ``room`` from this process, one every
        ``pause`` seconds, in the background (pacing only: tests wait on what arrives)."""
        server = self.server

        def run():
            for n in range(start, start + count):
                server.emit("n", n, to=room, namespace=self.namespace)
                if pause:
                    server.runtime.sleep(pause)

        server.runtime.spawn(run)
        return True


serve(sio, manager, Cluster)

application = sio
