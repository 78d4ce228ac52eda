"""Concurrency primitives and server capabilities, as the layers above ask for them.

wsgi_sio must work unchanged under gevent (pywsgi, gevent-websocket's handler, gunicorn's
gevent workers) and under plain threaded WSGI servers (Django's ``runserver``, wsgiref), where
only long-polling is possible. Everything above this module asks a :class:`Runtime` for
``spawn``, ``Event``, ``Lock`` and ``sleep``, and for what the server running it can do
(switch a connection to WebSocket, honour an application's ``Connection: close``), instead of
importing gevent or threading or asking which server it is.

This module is the bottom of that arrangement: it defines the interface, the threads' runtime
and the small ``Protocol`` types the engine writes against, and imports neither gevent nor
:mod:`wsgi_sio.green` (gevent's runtime, which builds on this one). Which runtime serves a
request is decided one layer up, in :mod:`wsgi_sio.runtime_choice`, the one module that knows
both, so neither of them has to import the other.
"""

from __future__ import annotations

import enum
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from .protocol.routing import MAX_HOST_LENGTH, Route, compose_sid, new_tag, valid_host


class Waitable(Protocol):
    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class UpgradedConnection(Protocol):
    """The byte stream under a request switched to WebSocket (``Runtime.raw_connection``).

    ``handshake_done`` says whether the server's handler has already written the 101
    (gevent-websocket) or the engine has to (then it calls ``handshake_sent`` after it).
    """

    handshake_done: bool

    def handshake_sent(self) -> None: ...
    def recv(self, size: int) -> bytes: ...
    def sendall(self, data: bytes) -> None: ...
    def send_nowait(self, data: bytes) -> int: ...
    def close(self) -> None: ...


class Handoff(enum.Enum):
    """What became of a request for a session that another process of this host owns
    (``Runtime.hand_off``)."""

    #: the owner has the client's connection now, and answers it; this process writes nothing
    DONE = "done"
    #: the owner is gone (its process exited): the session is unknown
    OWNER_GONE = "owner gone"
    #: the owner did not take the connection in time (stopped, overloaded)
    OWNER_BUSY = "owner busy"
    #: this server cannot pass connections on (threads, no group of workers, TLS, a body
    #: already read by another middleware)
    NOT_POSSIBLE = "not possible"


_tag: str | None = None
_sid_prefix: str | None = None


def worker_tag() -> str:
    """This process's tag, the part of every sid it makes that names it as the owner.

    Made at first use, and made anew in a forked child (gunicorn may load the application in
    its master, ``preload_app``, and every worker must still have a tag of its own).
    """
    global _tag
    if _tag is None:
        _tag = new_tag()
    return _tag


def _forget_tag() -> None:
    global _tag, _sid_prefix
    _tag = None
    _sid_prefix = None


os.register_at_fork(after_in_child=_forget_tag)

#: the host part of this process's sids: ``WSGI_SIO_HOST_ID`` (letters and digits), so that a
#: load balancer can route on it; None: no host part
HOST_ID = os.environ.get("WSGI_SIO_HOST_ID") or None
if HOST_ID is not None and not valid_host(HOST_ID):
    raise ValueError(f"WSGI_SIO_HOST_ID is 1 to {MAX_HOST_LENGTH} letters and digits: {HOST_ID!r}")


def own_route() -> Route:
    """The route that this process's sids carry."""
    return Route(HOST_ID, worker_tag())



def sid_prefix() -> str:
    """What every sid this process makes starts with (its route, then the dot before the
    token): composed once, as a handshake needs it every time."""
    global _sid_prefix
    if _sid_prefix is None:
        _sid_prefix = compose_sid(own_route(), "")
    return _sid_prefix


_handler_sink = threading.local()


def send_handler_work_to(sink: Callable[[Callable[[], Any]], None] | None) -> None:
    """From now on, handler work that the calling thread would start a worker for is handed
    to ``sink(work)`` instead (None: workers again). For :mod:`wsgi_sio.testing`, which runs
    handlers on the test's own thread (Django's TestCase: its transaction and connection)."""
    _handler_sink.sink = sink


class Runtime:
    """Threads: the fallback for servers that are not gevent (long-polling only).

    The methods from ``websocket_capable`` on are the hooks into the server that is running
    the application, and the class attributes its capabilities; here, the answers of a
    wsgiref-based server, which can do none of it.
    """

    name = "threading"
    #: Whether a response may say ``Connection: close`` and the server then closes the
    #: connection. wsgiref-based servers refuse hop-by-hop headers from applications with a
    #: 500 (PEP 3333), so a threaded runtime never says it.
    honours_connection_close = False

    def spawn(self, fn: Callable[..., Any], *args: Any) -> Any:
        thread = threading.Thread(target=fn, args=args, daemon=True)
        thread.start()
        return thread

    def event(self) -> Waitable:
        return threading.Event()

    def lock(self) -> Any:
        """A lock that may be held across blocking calls (a socket write)."""
        return threading.Lock()

    def guard(self) -> Any:
        """A lock for short sections that never block: real between threads."""
        return threading.Lock()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def spawn_handlers(self, work: Callable[[], Any]) -> None:
        """Start the worker that runs a connection's queued handlers (see engine.ordered);
        a thread that called :func:`send_handler_work_to` hands ``work`` to its sink."""
        sink = getattr(_handler_sink, "sink", None)
        if sink is not None:
            sink(work)
        else:
            self.spawn(work)

    def spawn_task(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Like ``spawn``, for a task that may have to be stopped with ``kill``."""
        return self.spawn(fn, *args)

    def kill(self, task: Any) -> None:
        """Stop a task from ``spawn_task`` that is blocked, and wait until it has stopped."""
        raise NotImplementedError("threads cannot be killed")

    def current(self) -> Any:
        """The running thread or greenlet."""
        return threading.current_thread()

    def defer(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` soon, after the caller's current step; it must not block."""
        fn(*args)

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()

    def websocket_capable(self, start_response: Callable[..., Any]) -> bool:
        """Whether the server running us can switch a connection to WebSocket."""
        return False

    def raw_connection(self, environ: dict[str, Any],
                       start_response: Callable[..., Any]) -> UpgradedConnection | None:
        """The raw byte stream under an ``Upgrade: websocket`` request, or None."""
        return None

    def claim_upgrades(self, environ: dict[str, Any], start_response: Callable[..., Any],
                       handles: Callable[[str], bool]) -> bool:
        """Make sure the server lets us do the WebSocket handshakes on our path (see green)."""
        return True

    def say_close(self, start_response: Callable[..., Any]) -> Callable[..., Any]:
        """``start_response`` for a request that asked for ``Connection: close``, made to say
        so in the response where the server would close without saying it (see green).
        Unchanged here: wsgiref-based servers refuse hop-by-hop headers from applications."""
        return start_response

    def limit_chunks(self, environ: dict[str, Any], limit: int,
                     too_large: Callable[[int], Exception]) -> None:
        """Have a chunked request body refuse, with ``too_large(size)`` raised from its read, a
        chunk announced larger than ``limit`` instead of waiting for it (see green)."""

    def on_worker_exit(self, environ: dict[str, Any], callback: Callable[[], Any]) -> None:
        """Run ``callback`` when the worker serving ``environ`` is told to stop gracefully
        (SIGTERM to a gunicorn worker; see green). Nothing to hook under threads."""

    def join_group(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> bool:
        """Make this process reachable by the other workers of its group, so that they can
        pass it the connections of its sessions (see green). False: it has no group."""
        return False

    def hand_off(self, environ: dict[str, Any], start_response: Callable[..., Any],
                 route: Route) -> Handoff:
        """Pass this request's connection to the process of this host that ``route`` names,
        which then answers it (see green). Threads cannot."""
        return Handoff.NOT_POSSIBLE

    def locality(self, environ: dict[str, Any]) -> str:
        """Which processes this one can hand connections to: those with the same locality
        (the same host and group, see green); others are reached by relaying the request."""
        return f"solo/{worker_tag()}"

    def listening_address(self, start_response: Callable[..., Any]) -> tuple[str, int] | None:
        """The address the server running this request listens on, if it is a TCP one."""
        return None

    def relay(self, environ: dict[str, Any], start_response: Callable[..., Any],
              address: tuple[str, int], header: str, idle_timeout: float) -> Handoff:
        """Carry this request's connection, as it is, to the server at ``address`` (another
        host's), the request marked with the relay ``header`` (see green). Threads cannot."""
        return Handoff.NOT_POSSIBLE

    def handoff_counts(self) -> dict[str, int]:
        """Connections this process passed to its peers and took from them (see green)."""
        return {}


_claims: list[weakref.WeakMethod[Callable[[str], bool]]] = []
_claim_listeners: list[Callable[[], None]] = []


def claim_path(handles: Callable[[str], bool]) -> None:
    """Declare the requests for which ``handles(PATH_INFO)`` is true wsgi_sio's own, before any
    request arrives.

    gevent-websocket's handler upgrades WebSocket requests on any path before the application
    runs, and answers a malformed one with a 500; on a claimed path it leaves the request to
    wsgi_sio (through the hook :mod:`wsgi_sio.green` installs). ``handles`` is a bound method,
    held weakly: a server that is gone claims nothing. Then the listeners registered with
    :func:`when_claimed` run.
    """
    _claims[:] = [ref for ref in _claims if ref() is not None]
    ref = weakref.WeakMethod(handles)  # type: ignore[arg-type]
    if ref not in _claims:
        _claims.append(ref)
    for listener in _claim_listeners:
        listener()


def when_claimed(listener: Callable[[], None]) -> None:
    """Call ``listener()`` after every :func:`claim_path`.

    How a layer above learns of claims without this module importing it:
    :mod:`wsgi_sio.runtime_choice` loads gevent's front end then, so that its hook answers
    for claimed paths from the first request on.
    """
    if listener not in _claim_listeners:
        _claim_listeners.append(listener)


def claimed(path: str) -> bool:
    """Whether a live wsgi_sio server has claimed ``path`` (see :func:`claim_path`)."""
    for ref in _claims:
        handles = ref()
        if handles is not None and handles(path):
            return True
    return False
