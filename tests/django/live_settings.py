"""The test project for servers started in a subprocess (runserver_sio, runserver_socketio)."""

import os

# Django's way of layering settings: the test project's, then what a live server needs.
from .settings import *

DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
SOCKETIO_HOST = "127.0.0.1"
SOCKETIO_PORT = int(os.environ.get("TEST_SOCKETIO_PORT", "9000"))
