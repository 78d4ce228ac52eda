"""gunicorn config for the demo, from sample_site/ or from anywhere::

    REDIS_URL=redis://127.0.0.1:6379/0 gunicorn -c sample_site/gunicorn.conf.py

GeventWebSocketWorker serves the site, long-polling and WebSocket on one port, in several
worker processes (WORKERS, 4 by default with Redis). A client's requests may reach any of
them: a worker passes a request to the worker that holds its session, with nothing to
configure (no sticky sessions). Rooms and broadcasts cross processes through Redis: REDIS_URL
makes the settings pick wsgi_sio's RedisManager. Without REDIS_URL each worker would have
rooms of its own, so the default is then one worker.
"""

import os
from pathlib import Path

chdir = str(Path(__file__).resolve().parent)   # sample_site/, whatever the current directory
wsgi_app = "sample_site.wsgi:application"
bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
workers = int(os.environ.get("WORKERS") or (4 if os.environ.get("REDIS_URL") else 1))
worker_connections = 1000
# Each worker loads the app (and starts its Redis listener) after gevent has patched it.
preload_app = False
# Long-polling GETs are held up to ping_interval (25 s): keep gunicorn's timeout above it.
timeout = 60
graceful_timeout = 10
