"""gunicorn config for the demo: `gunicorn -c gunicorn.conf.py` from sample_site/.

GeventWebSocketWorker serves the site, long-polling and WebSocket on one port. One worker
per process group while rooms live in process memory (wsgi_sio's in-process manager); use
a shared manager (WSGI_SIO["MANAGER"]) to run more.
"""

wsgi_app = "sample_site.wsgi:application"
bind = "127.0.0.1:8000"
worker_class = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
workers = 1
worker_connections = 1000
# Long-polling GETs are held up to ping_interval (25 s): keep gunicorn's timeout above it.
timeout = 60
graceful_timeout = 10
