"""The django-socketio tutorial's project, for ``manage.py runserver_socketio`` (0.9 clients on).

The test project's live settings (its ``tests.django.echo`` app is the tutorial's events.py on
``wsgi_sio.compat``), plus static files and the tutorial's page.

With ``LEGACY_SITE_ALLOW_EIO3=1`` in the environment it serves socket.io-client 2.x too
(``WSGI_SIO["ALLOW_EIO3"]``), and that client's browser build, from the npm install of
tests/interop/js (never committed), as the static file ``socket.io-client-v2/socket.io.js``.
"""

import os
from pathlib import Path

from tests.django.live_settings import *

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.staticfiles"]
STATIC_URL = "/static/"
ROOT_URLCONF = "tests.browser.legacy_site.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates",
              "DIRS": [Path(__file__).resolve().parent / "templates"]}]

if os.environ.get("LEGACY_SITE_ALLOW_EIO3") == "1":
    V2_CLIENT_DIR = (Path(__file__).resolve().parents[2]
                     / "interop/js/node_modules/socket.io-client-v2/dist")
    WSGI_SIO = {"ALLOW_EIO3": True}
    STATICFILES_DIRS = [("socket.io-client-v2", V2_CLIENT_DIR)]
