"""The test project for servers started in a subprocess (runserver_sio, runserver_socketio)."""

import os

# Django's way of layering settings: the test project's, then what a live server needs.
from .settings import *

DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
SOCKETIO_HOST = "127.0.0.1"
SOCKETIO_PORT = int(os.environ.get("TEST_SOCKETIO_PORT", "9000"))

# tests/django/test_recovery_live.py: real logins need a database that outlives a connection
# (a file its fixture migrates), and connection state recovery on.
if os.environ.get("TEST_LIVE_DATABASE"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                             "NAME": os.environ["TEST_LIVE_DATABASE"]}}
if os.environ.get("TEST_RECOVERY_SECONDS"):
    WSGI_SIO = {"CONNECTION_STATE_RECOVERY": {
        "max_disconnection_duration": float(os.environ["TEST_RECOVERY_SECONDS"]),
        "skip_middlewares": True}}
