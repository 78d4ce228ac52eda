"""The Django side of a connection: ``self.request`` and database connections.

``self.request`` is a real :class:`~django.http.HttpRequest` built from the handshake
(polling GET or WebSocket upgrade), with ``request.session`` and ``request.user`` read from
the session cookie as Django's ``SessionMiddleware`` and ``AuthenticationMiddleware`` do. It
is built the first time a handler asks for it, in the connection's worker, so the session and
user queries run where the database connections are managed (see ``DjangoServer.run_handler``).
Other middleware does not run: the handshake is not a view request.
"""

from __future__ import annotations

import io
from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

import wsgi_sio


def build_request(environ: dict[str, Any]) -> HttpRequest:
    """An ``HttpRequest`` for the handshake in ``environ``, with its session and user."""
    env = dict(environ)
    # The body of a handshake is empty; under WebSocket wsgi.input is the raw connection.
    env["wsgi.input"] = io.BytesIO(b"")
    env["CONTENT_LENGTH"] = "0"
    request = WSGIRequest(env)
    if apps.is_installed("django.contrib.sessions"):
        engine = import_module(settings.SESSION_ENGINE)
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        request.session = engine.SessionStore(key)  # type: ignore[attr-defined]
        if apps.is_installed("django.contrib.auth"):
            from django.contrib.auth import get_user

            request.user = SimpleLazyObject(lambda: get_user(request))  # type: ignore[attr-defined]
    elif apps.is_installed("django.contrib.auth"):
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()  # type: ignore[attr-defined]
    return request


#: where a socket keeps its Django request (``Namespace.extras``, the integrations' slot)
REQUEST_KEY = "django.request"


def request_of(socket: wsgi_sio.Namespace) -> HttpRequest:
    """The Django request of any connected socket (also for ``@sio.on`` function handlers)."""
    extras = socket.extras
    request: HttpRequest | None = extras.get(REQUEST_KEY)
    if request is None:
        request = extras[REQUEST_KEY] = build_request(socket.environ)
    return request


class Namespace(wsgi_sio.Namespace):
    """``wsgi_sio.Namespace`` with ``self.request`` (and ``self.user``) from the handshake.

    Refuse anonymous users in ``on_connect``::

        def on_connect(self, auth):
            if not self.user.is_authenticated:
                raise wsgi_sio.ConnectionRefused("log in first")
    """

    @property
    def request(self) -> HttpRequest:
        return request_of(self)

    @property
    def user(self) -> Any:
        return getattr(self.request, "user", None)
