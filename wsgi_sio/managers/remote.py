"""What the managers that span processes share, whatever carries their messages.

``RemoteSocket`` (a socket anywhere in the cluster, as ``fetch_sockets`` reports it), the
handshake and data of a local socket as Node's adapters send them, :class:`LocalMembership`
(this process's half of such a manager: its sockets and rooms, kept by an in-process manager,
and what it does with them when another server asks), :class:`DropLog` (dropped messages
logged without letting a flood of them flood the log) and :class:`Link` (whether Redis
answers, each outage logged once).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..runtime import Runtime
from .in_process import InProcessManager, Member
from .wire import dump_json


@dataclass
class RemoteSocket:
    """A socket somewhere in the cluster, as ``fetch_sockets`` reports it."""

    sid: str
    namespace: str
    rooms: set[str]
    handshake: dict[str, Any] = field(default_factory=dict)
    data: Any = None


class Served(Protocol):
    """What :class:`LocalMembership` needs of the server it serves (``wsgi_sio.Server`` is
    one): its runtime and its namespaces."""

    @property
    def runtime(self) -> Runtime: ...
    def namespace_paths(self) -> list[str]: ...


class LocalMembership:
    """The sockets and rooms of this process in a manager that spans processes, and what
    is done with them when another server asks.

    The manager *has* an in-process manager (``local``); membership is delegated to it as
    is, so what arrives from other servers is applied with ``local`` and never sent again.
    The manager sets the attributes below and defines ``_want`` (note the channels of a
    namespace seen for the first time, adding it to ``_namespaces``) and ``_channels_of``
    (the channels of those namespaces, to subscribe to).
    """

    local: InProcessManager
    server: Served | None
    _log: logging.Logger
    _namespaces: set[str]  # whose channels we want
    _listening: set[str]   # whose channels the live pub/sub connection has
    _server_handlers: dict[tuple[str, str], Callable[..., Any]]

    def _want(self, namespace: str) -> None:
        raise NotImplementedError

    def _channels_of(self, namespaces: set[str]) -> list[bytes]:
        raise NotImplementedError

    # -- membership: this process's sockets -----------------------------------------------

    def add(self, socket: Member) -> None:
        if socket.namespace not in self._namespaces:
            self._want(socket.namespace)  # a dynamic namespace seen for the first time
        self.local.add(socket)

    def remove(self, socket: Member) -> None:
        self.local.remove(socket)

    def join(self, socket: Member, room: str) -> None:
        self.local.join(socket, room)

    def leave(self, socket: Member, room: str) -> None:
        self.local.leave(socket, room)

    def rooms_of(self, socket: Member) -> frozenset[str]:
        return self.local.rooms_of(socket)

    def get(self, namespace: str, sid: str) -> Any:
        """The socket ``sid`` of ``namespace`` if it is in this process, or None."""
        return self.local.get(namespace, sid)

    def members(self, namespace: str, rooms: str | Iterable[str] | None = None,
                skip: str | Iterable[str] | None = None) -> list[Any]:
        """The sockets of *this process* in ``rooms`` minus ``skip`` (see ``fetch_sockets``)."""
        return self.local.members(namespace, rooms, skip)

    def has_room(self, namespace: str, room: str) -> bool:
        return self.local.has_room(namespace, room)

    def room_names(self, namespace: str) -> set[str]:
        return self.local.room_names(namespace)

    def list_sockets(self, namespace: str, rooms: str | Iterable[str] | None = None) -> list[tuple[str, set[str]]]:
        """(sid, rooms) of every socket of the cluster in ``rooms``."""
        return [(s.sid, s.rooms) for s in self.fetch_sockets(namespace, rooms)]

    def fetch_sockets(self, namespace: str, rooms: str | Iterable[str] | None = None,
                      skip: str | Iterable[str] | None = None,
                      timeout: float | None = None) -> list[RemoteSocket]:
        raise NotImplementedError

    def on_server_event(self, event: str, handler: Callable[..., Any] | None = None,
                        namespace: str = "/") -> Any:
        """Register ``handler(*args)`` for server-side events from other servers (decorator too).

        It runs in its own greenlet/thread; its return value answers a
        ``serverSideEmitWithAck`` (Node's, or :class:`.RedisStreamsManager`'s
        ``server_side_emit_with_ack``).
        """
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._server_handlers[(namespace, event)] = fn
            return fn
        return register(handler) if handler is not None else register

    # -- for the other servers -------------------------------------------------------------

    def _here(self, namespace: str, rooms: str | Iterable[str] | None,
              skip: str | Iterable[str] | None) -> list[RemoteSocket]:
        """This process's part of ``fetch_sockets``."""
        return [RemoteSocket(s.sid, namespace, set(self.local.rooms_of(s)), handshake_of(s), data_of(s))
                for s in self.members(namespace, rooms, skip)]

    def _fetch_answer(self, namespace: str, rooms: list[str], except_: list[str]) -> list[dict[str, Any]]:
        """The sockets of this process in ``rooms`` minus ``except_``, as Node's adapters
        answer a fetch request."""
        return [{"id": s.sid, "handshake": handshake_of(s), "rooms": sorted(self.local.rooms_of(s)),
                 "data": data_of(s)}
                for s in self.members(namespace, rooms or None, except_ or None)]

    def _change_rooms(self, namespace: str, join: bool, names: list[str], rooms: list[str],
                      except_: list[str]) -> None:
        """Another server's join (or leave): the sockets of this process in ``rooms`` minus
        ``except_`` join (or leave) each of ``names``."""
        apply = self.local.join_many if join else self.local.leave_many
        for room in names:
            apply(namespace, room, rooms or None, except_ or None)

    def _disconnect_members(self, namespace: str, rooms: list[str], except_: list[str],
                            close: bool) -> None:
        """Another server's disconnect of the sockets in ``rooms`` minus ``except_``;
        ``close``: their connections too."""
        for socket in self.members(namespace, rooms or None, except_ or None):
            socket.disconnect()
            if close:
                socket.client.sock.close()

    def _server_side_event(self, namespace: str, data: list[Any],
                           answer: Callable[[Any], None] | None) -> None:
        """Run the handler of another server's server-side event in its own greenlet/thread;
        ``answer``: what to do with its return value, when the sender wants one."""
        handler = self._server_handlers.get((namespace, data[0]))
        if handler is None:
            self._log.debug("no handler for server-side event %r on %s", data[0], namespace)
            return

        def run() -> None:
            try:
                result = handler(*data[1:])
            except Exception:  # noqa: BLE001 - the application's handler: logged with its traceback
                self._log.exception("server-side event handler for %r raised", data[0])
                return
            if answer is not None:
                answer(result)

        assert self.server is not None
        self.server.runtime.spawn(run)

    def _subscribe_wanted(self, pubsub: Any) -> None:
        # namespaces registered on the server after it was made (the usual order)
        for name in self.server.namespace_paths() if self.server is not None else ():
            if name not in self._namespaces:
                self._want(name)
        missing = self._namespaces - self._listening
        if missing:
            pubsub.subscribe(*self._channels_of(missing))
            self._listening |= missing


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
