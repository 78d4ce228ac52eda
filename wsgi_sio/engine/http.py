"""The HTTP side of Engine.IO: error answers, CORS and origin checks, bounded body reads.

Error answers follow the reference server (engine.io ``Server.errors``): status 400, or 403
for a refusal, with a JSON body ``{"code": N, "message": "..."}``.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable
from urllib.parse import unquote_plus, urlsplit

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
    """Which browser origins may talk to the server.

    ``None`` (the default) allows only the site's own origin, so a page elsewhere cannot open a
    socket riding on the user's cookies; ``"*"`` allows every origin; a string or list names
    the allowed ones. Requests without an ``Origin`` header (non-browser clients) are allowed.
    """

    def __init__(self, allowed: str | Iterable[str] | None) -> None:
        if allowed is None:
            self.any = False
            self.origins: frozenset[str] | None = None
        elif allowed == "*":
            self.any = True
            self.origins = None
        else:
            self.any = False
            items = [allowed] if isinstance(allowed, str) else list(allowed)
            self.origins = frozenset(o.rstrip("/") for o in items)

    def allows(self, environ: dict[str, Any]) -> bool:
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or self.any:
            return True
        if self.origins is not None:
            return origin in self.origins
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:
            return False
        return bool(netloc) and netloc == environ.get("HTTP_HOST")

    def headers(self, environ: dict[str, Any]) -> list[tuple[str, str]]:
        """CORS headers for an allowed cross-origin request (none for same-origin ones)."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or (self.origins is None and not self.any):
            return []
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
