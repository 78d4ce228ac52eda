"""The project's Socket.IO server, built from settings, and the registry that fills it.

``sockets.py`` / ``events.py`` modules register namespaces and handlers with the decorators
here (or ``wsgi_sio.compat.Namespace``) when discovery imports them; the server is built the
first time it is needed, from ``settings.WSGI_SIO``, with everything registered so far, and
later registrations go straight to it. Views and management commands emit through the same
object: ``get_server().emit("news", data, to="lobby", namespace="/chat")``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import close_old_connections, connections
from django.utils.module_loading import import_string

import wsgi_sio
from wsgi_sio.socketio import NamespaceMatcher

from . import conf
from .request import request_of
from .rooms import user_room
from .security import make_allow_request, origin_trusted
from .session_check import SessionCheck

log = logging.getLogger("wsgi_sio")


class DjangoServer(wsgi_sio.Server):
    """A ``wsgi_sio.Server`` that treats each handler call as Django treats a request, and
    ends the sockets of a login that ends (see :mod:`wsgi_sio.django.session_check`).

    Every socket of a logged-in user joins that user's room (``user_room(user)``, see
    :mod:`.rooms`) before its connect handler runs.

    It uses the server's public extension points: ``run_handler``, ``socket_connecting``,
    ``socket_connected``,
    ``socket_disconnected``, and for connection state recovery ``recovery_extras`` and
    ``may_recover``: a recovered socket must still carry the login its session had."""

    def __init__(self, *, session_check_interval: float | None = 60, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session_check = SessionCheck(self, session_check_interval)

    def socket_connecting(self, socket: wsgi_sio.Namespace) -> None:
        super().socket_connecting(socket)
        if not self.checks_sessions:
            return
        try:
            user = getattr(request_of(socket), "user", None)
            if user is not None and user.is_authenticated:
                socket.join(user_room(user))
        except Exception:
            log.exception("cannot read the Django user of socket %s", socket.sid)

    def socket_connected(self, socket: wsgi_sio.Namespace) -> None:
        super().socket_connected(socket)
        if self.checks_sessions:
            try:
                self.session_check.track(socket)
            except Exception:
                log.exception("cannot read the Django session of socket %s", socket.sid)

    def socket_disconnected(self, socket: wsgi_sio.Namespace, reason: str) -> None:
        self.session_check.untrack(socket)
        super().socket_disconnected(socket, reason)

    def recovery_extras(self, socket: wsgi_sio.Namespace) -> dict[str, Any]:
        return {**super().recovery_extras(socket), **self.session_check.recovery_extras(socket)}

    def may_recover(self, socket: wsgi_sio.Namespace) -> bool:
        if not super().may_recover(socket):
            return False
        if not self.checks_sessions:
            return True
        try:
            return self.session_check.may_recover(socket)
        except Exception:
            log.exception("cannot read the Django session of recovering socket %s", socket.sid)
            return False

    @property
    def checks_sessions(self) -> bool:
        """Whether sockets are tied to logins: with Django's sessions and auth installed."""
        return apps.is_installed("django.contrib.sessions") and apps.is_installed("django.contrib.auth")

    def run_handler(self, fn: Callable[..., Any], *args: Any) -> Any:
        # As Django's request_started / request_finished do. Handlers run in greenlets (or
        # threads) that are not request handlers, each with connections of its own that
        # nothing else would close, so they are closed after every call whatever
        # CONN_MAX_AGE says. Not inside a transaction that is open on this thread: that is
        # a caller's (Django's TestCase, with wsgi_sio.testing running handlers on the test's
        # thread), and its connection is the caller's to close.
        if any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
            return fn(*args)
        close_old_connections()
        try:
            return fn(*args)
        finally:
            connections.close_all()


_lock = threading.Lock()
_server: DjangoServer | None = None
_namespaces: list[tuple[type[wsgi_sio.Namespace], NamespaceMatcher]] = []
_handlers: list[tuple[str, Callable[..., Any], str]] = []


def build_server() -> DjangoServer:
    """A new server from the current settings, with every registered namespace and handler."""
    options = conf.get_options()
    kwargs = conf.server_kwargs(options)
    manager = options["MANAGER"]
    if isinstance(manager, str):
        manager = import_string(manager)()
    cors = options["CORS_ALLOWED_ORIGINS"]
    check = options["CHECK_REQUEST"]
    if check and cors is None:
        # Django's origin rules (own origin, CSRF_TRUSTED_ORIGINS with wildcards): refused
        # origins get allow_request's 403, which says why; trusted ones get CORS answers
        # with credentials, as the site's own pages do.
        kwargs["cors_allowed_origins"] = origin_trusted
    else:
        kwargs["cors_allowed_origins"] = cors
    if check:
        kwargs["allow_request"] = make_allow_request(check_origin=cors is None)
    if options["LEGACY_CLIENTS"]:
        kwargs["allow_legacy_09"] = True  # socket.io 0.9 clients (wsgi_sio.legacy09)
    server = DjangoServer(manager=manager, session_check_interval=options["SESSION_CHECK_INTERVAL"],
                          **kwargs)
    for cls, name in _namespaces:
        server.register_namespace(cls, name)
    for event, fn, namespace in _handlers:
        server.on(event, fn, namespace=namespace)
    return server


def get_server() -> DjangoServer:
    """The project's server, built on first use."""
    global _server
    if _server is None:
        with _lock:
            if _server is None:
                _server = build_server()
    return _server


def on_user_logged_out(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """``user_logged_out`` receiver: end the sockets of the session being logged out."""
    server = _server
    session = getattr(request, "session", None)
    if server is None or session is None:
        return
    server.session_check.end_session(session.session_key)


def register_namespace(cls: type[wsgi_sio.Namespace], name: NamespaceMatcher = "/") -> None:
    _namespaces.append((cls, name))
    if _server is not None:
        _server.register_namespace(cls, name)


def namespace(name: NamespaceMatcher = "/") -> Callable[[type[wsgi_sio.Namespace]], type[wsgi_sio.Namespace]]:
    """Class decorator for the project's server: ``@wsgi_sio.django.namespace("/chat")``."""
    def register(cls: type[wsgi_sio.Namespace]) -> type[wsgi_sio.Namespace]:
        register_namespace(cls, name)
        return cls
    return register


def on(event: str, namespace: str = "/") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Function handler for the project's server: ``@wsgi_sio.django.on("ping", namespace="/")``."""
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _handlers.append((event, fn, namespace))
        if _server is not None:
            _server.on(event, fn, namespace=namespace)
        return fn
    return register
