"""The HTTP side of Engine.IO: error answers, CORS and origin checks, bounded body reads,
and the part of a handshake's environ that a session keeps.

Error answers follow the reference server (engine.io ``Server.errors``): status 400, or 403
for a refusal, with a JSON body ``{"code": N, "message": "..."}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_plus, urlsplit

log = logging.getLogger("wsgi_sio")

UNKNOWN_TRANSPORT = 0
UNKNOWN_SID = 1
BAD_HANDSHAKE_METHOD = 2
BAD_REQUEST = 3
FORBIDDEN = 4
UNSUPPORTED_PROTOCOL_VERSION = 5

MESSAGES = {
    UNKNOWN_TRANSPORT: "Transport unknown",
    UNKNOWN_SID: "Session ID unknown",
    BAD_HANDSHAKE_METHOD: "Bad handshake method",
    BAD_REQUEST: "Bad request",
    FORBIDDEN: "Forbidden",
    UNSUPPORTED_PROTOCOL_VERSION: "Unsupported protocol version",
}

StartResponse = Callable[..., Any]


class RequestRefused(Exception):
    """Raised by a connect hook to refuse a handshake with 403 / code 4."""

    def __init__(self, message: str = "Forbidden") -> None:
        super().__init__(message)
        self.message = message


class BodyTooLarge(Exception):
    pass


def parse_query(query: str, max_fields: int = 32) -> dict[str, str]:
    """The query string's parameters (the first value of each), for Engine.IO's few keys.

    ``urllib.parse.parse_qs`` is general and slow; every polling request needs this, and
    Engine.IO parameters are plain ASCII, so percent-decoding runs only when a value needs
    it. More than ``max_fields`` parameters is refused with ValueError, as parse_qs does.
    """
    params: dict[str, str] = {}
    if not query:
        return params
    fields = query.split("&")
    if len(fields) > max_fields:
        raise ValueError("too many query parameters")
    for field in fields:
        name, _, value = field.partition("=")
        if "%" in field or "+" in field:
            name = unquote_plus(name)
            value = unquote_plus(value)
        if name and name not in params:
            params[name] = value
    return params


def respond(start_response: StartResponse, status: str, body: bytes, content_type: str,
            extra: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    """A complete response, headers and body sent in one write (no Nagle stall)."""
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    headers.extend(extra)
    start_response(status, headers)
    return [body]


def error(start_response: StartResponse, code: int, message: str | None = None,
          extra: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    status = "403 Forbidden" if code == FORBIDDEN else "400 Bad Request"
    body = json.dumps({"code": code, "message": message or MESSAGES[code]},
                      separators=(",", ":"), ensure_ascii=False).encode()
    return respond(start_response, status, body, "application/json", extra)


class OriginPolicy:
    """Which browser origins may talk to the server, and which of them with the user's cookies.

    * ``None`` (the default): only the site's own origin.
    * a string or a list of origins: the site's own and those, trusted like it: CORS answers
      allow credentials, so their pages may use the user's cookies.
    * a callable ``(origin, environ) -> bool``: the same, decided per request (the Django
      integration passes its ``CSRF_TRUSTED_ORIGINS`` rules).
    * ``"*"``: any origin may connect, but a foreign one only *anonymously*. Browsers send
      cookies with a WebSocket handshake whatever the CORS answer, so a page on any site could
      otherwise open a socket as the visiting user (cross-site WebSocket hijacking). Under
      ``"*"`` a cross-origin handshake's ``Cookie`` and ``Authorization`` headers are not kept
      with its session, and CORS answers say ``Access-Control-Allow-Origin: *`` without
      credentials. List the origins you trust instead, to let them use cookies.

    Requests without an ``Origin`` header (non-browser clients) are allowed.
    """

    def __init__(self, allowed: str | Iterable[str] | Callable[[str, dict[str, Any]], bool] | None) -> None:
        self.any = allowed == "*"
        self.trusted: Callable[[str, dict[str, Any]], bool] | None = None
        self.origins: frozenset[str] | None = None
        if callable(allowed):
            self.trusted = allowed
        elif allowed is not None and not self.any:
            items = [allowed] if isinstance(allowed, str) else list(allowed)
            self.origins = frozenset(o.rstrip("/") for o in items)

    def allows(self, environ: dict[str, Any]) -> bool:
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or self.any or _same_origin(origin, environ):
            return True
        if self.trusted is not None:
            return bool(self.trusted(origin, environ))
        return self.origins is not None and origin in self.origins

    def anonymous(self, environ: dict[str, Any]) -> bool:
        """Whether this request may connect only without the user's credentials: a foreign
        origin let in by ``"*"`` alone."""
        origin = environ.get("HTTP_ORIGIN")
        return self.any and origin is not None and not _same_origin(origin, environ)

    def headers(self, environ: dict[str, Any]) -> list[tuple[str, str]]:
        """CORS headers for an allowed cross-origin request (none for same-origin ones)."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or (self.origins is None and self.trusted is None and not self.any):
            return []
        if _same_origin(origin, environ):
            return []
        if self.any:
            return [("Access-Control-Allow-Origin", "*")]
        return [("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Credentials", "true"),
                ("Vary", "Origin")]

    def preflight(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        headers = self.headers(environ) + [
            ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
            ("Access-Control-Max-Age", "86400"),
        ]
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if requested:
            headers.append(("Access-Control-Allow-Headers", requested))
        start_response("204 No Content", headers)
        return []


def _same_origin(origin: str, environ: dict[str, Any]) -> bool:
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc == environ.get("HTTP_HOST")


#: what a session started by an anonymous request (see ``OriginPolicy.anonymous``) forgets
CREDENTIAL_HEADERS = ("HTTP_COOKIE", "HTTP_AUTHORIZATION")


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The request body, reading at most ``limit + 1`` bytes; BodyTooLarge past ``limit``.

    An honest Content-Length over the limit is refused before reading anything. Without a
    Content-Length the body is read only where the server says the stream ends by itself
    (``wsgi.input_terminated``, e.g. chunked bodies under gevent), never by trusting the peer.
    """
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        if not (length.isascii() and length.isdigit()):
            raise ValueError("invalid Content-Length")
        # A length of 13 digits or more is over any limit: refused without converting it.
        size = int(length) if len(length) <= 12 else limit + 1
        if size > limit:
            raise BodyTooLarge(size)
        return _read_upto(stream, size)
    if not environ.get("wsgi.input_terminated"):
        return b""
    body = _read_upto(stream, limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(len(body))
    return body


def _read_upto(stream: Any, size: int) -> bytes:
    chunks = []
    left = size
    while left > 0:
        chunk = stream.read(min(left, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


#: a header value longer than this is not kept with the session (nginx and Apache refuse
#: header lines past 8 KiB by default; a Cookie header this long is no browser's)
MAX_KEPT_VALUE = 16384
#: header bytes a session keeps in all; the shortest headers are kept first
MAX_KEPT_HEADERS = 65536
#: the request's I/O objects: they belong to the request, not to the session
_REQUEST_OBJECTS = frozenset({"wsgi.input", "wsgi.errors", "wsgi.file_wrapper", "wsgi.websocket",
                              "wsgi.input_terminated", "gunicorn.socket"})


def session_environ(environ: dict[str, Any], anonymous: bool = False,
                    in_place: bool = False) -> dict[str, Any]:
    """What a session keeps of its handshake request, for ``Namespace.environ`` and Django.

    A session lives for hours; the request it started with may carry a hundred headers of
    64 KiB each. Keeping them all would let abandoned handshakes hold megabytes each until
    their connect timeout. So: CGI variables and headers up to ``MAX_KEPT_VALUE`` each and
    ``MAX_KEPT_HEADERS`` in all (shortest first: Host, Origin, Cookie and the like survive a
    flood of long ones), other WSGI values, but not the request's streams and sockets.
    ``anonymous``: forget the request's credentials too (``OriginPolicy.anonymous``).

    ``in_place``: for a WebSocket handshake, whose request lives as long as the session (its
    greenlet serves the connection with the environ in its frames): the same headers are
    removed from the request's own dict instead of copying it, which would cost every
    connection a second dict.
    """
    headers = []
    dropped = []
    for key, value in environ.items():
        if type(value) is str:
            if anonymous and key in CREDENTIAL_HEADERS or len(value) > MAX_KEPT_VALUE:
                dropped.append(key)
            elif key.startswith("HTTP_"):
                headers.append((len(key) + len(value), key))
    if sum(size for size, _ in headers) > MAX_KEPT_HEADERS:
        budget = MAX_KEPT_HEADERS
        for size, key in sorted(headers):
            if size > budget:
                dropped.append(key)
            else:
                budget -= size
    too_long = sorted(key for key in dropped if not (anonymous and key in CREDENTIAL_HEADERS))
    if too_long:
        log.info("handshake headers too long to keep with the session: %s", ", ".join(too_long[:10]))
    if in_place:
        for key in dropped:
            del environ[key]
        return environ
    gone = set(dropped)
    return {key: value for key, value in environ.items()
            if key not in gone and key not in _REQUEST_OBJECTS}
