"""System checks (``manage.py check``, and before ``runserver_sio`` serves) for what projects
get wrong with wsgi_sio, each with an id to read about or silence:

=================  ========================================================================
``wsgi_sio.E001``  ``WSGI_APPLICATION`` does not mount wsgi_sio: ``runserver_sio`` mounts it
                   by itself, gunicorn serves that object as it is and answers 404 (a
                   module not imported yet is read, not imported)
``wsgi_sio.E002``  ``WSGI_SIO`` is not a dict
``wsgi_sio.E003``  unknown ``WSGI_SIO`` keys (a typo would silently keep the default)
``wsgi_sio.E004``  a ``WSGI_SIO`` value of the wrong type or out of range
``wsgi_sio.E005``  ``WSGI_SIO["MANAGER"]``, a dotted path, cannot be imported
``wsgi_sio.W001``  the client script (``wsgi_sio/socket.io.min.js``) is not in the static
                   files: ``{% socketio_client %}`` pages get a 404
``wsgi_sio.W002``  ``CORS_ALLOWED_ORIGINS`` lets pages of any site (``"null"``, a ``*`` in a
                   list, plain-HTTP origins in production) connect with the user's cookies
``wsgi_sio.W003``  ``CSRF_TRUSTED_ORIGINS`` trusts every site (``https://*``): sockets too
``wsgi_sio.W004``  ``SESSION_CHECK_INTERVAL`` is off while logins are used: a socket outlives
                   a logout in another process, an expired session or a password change
``wsgi_sio.W005``  ``CHECK_REQUEST`` is off in production: Socket.IO requests skip the
                   ``ALLOWED_HOSTS`` check (DNS rebinding) and Django's Origin rules
=================  ========================================================================
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from . import conf

CLIENT = "wsgi_sio/socket.io.min.js"


def _positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _transports(value: Any) -> bool:
    return (isinstance(value, (list, tuple)) and bool(value)
            and set(value) <= {"polling", "websocket"})


def _cors(value: Any) -> bool:
    return (value is None or isinstance(value, str) or callable(value)
            or (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)))


def _interval(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and value >= 0)


def _modules(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


def _log_level(value: Any) -> bool:
    import logging

    if isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and isinstance(logging.getLevelName(value.upper()), int)


# What each key takes, said the way the error says it. Keys not listed (added by other
# integrations of conf.py) are checked by nobody here but are known.
TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "PATH": (lambda v: isinstance(v, str) and v.startswith("/"), "a URL path starting with /"),
    "PING_INTERVAL": (_positive_number, "a number of seconds > 0"),
    "PING_TIMEOUT": (_positive_number, "a number of seconds > 0"),
    "CONNECT_TIMEOUT": (_positive_number, "a number of seconds > 0"),
    "UPGRADE_TIMEOUT": (_positive_number, "a number of seconds > 0"),
    "MAX_HTTP_BUFFER_SIZE": (_positive_int, "an int > 0 (bytes)"),
    "MAX_ATTACHMENTS": (_positive_int, "an int > 0"),
    "MAX_QUEUE": (_positive_int, "an int > 0 (packets)"),
    "MAX_QUEUE_BYTES": (_positive_int, "an int > 0 (bytes)"),
    "MAX_PAYLOAD_PACKETS": (_positive_int, "an int > 0 (packets)"),
    "COOKIE": (_optional_str, "None or a cookie name"),
    "ASYNC_MODE": (lambda v: v in (None, "gevent", "threading"), 'None, "gevent" or "threading"'),
    "TRANSPORTS": (_transports, 'a non-empty list of "polling" and "websocket"'),
    "CONNECTION_STATE_RECOVERY": (lambda v: v is None or isinstance(v, (bool, dict)),
                                  "None, a bool or a dict of options"),
    "ALLOW_EIO3": (lambda v: isinstance(v, bool), "a bool"),
    "CORS_ALLOWED_ORIGINS": (_cors, 'None, "*", a list of origins or a callable'),
    "CHECK_REQUEST": (lambda v: isinstance(v, bool), "a bool"),
    "MANAGER": (lambda v: not isinstance(v, (bool, int, float, list, tuple, dict)),
                "None, a manager or the dotted path of its class"),
    "SESSION_CHECK_INTERVAL": (_interval, "None or a number of seconds >= 0"),
    "DISCOVER_MODULES": (_modules, "a list of module names"),
    "SERVE_STATIC": (lambda v: isinstance(v, bool), "a bool"),
    "ACCESS_LOG": (lambda v: isinstance(v, bool), "a bool"),
    "LOG_LEVEL": (_log_level, 'a logging level ("DEBUG", "INFO", ...)'),
}


def _user_settings() -> Any:
    return getattr(settings, "WSGI_SIO", None) or {}


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """E002-E005: ``WSGI_SIO`` itself."""
    user = _user_settings()
    if not isinstance(user, dict):
        return [Error(f"WSGI_SIO must be a dict, not {type(user).__name__}",
                      hint='e.g. WSGI_SIO = {"PATH": "/socket.io/"}', id="wsgi_sio.E002")]
    errors: list[Any] = []
    known = conf.defaults()
    unknown = sorted(set(user) - set(known))
    if unknown:
        errors.append(Error(f"unknown WSGI_SIO keys: {', '.join(map(str, unknown))}",
                            hint=f"known: {', '.join(sorted(known))}", id="wsgi_sio.E003"))
    for key, value in user.items():
        if key in TYPES and not TYPES[key][0](value):
            errors.append(Error(f"WSGI_SIO[{key!r}] = {value!r}: must be {TYPES[key][1]}",
                                id="wsgi_sio.E004"))
    manager = user.get("MANAGER")
    if isinstance(manager, str):
        try:
            import_string(manager)
        except ImportError as exc:
            errors.append(Error(f"WSGI_SIO['MANAGER'] = {manager!r} cannot be imported: {exc}",
                                id="wsgi_sio.E005"))
    return errors


def _mounts_wsgi_sio(app: Any) -> bool:
    """Whether ``app`` is, or wraps (``.app``, ``.application``), a wsgi_sio middleware."""
    from wsgi_sio.middleware import SocketIOMiddleware

    seen = set()
    while app is not None and id(app) not in seen:
        seen.add(id(app))
        if isinstance(app, SocketIOMiddleware):
            return True
        app = getattr(app, "app", None) or getattr(app, "application", None)
    return False


def _imports_wsgi_sio(module: str) -> bool | None:
    """Whether the source of ``module`` imports from wsgi_sio; None if it cannot be read."""
    import ast
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        with open(spec.origin, encoding="utf-8") as source:
            tree = ast.parse(source.read(), spec.origin)
    except (ImportError, ValueError, OSError, SyntaxError):
        return None
    for node in ast.walk(tree):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(name == "wsgi_sio" or name.startswith("wsgi_sio.") for name in names):
            return True
    return False


@register(Tags.compatibility)
def check_wsgi_application(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """E001: the object gunicorn and friends will serve carries Socket.IO.

    A WSGI module already imported (runserver_sio, a server) is asked for its object; one
    that is not is read, not imported: importing it would build the server (and its
    manager's connections) in every management command that runs the checks."""
    path = getattr(settings, "WSGI_APPLICATION", None)
    if not path:
        return []
    module, _, attr = path.rpartition(".")
    if module in sys.modules:
        mounted = _mounts_wsgi_sio(getattr(sys.modules[module], attr, None))
    else:
        found = _imports_wsgi_sio(module)
        if found is None:
            return [Error(f"WSGI_APPLICATION {path!r}: no module {module!r} to read",
                          id="wsgi_sio.E001")]
        mounted = found
    if mounted:
        return []
    return [Error(f"WSGI_APPLICATION {path!r} does not mount wsgi_sio: runserver_sio adds it "
                  "by itself, but gunicorn or uWSGI would serve this object as it is, and "
                  "answer 404 under the Socket.IO path",
                  hint="in wsgi.py: from wsgi_sio.django import get_wsgi_application "
                       "(instead of django.core.wsgi's); silence wsgi_sio.E001 if another "
                       "WSGI module serves Socket.IO",
                  id="wsgi_sio.E001")]


@register(Tags.staticfiles)
def check_client_script(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """W001: the client that ``{% socketio_client %}`` loads is in the static files."""
    if not apps.is_installed("django.contrib.staticfiles"):
        return []
    from django.contrib.staticfiles import finders

    if finders.find(CLIENT):
        return []
    return [Warning(f"{CLIENT} is not in the static files: pages with {{% socketio_client %}} "
                    "get a 404 for the client script",
                    hint="install wsgi_sio from its wheel or sdist (make dist), which carry "
                         "it; a build from a git checkout needs npm for it (make setup)",
                    id="wsgi_sio.W001")]


def _risky_origins(origins: list[str]) -> list[str]:
    risky = []
    for origin in origins:
        local = origin.startswith(("http://localhost", "http://127.0.0.1", "http://[::1]"))
        if origin == "null" or "*" in origin or (origin.startswith("http://") and not local
                                                  and not settings.DEBUG):
            risky.append(origin)
    return risky


@register(Tags.security)
def check_origins(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """W002, W003, W005: origins whose pages may open sockets with the user's cookies."""
    user = _user_settings()
    warnings: list[Any] = []
    cors = user.get("CORS_ALLOWED_ORIGINS") if isinstance(user, dict) else None
    if isinstance(cors, (list, tuple)):
        risky = _risky_origins([o for o in cors if isinstance(o, str)])
        if risky:
            warnings.append(Warning(
                f"WSGI_SIO['CORS_ALLOWED_ORIGINS'] lets {', '.join(map(repr, risky))} connect "
                "with the user's cookies: \"null\" is any sandboxed page or file, a listed "
                "origin is matched exactly (no wildcards), plain HTTP can be forged on the way",
                hint='list exact https:// origins, or use "*" for anonymous cross-site clients',
                id="wsgi_sio.W002"))
    if isinstance(user, dict) and user.get("CHECK_REQUEST") is False and not settings.DEBUG:
        warnings.append(Warning(
            "WSGI_SIO['CHECK_REQUEST'] is off: Socket.IO requests skip the ALLOWED_HOSTS check "
            "(DNS rebinding) and Django's Origin rules (CSRF_TRUSTED_ORIGINS)",
            hint="remove it; clients without an Origin header (scripts) pass the checks anyway",
            id="wsgi_sio.W005"))
    trusted = getattr(settings, "CSRF_TRUSTED_ORIGINS", [])
    everyone = [o for o in trusted if o.rstrip("/") in ("https://*", "http://*", "*")]
    if everyone:
        warnings.append(Warning(
            f"CSRF_TRUSTED_ORIGINS trusts every site ({', '.join(map(repr, everyone))}): any "
            "page may open a socket with the user's cookies, as it may POST",
            hint="list the sites' origins (https://*.example.com wildcards work)",
            id="wsgi_sio.W003"))
    return warnings


@register(Tags.security)
def check_session_interval(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """W004: logins are used, but sockets are not re-validated against their session."""
    user = _user_settings()
    interval = user.get("SESSION_CHECK_INTERVAL", 60) if isinstance(user, dict) else 60
    logins = apps.is_installed("django.contrib.auth") and apps.is_installed("django.contrib.sessions")
    if interval or not logins:
        return []
    return [Warning(
        "WSGI_SIO['SESSION_CHECK_INTERVAL'] is off while django.contrib.auth is used: a socket "
        "stays logged in after a logout in another process, an expired session or a password "
        "change (only a logout in this process ends it)",
        hint="leave it at its default (60 s), or set the seconds between re-validations",
        id="wsgi_sio.W004")]
