"""A socket lives no longer than the Django login that opened it.

A socket whose handshake carried the session of a logged-in user is remembered with that
session key and user. It is disconnected (the client gets a DISCONNECT for each namespace,
"io server disconnect": no automatic reconnection) when that login ends:

* at once, on Django's ``user_logged_out`` signal for its session (``auth.logout`` in a view
  of this process);
* otherwise at the next re-validation, every ``WSGI_SIO["SESSION_CHECK_INTERVAL"]`` seconds
  (60 by default; None or 0 turns it off): the session is read again from the session store
  and the user again as ``AuthenticationMiddleware`` would, so a session that was flushed
  (logout in another process), expired, or whose password hash no longer matches (a password
  change elsewhere, see ``update_session_auth_hash``) no longer yields the same user. One
  session and one user query per distinct session key, in a greenlet of its own.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.db import close_old_connections, connections
from django.http import HttpRequest

import wsgi_sio

from .request import request_of

log = logging.getLogger("wsgi_sio")


#: where a tracked socket keeps its session key (``Namespace.extras``)
SESSION_KEY = "django.session_key"
#: where a tracked socket keeps the primary key of its user, as a string
USER_KEY = "django.user_pk"


class SessionCheck:
    """The logged-in sockets of one server, by session key.

    The server tells it when a socket connects (:meth:`track`) and leaves (:meth:`untrack`):
    ``DjangoServer`` does so from ``socket_connected`` / ``socket_disconnected``. The
    ``user_logged_out`` receiver lives with the server (:mod:`.server`), which knows which
    server is the project's."""

    def __init__(self, server: wsgi_sio.Server, interval: float | None) -> None:
        self.server = server
        self.interval = interval or None
        #: session key -> (user pk, the sockets opened with it)
        self.sessions: dict[str, tuple[Any, set[wsgi_sio.Namespace]]] = {}
        self._timer: Any = None

    def set_interval(self, seconds: float | None) -> None:
        """Change the period (None or 0: no periodic check); applies from now on."""
        self.interval = seconds or None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.sessions and self.interval:
            self._timer = self.server.engine.scheduler.call_later(self.interval, self._due)

    def track(self, socket: wsgi_sio.Namespace) -> None:
        """Remember a socket that has just connected, if a logged-in user opened it."""
        request = request_of(socket)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or session is None or not user.is_authenticated or not session.session_key:
            return
        key = session.session_key
        socket.extras[SESSION_KEY] = key
        socket.extras[USER_KEY] = str(user.pk)
        entry = self.sessions.get(key)
        if entry is None or entry[0] != user.pk:
            entry = self.sessions[key] = (user.pk, set())
        entry[1].add(socket)
        if self._timer is None and self.interval:
            self._timer = self.server.engine.scheduler.call_later(self.interval, self._due)

    def untrack(self, socket: wsgi_sio.Namespace) -> None:
        key = socket.extras.get(SESSION_KEY)
        entry = self.sessions.get(key) if key else None
        if entry is not None:
            entry[1].discard(socket)
            if not entry[1]:
                del self.sessions[key]  # type: ignore[arg-type]

    def recovery_extras(self, socket: wsgi_sio.Namespace) -> dict[str, Any]:
        """What a kept session (connection state recovery) remembers of the socket's login."""
        key = socket.extras.get(SESSION_KEY)
        if key is None:
            return {}
        return {SESSION_KEY: key, USER_KEY: socket.extras.get(USER_KEY)}

    def may_recover(self, socket: wsgi_sio.Namespace) -> bool:
        """Whether the new handshake of ``socket`` still carries the login its kept session
        had: the same session key, yielding the same user (read as ``track`` and ``check``
        do). A login that ended meanwhile (logout, flush, expiry, password change) or changed
        does not recover; an anonymous socket has nothing to check."""
        key = socket.extras.get(SESSION_KEY)
        if key is None:
            return True
        request = request_of(socket)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or user is None or session.session_key != key:
            return False
        return bool(user.is_authenticated) and str(user.pk) == socket.extras.get(USER_KEY)

    def end_session(self, key: str | None, why: str = "logged out") -> int:
        """Disconnect every socket opened with session ``key``; how many."""
        entry = self.sessions.pop(key, None) if key else None
        if entry is None:
            return 0
        sockets = list(entry[1])
        log.info("disconnecting %d socket(s) of a Django session: %s", len(sockets), why)
        for socket in sockets:
            socket.disconnect()
        return len(sockets)

    def check(self) -> int:
        """Re-validate every tracked session now; returns how many sockets were ended."""
        ended = 0
        engine = import_module(settings.SESSION_ENGINE)
        for key, (pk, sockets) in list(self.sessions.items()):
            request = HttpRequest()
            request.session = engine.SessionStore(key)  # type: ignore[attr-defined]
            try:
                user = get_user(request)  # type: ignore[arg-type]
            except Exception:
                log.exception("re-validating a Django session failed; keeping its sockets")
                continue
            if not user.is_authenticated or user.pk != pk:
                ended += self.end_session(key, "the login is no longer valid")
        return ended

    def _due(self) -> None:
        # Timer callbacks must not block the scheduler: the queries run in a task of their own.
        self._timer = None
        self.server.runtime.spawn(self._run_check)

    def _run_check(self) -> None:
        close_old_connections()
        try:
            self.check()
        except Exception:
            log.exception("the periodic Django session check failed")
        finally:
            connections.close_all()
            if self.sessions and self.interval and self._timer is None:
                self._timer = self.server.engine.scheduler.call_later(self.interval, self._due)

