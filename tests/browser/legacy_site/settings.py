"""The django-socketio tutorial's project, for ``manage.py runserver_socketio`` (0.9 clients on).

The test project's live settings (its ``tests.django.echo`` app is the tutorial's events.py on
``wsgi_sio.compat``), plus static files and the tutorial's page.
"""

from pathlib import Path

from tests.django.live_settings import *

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.staticfiles"]
STATIC_URL = "/static/"
ROOT_URLCONF = "tests.browser.legacy_site.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates",
              "DIRS": [Path(__file__).resolve().parent / "templates"]}]
