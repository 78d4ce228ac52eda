"""A wsgi_sio server with the Redis manager, for the tests in tests/managers/.

Configured by environment variables, so several real server processes can share one Redis:
``WSGI_SIO_REDIS_URL`` (required), ``WSGI_SIO_REDIS_KEY`` (the channel prefix: each test
uses its own, so tests sharing a Redis never hear each other) and
``WSGI_SIO_REDIS_RETRY_MAX`` (longest pause between reconnection attempts, seconds).

Every server-side feature is reachable from a client event (tests/apps/cluster_namespace.py),
so the tests need no access to the server process: they ask it to emit, join, list or report,
and check what arrives.
"""

from __future__ import annotations

import os

import wsgi_sio
from tests.apps.cluster_namespace import cluster_namespace, serve

manager = wsgi_sio.RedisManager(os.environ["WSGI_SIO_REDIS_URL"],
                                key=os.environ.get("WSGI_SIO_REDIS_KEY", "socket.io"),
                                retry_max_delay=float(os.environ.get("WSGI_SIO_REDIS_RETRY_MAX", "5")),
                                requests_timeout=5)
sio = wsgi_sio.Server(cors_allowed_origins="*", ping_interval=5, ping_timeout=5, manager=manager)


serve(sio, manager, cluster_namespace(manager, ready_timeout=10))

application = sio
