"""``manage.py runserver_socketio [addr:port]``: ``runserver_sio`` under django-socketio's name.

For projects moving from django-socketio: the address defaults to their ``SOCKETIO_HOST``
and ``SOCKETIO_PORT`` settings (127.0.0.1 and 9000 when unset), but the whole site is served
on that port, not only Socket.IO, so the second server and its nginx location can go. Pages
still on the socket.io 0.9 client keep working: 0.9 clients are served unless
``WSGI_SIO["LEGACY_CLIENTS"]`` is False.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ... import conf
from ...server import get_server
from .runserver_sio import Command as RunserverSioCommand


class Command(RunserverSioCommand):
    help = ("runserver_sio for projects moving from django-socketio: listens on SOCKETIO_HOST:"
            "SOCKETIO_PORT by default and serves the whole site there.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options.get("addrport"):
            host = getattr(settings, "SOCKETIO_HOST", "") or "127.0.0.1"
            port = getattr(settings, "SOCKETIO_PORT", None) or 9000
            options["addrport"] = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        super().handle(*args, **options)

    def get_handler(self, *args: Any, **options: Any) -> Any:
        handler = super().get_handler(*args, **options)
        if conf.get_options()["LEGACY_CLIENTS"] is not False:
            get_server().enable_legacy_09()
        return handler
