"""Settings of the Django test project (tests/django)."""

import os
import tempfile
from pathlib import Path

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "site.example"]
CSRF_TRUSTED_ORIGINS = ["https://trusted.example", "https://*.friends.example"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "wsgi_sio.django",
    "tests.django.echo",
    "tests.django.sockapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.django.urls"
# A file, not :memory:, so that closing a connection really closes it (see test_request.py);
# one per pytest process, so that runs side by side do not share (and delete) it.
_DB = str(Path(tempfile.gettempdir()) / f"wsgi_sio_django_tests_{os.getpid()}.sqlite3")
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _DB,
                         "TEST": {"NAME": _DB}}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
