"""gunicorn with several gevent WebSocket workers sharing rooms through Redis.

    REDIS_URL=redis://127.0.0.1:6379/0 gunicorn -c deploy/gunicorn_multiworker.conf.py mysite.wsgi:application

The application must build its server with the Redis manager, e.g. in mysite/wsgi.py::

    sio = wsgi_sio.Server(manager=wsgi_sio.RedisManager(os.environ["REDIS_URL"]))
    application = wsgi_sio.SocketIOMiddleware(get_wsgi_application(), sio)

Every worker is a separate process with its own clients; the RedisManager carries emits,
rooms and remote joins/disconnects between them. No sticky sessions are needed: all workers
accept on one port, and a worker that gets a request for another worker's session hands the
connection to that worker (nothing to configure). Across hosts the Redis manager relays such
requests to the owner's host: set WSGI_SIO_ADVERTISE when binding 0.0.0.0, and see
deploy/nginx.md (the relay secret, private networks only, optional routing on the sid, limits).
Terminate TLS in nginx, not here: a TLS connection cannot be handed to another worker.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
workers = int(os.environ.get("WORKERS", multiprocessing.cpu_count()))
worker_connections = 1000

# The Redis listener starts when the app creates its Server: load the app in each worker,
# after gevent has patched it, never in the master before the fork.
preload_app = False

# Long-polling requests wait up to ping_interval (25 s by default) for data; WebSocket
# connections live for hours. With gevent workers the timeout is only the heartbeat between
# worker and master, but keep it above ping_interval + ping_timeout anyway.
timeout = 60
graceful_timeout = 30
keepalive = 75

# Behind nginx on the same host: trust its X-Forwarded-* headers.
forwarded_allow_ips = "127.0.0.1"
