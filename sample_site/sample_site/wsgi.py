"""WSGI config: the one line that changes is the import of get_wsgi_application."""

import os

from wsgi_sio.django import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_site.settings")

application = get_wsgi_application()
