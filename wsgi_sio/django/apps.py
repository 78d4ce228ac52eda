"""``"wsgi_sio.django"`` in INSTALLED_APPS: discovers the apps' socket modules when ready."""

from __future__ import annotations

from django.apps import AppConfig

from .reloading import reexec_if_serving

# runserver_sio: gevent's patching before any models.py is imported (see reloading.py)
reexec_if_serving()


class WsgiSioConfig(AppConfig):
    name = "wsgi_sio.django"
    label = "wsgi_sio"
    verbose_name = "Socket.IO (wsgi_sio)"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from . import checks  # noqa: F401 - registers the system checks
        from .discovery import autodiscover
        from .server import on_user_logged_out

        user_logged_out.connect(on_user_logged_out, dispatch_uid="wsgi_sio.session_check")
        autodiscover()
