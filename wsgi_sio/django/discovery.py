"""Import the ``sockets.py`` and ``events.py`` modules of installed apps, as the admin does
with ``admin.py``: an app without one is skipped, but an ImportError raised *inside* one (a
typo, a missing dependency) propagates instead of silently losing its handlers."""

from __future__ import annotations

from django.utils.module_loading import autodiscover_modules

from . import conf


def autodiscover() -> None:
    """Import every app's discovery modules (``WSGI_SIO["DISCOVER_MODULES"]``); idempotent."""
    autodiscover_modules(*conf.get_option("DISCOVER_MODULES"))
