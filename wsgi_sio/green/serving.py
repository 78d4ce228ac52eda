"""Serving a WSGI application from a process of its own, on gevent.

One :func:`serve` for ``python -m wsgi_sio`` and ``manage.py runserver_sio``: the listening
server (:func:`make_server`, with our handler), the collector tuned for many long-lived
connections (:func:`tune_gc`), and a graceful stop on SIGTERM/SIGINT that closes every client
first (:func:`drain`), for the Engine.IO servers found behind the application's middleware
(:func:`engines_of`). And the process-wide parts of running on gevent: the monkey-patching
(:func:`patch_all`) and a gunicorn worker's SIGTERM (:func:`chain_sigterm`).
"""

from __future__ import annotations

import gc
import inspect
import logging
import signal
import socket
import types
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
from gevent import monkey, pywsgi

from .. import runtime as runtime_mod
from .handler import WSGIHandler

log = logging.getLogger("wsgi_sio")


def make_server(app: Callable[..., Any], host: str = "", port: int = 0, *,
                listener: socket.socket | None = None,
                header_timeout: float | None = WSGIHandler.header_timeout,
                body_timeout: float | None = WSGIHandler.body_timeout,
                **kw: Any) -> pywsgi.WSGIServer:
    """A gevent WSGI server for ``app`` on ``host:port`` (port 0 picks a free one), or on
    ``listener``, a socket already bound and listening (then ``host`` and ``port`` are unused).

    ``listener`` is how the children of ``python -m wsgi_sio --workers N`` share the port their
    master bound. It must be a gevent socket (made after :func:`patch_all`, or wrapped as
    ``socket.socket(fileno=s.detach())`` then): gevent's accept loop expects a non-blocking
    socket, and with a blocking one every worker but the one that wins a connection would
    block its hub in ``accept()``.
    """
    if "handler_class" not in kw:
        kw["handler_class"] = type("WSGIHandler", (WSGIHandler,), {
            "header_timeout": header_timeout, "body_timeout": body_timeout})
    kw.setdefault("log", None)
    kw.setdefault("error_log", log)
    # Raw greenlets for connections: a gevent.Greenlet also records where it was spawned
    # (for greenlet trees), which every idle WebSocket would carry for its whole life.
    kw.setdefault("spawn", gevent.spawn_raw)
    return pywsgi.WSGIServer(listener if listener is not None else (host, port),
                             _direct_callable(app), **kw)


def _direct_callable(app: Callable[..., Any]) -> Callable[..., Any]:
    """``app.__call__`` as a bound method when it is Python code.

    Calling an instance goes through C (the type's call slot), and every WebSocket's greenlet
    keeps that C frame on its saved stack for the life of the connection; a bound method of a
    Python function is called by the interpreter without it (~0.7 KB less per connection).
    """
    call = inspect.getattr_static(type(app), "__call__", None)
    if isinstance(call, types.FunctionType):
        return types.MethodType(call, app)  # what app.__call__ gives
    return app


def patch_all() -> None:
    """Make the standard library cooperative; must run before the app is imported."""
    monkey.patch_all()


def patched() -> bool:
    """Whether the standard library is already cooperative (sockets and threads patched)."""
    return monkey.is_module_patched("socket") and monkey.is_module_patched("threading")


GC_THRESHOLD = (50_000, 50, 100)


def tune_gc() -> None:
    """Collect cyclic garbage less often, and never scan what exists at start-up.

    A server holding thousands of connections has tens of thousands of long-lived objects;
    with CPython's default thresholds (700, 10, 10) the collector walks them often enough to
    add ~10 ms to the slowest deliveries of a broadcast (bench: p99 latency at 20 broadcasts/s
    to 1,000 clients, 23-30 ms with the defaults, 18 ms with these). Garbage without cycles
    is freed at once by reference counting either way. For processes this module starts
    (``python -m wsgi_sio``, ``runserver_sio``); under gunicorn, call it from ``post_fork``.
    """
    gc.collect()
    gc.freeze()  # the app and its modules, loaded by now, are not scanned again
    gc.set_threshold(*GC_THRESHOLD)


def announce(host: str, port: int) -> None:
    """Say where the server listens, in the line tools wait for (it ends with the URL)."""
    print(f"wsgi_sio: serving on http://{host}:{port}/", flush=True)


def serve(app: Callable[..., Any], host: str = "", port: int = 0, *,
          listener: socket.socket | None = None, access_log: bool = False,
          handler: str = "pywsgi", header_timeout: float | None = 60.0,
          body_timeout: float | None = 60.0,
          on_listening: Callable[[str, int], Any] = announce,
          stop_signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT),
          stop_timeout: float = 5.0) -> None:
    """Serve ``app`` until one of ``stop_signals``; then close every Socket.IO client and stop.

    ``handler``: "pywsgi" (our :class:`WSGIHandler`) or "gevent-websocket" (its
    ``WebSocketHandler``). ``listener``: a socket already bound and listening, served instead
    of binding ``host:port`` (see :func:`make_server`). ``on_listening(host, port)`` runs once
    the port is bound (by default it prints where); an ``OSError`` before that is a failure to
    bind, left to the caller. A signal left out of ``stop_signals`` keeps Python's handling: SIGINT as a
    ``KeyboardInterrupt`` in the waiting greenlet also stops the server gracefully, and
    elsewhere (the autoreloader's main thread under ``runserver_sio``) ends the process.
    ``stop_timeout``: seconds the requests still running get after the clients are closed.
    """
    for engine in engines_of(app):
        runtime_mod.claim_path(engine.handles)  # before the first request (gevent-websocket)
    options: dict[str, Any] = {"log": "default" if access_log else None,
                               "header_timeout": header_timeout, "body_timeout": body_timeout}
    if handler == "gevent-websocket":
        from geventwebsocket.handler import WebSocketHandler

        options["handler_class"] = WebSocketHandler
    server = make_server(app, host, port, listener=listener, **options)
    server.start()
    tune_gc()
    address = server.address
    on_listening(str(address[0]), int(address[1]))
    stopping = gevent.event.Event()
    for signum in stop_signals:
        gevent.signal_handler(signum, stopping.set)
    try:
        stopping.wait()
    except KeyboardInterrupt:  # SIGINT not among stop_signals, raised in this greenlet
        pass
    log.info("shutting down")
    drain(engines_of(app))
    server.stop(timeout=stop_timeout)


def drain(engines: list[Any]) -> None:
    """Close every client of ``engines`` and wait (a few seconds at most) until they all have
    their close; meanwhile the listener stays open and new handshakes get 503."""
    for engine in engines:
        engine.shutdown()
    for engine in engines:
        engine.wait_closed(engine.close_grace + 1)


def engines_of(app: Any) -> list[Any]:
    """Engine servers reachable from ``app`` through wrapping middleware.

    Followed through ``app`` (wsgi_sio's middleware, most WSGI middleware) and ``application``
    (Django's static files handler, as ``runserver`` wraps the site); an Engine.IO server is
    found as the ``engine`` of a Socket.IO server (``.server``) or of the wrapper, or mounted
    on its own. Duck-typed, so that this layer needs nothing from the ones above it.
    """
    found = []
    seen = set()
    while app is not None and id(app) not in seen:
        seen.add(id(app))
        server = getattr(app, "server", None)
        engine = getattr(server, "engine", None) or getattr(app, "engine", None)
        if engine is None and hasattr(app, "handles"):
            engine = app  # an Engine.IO server mounted on its own
        if engine is not None and hasattr(engine, "close_all"):
            found.append(engine)
        app = getattr(app, "app", None) or getattr(app, "application", None)
    return found


def chain_sigterm(callback: Callable[[], Any]) -> None:
    """Run ``callback`` in the hub on SIGTERM, then the handler that was installed before.

    A gunicorn worker's SIGTERM handler only stops accepting and waits, up to the graceful
    timeout, for every connection to end, which WebSockets and long-polls never do by
    themselves. Closing the sessions first lets the worker exit as soon as they are closed.
    Python runs signal handlers in the main thread, where gevent's hub lives.
    """
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        gevent.get_hub().loop.run_callback(callback)
        if callable(previous):
            previous(signum, frame)

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread: no way to hear the signal from here
        log.debug("cannot hook SIGTERM outside the main thread")
