"""Who may open a socket: Django's ALLOWED_HOSTS and CSRF origin rules, on every request.

A Socket.IO connection rides on the user's session cookie, so a page on another site that
opens one could act as the user (cross-site WebSocket hijacking). Browsers send ``Origin`` on
WebSocket handshakes and on cross-origin requests, so each request under the Socket.IO path
(the polling handshake, every polling POST, the WebSocket upgrade before its 101) is checked
the way Django's ``CsrfViewMiddleware`` checks a POST: the Origin must be the site's own or
listed in ``CSRF_TRUSTED_ORIGINS`` (wildcard subdomains included). The Host must pass
``ALLOWED_HOSTS`` as in ``HttpRequest.get_host()``. A refusal is a 403 with Engine.IO code 4,
before any handler runs. Requests without an Origin (non-browser clients) are let through,
as Django does for requests that carry no Origin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain


def allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]  # as HttpRequest.get_host() in DEBUG
    return hosts


def request_host(environ: dict[str, Any]) -> str:
    """The Host the way Django's ``HttpRequest._get_raw_host()`` reads it."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        return environ["HTTP_X_FORWARDED_HOST"]
    if "HTTP_HOST" in environ:
        return environ["HTTP_HOST"]
    # No Host header: rebuilt as PEP 3333 says, with the port and scheme that Django's
    # get_port() and is_secure() see (a TLS proxy's headers included).
    host = environ.get("SERVER_NAME", "")
    if settings.USE_X_FORWARDED_PORT and "HTTP_X_FORWARDED_PORT" in environ:
        port = str(environ["HTTP_X_FORWARDED_PORT"])
    else:
        port = str(environ.get("SERVER_PORT", ""))
    if port and port != ("443" if is_secure(environ) else "80"):
        host = f"{host}:{port}"
    return host


def is_secure(environ: dict[str, Any]) -> bool:
    header = settings.SECURE_PROXY_SSL_HEADER
    if header:
        name, value = header
        forwarded = environ.get(name)
        if forwarded is not None:
            return forwarded.split(",")[0].strip() == value
    return environ.get("wsgi.url_scheme") == "https"


def origin_trusted(origin: str, environ: dict[str, Any]) -> bool:
    """The rules of ``CsrfViewMiddleware._origin_verified``."""
    own = f"{'https' if is_secure(environ) else 'http'}://{request_host(environ)}"
    if origin == own:
        return True
    trusted = list(settings.CSRF_TRUSTED_ORIGINS)
    if origin in trusted:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if not parts.scheme or not parts.netloc:
        return False
    for entry in trusted:
        if "*" not in entry:
            continue
        trusted_parts = urlsplit(entry)
        if (trusted_parts.scheme == parts.scheme
                and is_same_domain(parts.netloc, trusted_parts.netloc.lstrip("*"))):
            return True
    return False


def make_allow_request(check_origin: bool) -> Callable[[dict[str, Any]], str | None]:
    """The ``allow_request`` hook of the Django server: None to let through, or why not."""
    def allow_request(environ: dict[str, Any]) -> str | None:
        host = request_host(environ)
        domain, _port = split_domain_port(host)
        if not domain or not validate_host(domain, allowed_hosts()):
            return f"Host {host!r} is not in ALLOWED_HOSTS"
        origin = environ.get("HTTP_ORIGIN")
        if check_origin and origin is not None and not origin_trusted(origin, environ):
            return f"Origin {origin!r} is neither this site's nor in CSRF_TRUSTED_ORIGINS"
        return None

    return allow_request
