"""Django integration: add ``"wsgi_sio.django"`` to INSTALLED_APPS and, in wsgi.py::

    from wsgi_sio.django import get_wsgi_application
    application = get_wsgi_application()

The site, long-polling and WebSocket are then served on one port (``manage.py runserver_sio``
in development, gunicorn with ``GeventWebSocketWorker`` in production). Namespaces live in the
apps' ``sockets.py`` (or ``events.py``) modules, found at start-up::

    from wsgi_sio.django import Namespace, namespace

    @namespace("/chat")
    class Chat(Namespace):
        def on_connect(self, auth):
            if not self.user.is_authenticated:
                raise wsgi_sio.ConnectionRefused("log in first")

Views emit through the same server: ``get_server().emit("news", data, namespace="/chat")``;
``to=user_room(request.user)`` reaches every socket of one user.
"""

from __future__ import annotations

from typing import Any

from .request import Namespace, build_request, request_of
from .rooms import user_room
from .server import DjangoServer, build_server, get_server, namespace, on, register_namespace


def get_wsgi_application() -> Any:
    """Django's WSGI application wrapped in the Socket.IO middleware of the project's server."""
    from django.core.wsgi import get_wsgi_application as django_application

    from wsgi_sio.middleware import SocketIOMiddleware

    from .discovery import autodiscover

    app = django_application()
    autodiscover()  # also when "wsgi_sio.django" is not in INSTALLED_APPS
    return SocketIOMiddleware(app, get_server())


__all__ = [
    "DjangoServer",
    "Namespace",
    "build_request",
    "build_server",
    "get_server",
    "get_wsgi_application",
    "namespace",
    "on",
    "register_namespace",
    "request_of",
    "user_room",
]
