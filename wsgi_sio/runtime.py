"""Concurrency primitives, chosen for the server the app really runs under.

wsgi_sio must work unchanged under gevent (pywsgi, gevent-websocket's handler, gunicorn's
gevent workers) and under plain threaded WSGI servers (Django's ``runserver``, wsgiref), where
only long-polling is possible. Everything above this module asks a :class:`Runtime` for
``spawn``, ``Event``, ``Lock`` and ``sleep`` instead of importing gevent or threading, so
the choice is made once, here. gevent itself is imported only in :mod:`wsgi_sio.green`.
"""

from __future__ import annotations

import sys
import threading
import time
import weakref
from typing import Any, Callable, Protocol


class Waitable(Protocol):
    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class Runtime:
    """Threads: the fallback for servers that are not gevent (long-polling only)."""

    name = "threading"

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

    def raw_connection(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
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


_claims: list[weakref.WeakMethod[Callable[[str], bool]]] = []


def claim_path(handles: Callable[[str], bool]) -> None:
    """Declare the requests for which ``handles(PATH_INFO)`` is true wsgi_sio's own, before any
    request arrives.

    gevent-websocket's handler upgrades WebSocket requests on any path before the application
    runs, and answers a malformed one with a 500; on a claimed path it leaves the request to
    wsgi_sio (``green`` installs the hook it asks). ``handles`` is a bound method, held weakly:
    a server that is gone claims nothing.
    """
    _claims[:] = [ref for ref in _claims if ref() is not None]
    ref = weakref.WeakMethod(handles)  # type: ignore[arg-type]
    if ref not in _claims:
        _claims.append(ref)
    if "gevent" in sys.modules:
        from . import green  # noqa: F401 (importing it installs the hook)


def claimed(path: str) -> bool:
    """Whether a live wsgi_sio server has claimed ``path`` (see :func:`claim_path`)."""
    for ref in _claims:
        handles = ref()
        if handles is not None and handles(path):
            return True
    return False


def _gevent_in_use() -> bool:
    """True when the calling code runs inside a gevent greenlet or gevent has patched threads.

    Either way blocking on a ``threading`` primitive would stall the whole hub, so gevent's own
    primitives must be used.
    """
    gevent = sys.modules.get("gevent")
    if gevent is None:
        return False
    from gevent import monkey

    if monkey.is_module_patched("threading"):
        return True
    import greenlet

    return isinstance(greenlet.getcurrent(), gevent.Greenlet)


def detect(explicit: str | None = None) -> Runtime:
    """The runtime to use for requests served by the calling thread or greenlet."""
    mode = explicit or ("gevent" if _gevent_in_use() else "threading")
    if mode == "gevent":
        from .green import GeventRuntime

        return GeventRuntime()
    if mode == "threading":
        return Runtime()
    raise ValueError(f"unknown async_mode {mode!r}: use 'gevent' or 'threading'")
