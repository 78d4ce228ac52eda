"""What the managers that span processes share, whatever carries their messages.

``RemoteSocket`` (a socket anywhere in the cluster, as ``fetch_sockets`` reports it), the
handshake and data of a local socket as Node's adapters send them, :class:`DropLog` (dropped
messages logged without letting a flood of them flood the log) and :class:`Link` (whether
Redis answers, each outage logged once).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .wire import dump_json


@dataclass
class RemoteSocket:
    """A socket somewhere in the cluster, as ``fetch_sockets`` reports it."""

    sid: str
    namespace: str
    rooms: set[str]
    handshake: dict[str, Any] = field(default_factory=dict)
    data: Any = None


class DropLog:
    """Logs dropped messages without letting a flood of them flood the log.

    The first drop is logged with its details. It opens a window of ``interval`` seconds in
    which drops are only counted; when the window ends with drops in it, one line says how
    many (by reason) and what the latest was, and a new window opens; a window without drops
    closes, and the next drop is logged in full again. Time is passed in (``now``), so the
    rules can be followed without a clock; :meth:`tick` ends a window when no drop does.
    """

    def __init__(self, interval: float, log: logging.Logger) -> None:
        self.interval = interval
        self.log = log
        self.window_end: float | None = None  # None: no window open
        self.unshown: Counter[str] = Counter()
        self.latest = ""

    def drop(self, reason: str, where: str, detail: str, now: float) -> None:
        if self.window_end is None:
            self.log.warning("dropped a Redis message on %s (%s): %s; further drops are "
                             "summarised at most every %g s", where, reason, clip(detail),
                             self.interval)
            self.window_end = now + self.interval
            return
        self.unshown[reason] += 1
        self.latest = f"on {where} ({reason}): {clip(detail)}"
        self.tick(now)

    def tick(self, now: float) -> None:
        if self.window_end is None or now < self.window_end:
            return
        if not self.unshown:
            self.window_end = None
            return
        self.log.warning("dropped %d more Redis messages (%s); the latest %s",
                         sum(self.unshown.values()),
                         ", ".join(f"{reason}: {n}" for reason, n in sorted(self.unshown.items())),
                         self.latest)
        self.unshown.clear()
        self.window_end = now + self.interval


class Link:
    """Whether Redis answers each part of a manager (its reader, listener, writer...): an
    outage is logged once, when the first part loses Redis, and once when the last is back."""

    def __init__(self, url: str, counters: Counter[str], log: logging.Logger, back_text: str) -> None:
        self.url = url
        self.counters = counters
        self.log = log
        self.back_text = back_text
        self.down: set[str] = set()
        self.down_since: float | None = None

    @property
    def up(self) -> bool:
        return self.down_since is None

    def is_down(self, part: str) -> bool:
        return part in self.down

    def lost(self, part: str, exc: BaseException) -> None:
        self.down.add(part)
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.counters["outages"] += 1
            self.log.error("Redis at %s is unreachable (%s): serving local clients only; "
                           "retrying", self.url, exc)

    def back(self, part: str) -> None:
        if part not in self.down:
            return
        self.down.discard(part)
        if not self.down and self.down_since is not None:
            lasted = time.monotonic() - self.down_since
            self.down_since = None
            self.log.warning("Redis at %s is back after %.1f s; %s", self.url, lasted, self.back_text)


def handshake_of(socket: Any) -> dict[str, Any]:
    """The handshake as Node's ``socket.handshake``, built from the WSGI environ."""
    environ = socket.environ
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
               if key.startswith("HTTP_") and isinstance(value, str)}
    query = environ.get("QUERY_STRING", "")
    return {
        "headers": headers,
        "address": environ.get("REMOTE_ADDR"),
        "xdomain": "origin" in headers,
        "secure": environ.get("wsgi.url_scheme") == "https",
        "url": environ.get("PATH_INFO", "") + ("?" + query if query else ""),
        "query": dict(urllib.parse.parse_qsl(query)),
        "auth": socket.auth if isinstance(socket.auth, dict) else {},
    }


def data_of(socket: Any) -> Any:
    """``socket.session`` when it is plain JSON (Node: ``socket.data``), else None."""
    try:
        return json.loads(dump_json(socket.session))
    except (TypeError, ValueError):
        return None


def safe_url(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


def clip(text: str, limit: int = 200) -> str:
    """Text of a peer's for the log, cut short: one message must not make a huge log line."""
    return text if len(text) <= limit else text[:limit] + "..."


def quietly(fn: Callable[[], Any]) -> None:
    # closing a connection that may be broken already: whatever it raises changes nothing
    with contextlib.suppress(Exception):
        fn()
