"""Which :class:`~wsgi_sio.runtime.Runtime` serves the calling code: gevent's or threads'.

The choice needs both runtimes: the threads' one in :mod:`wsgi_sio.runtime`, the bottom layer
the engine types against, and gevent's in :mod:`wsgi_sio.green`, which builds on it. Made in
either of them, it had the two import each other; made here, one layer above both and below
the engine (its only caller), every import points down. gevent's runtime is imported only once
gevent is loaded, so a threaded server never imports gevent.

Importing this module also asks :mod:`wsgi_sio.runtime` to tell it of every claimed path
(``runtime.when_claimed``): a claim made while gevent is loaded loads :mod:`wsgi_sio.green`,
whose import gives gevent's ``WSGIServer`` the ``pre_start_hook`` that keeps
gevent-websocket's handler off claimed paths from the first request on (under gunicorn's
gevent workers, nothing else of wsgi_sio imports it before that request).
"""

from __future__ import annotations

import sys

from . import runtime
from .runtime import Runtime


def gevent_loaded() -> bool:
    """Whether gevent has been imported in this process (asked without importing it)."""
    return "gevent" in sys.modules


def detect(explicit: str | None = None) -> Runtime:
    """The runtime for requests served by the calling thread or greenlet: ``explicit``
    ("gevent" or "threading", a server's ``async_mode``), or gevent's when the caller runs
    in a greenlet or gevent has patched threading, threads' otherwise."""
    mode = explicit
    if mode is None:
        mode = "threading"
        if gevent_loaded():
            from .green.runtime import gevent_in_use

            if gevent_in_use():
                mode = "gevent"
    if mode == "gevent":
        from .green.runtime import GeventRuntime

        return GeventRuntime()
    if mode == "threading":
        return Runtime()
    raise ValueError(f"unknown async_mode {mode!r}: use 'gevent' or 'threading'")


def _load_gevent_front_end() -> None:
    if gevent_loaded():
        from . import green  # noqa: F401 (importing it installs the pre_start_hook)


runtime.when_claimed(_load_gevent_front_end)
