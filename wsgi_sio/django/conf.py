"""The ``WSGI_SIO`` settings dict, read with DEBUG-aware defaults.

Everything has a default, so a project needs no ``WSGI_SIO`` at all. Keys are the
:class:`wsgi_sio.Server` options in upper case, plus a few that only the Django layer knows::

    WSGI_SIO = {
        "PATH": "/socket.io/",
        "PING_INTERVAL": 25, "PING_TIMEOUT": 20, "CONNECT_TIMEOUT": 45,
        "MAX_HTTP_BUFFER_SIZE": 1_000_000,
        "CONNECTION_STATE_RECOVERY": None,   # e.g. {"max_disconnection_duration": 120}
        "ALLOW_EIO3": False,            # also serve socket.io-client 1.x/2.x (Engine.IO v3)
        "LEGACY_CLIENTS": None,         # socket.io 0.9 clients; None: only under runserver_socketio
        "CORS_ALLOWED_ORIGINS": None,   # None: Django's rules (own origin + CSRF_TRUSTED_ORIGINS)
        "CHECK_REQUEST": True,          # ALLOWED_HOSTS / Origin checks on every request
        "MANAGER": None,                # a manager instance or dotted path (e.g. Redis)
        "SESSION_CHECK_INTERVAL": 60,   # seconds between re-validations of logged-in sockets
        "DISCOVER_MODULES": ("sockets", "events"),   # imported from every installed app
        "SERVE_STATIC": DEBUG,          # runserver_sio serves static files, like runserver
        "ACCESS_LOG": DEBUG,            # runserver_sio logs every request, like runserver
        "LOG_LEVEL": "INFO" if DEBUG else "WARNING",   # of the "wsgi_sio" logger under runserver_sio
    }
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Options passed straight to wsgi_sio.Server, with its defaults.
SERVER_OPTIONS: dict[str, Any] = {
    "PATH": "/socket.io/",
    "PING_INTERVAL": 25,
    "PING_TIMEOUT": 20,
    "CONNECT_TIMEOUT": 45,
    "MAX_HTTP_BUFFER_SIZE": 1_000_000,
    "MAX_ATTACHMENTS": 10,
    "COOKIE": None,
    "ASYNC_MODE": None,
    "TRANSPORTS": ("polling", "websocket"),
    "UPGRADE_TIMEOUT": 10,
    "MAX_QUEUE": 10_000,
    "MAX_QUEUE_BYTES": 4_000_000,
    "MAX_PAYLOAD_PACKETS": 10_000,
    "CONNECTION_STATE_RECOVERY": None,
    "ALLOW_EIO3": False,
}


def _debug_defaults(debug: bool) -> dict[str, Any]:
    return {
        "CORS_ALLOWED_ORIGINS": None,
        "CHECK_REQUEST": True,
        "MANAGER": None,
        "SESSION_CHECK_INTERVAL": 60,
        "LEGACY_CLIENTS": None,
        "DISCOVER_MODULES": ("sockets", "events"),
        "SERVE_STATIC": debug,
        "ACCESS_LOG": debug,
        "LOG_LEVEL": "INFO" if debug else "WARNING",
    }


def defaults() -> dict[str, Any]:
    """Every known key with its default (for the current DEBUG)."""
    return {**SERVER_OPTIONS, **_debug_defaults(bool(settings.DEBUG))}


def get_option(key: str) -> Any:
    """One option, without checking the others: for what runs while Django starts (app
    discovery), so that a mistake elsewhere in ``WSGI_SIO`` reaches the system checks
    (wsgi_sio.django.checks) instead of failing ``django.setup()``."""
    user = getattr(settings, "WSGI_SIO", None)
    if isinstance(user, dict) and key in user:
        return user[key]
    return defaults()[key]


def get_options() -> dict[str, Any]:
    """The effective options: defaults, overridden by ``settings.WSGI_SIO``."""
    user = getattr(settings, "WSGI_SIO", None) or {}
    if not isinstance(user, dict):
        raise ImproperlyConfigured("WSGI_SIO must be a dict")
    options = defaults()
    unknown = sorted(set(user) - set(options))
    if unknown:
        raise ImproperlyConfigured(f"unknown WSGI_SIO keys: {', '.join(unknown)}; "
                                   f"known: {', '.join(sorted(options))}")
    options.update(user)
    return options


def server_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments for ``wsgi_sio.Server`` out of the effective options."""
    kw = {key.lower(): options[key] for key in SERVER_OPTIONS}
    kw["transports"] = tuple(kw["transports"])
    return kw
