"""One connection's application work, run in the order it arrived.

The layer above handles each message of a client after the ones before it (Socket.IO's
events, acks and disconnect are ordered per client), yet a handler that blocks (a database
query, a call waiting for the client's ack) must hold up only this connection's later
messages: never the reading of that ack, never another client.

Over WebSocket the request's greenlet reads *and* runs the handlers, in between two reads:
no greenlet is started per message, which nearly doubles the message rate. Nothing would read
while a handler blocks, which matters in two cases, and for those a *substitute reader* runs
until the handler returns: a handler waiting for this client's acknowledgement (``wait``),
and a pong due while a handler still runs (the socket's heartbeat asks ``reader_blocked``).
The substitute only reads: acknowledgements are resolved at once, everything else is queued
here, and the reader runs it, in order, when its handler is done.

Over long-polling (and for work queued from elsewhere, e.g. a broadcast's callback) a worker
greenlet runs the queue; it exists only while there is work, so idle connections cost none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..runtime import Runtime

log = logging.getLogger("wsgi_sio")

Work = tuple[Callable[..., Any], tuple[Any, ...]]


class InOrder:
    """The ordered work of one connection (an ``EngineSocket`` has one)."""

    # one per connection, thousands at once: no per-instance __dict__
    __slots__ = ("_busy", "_inbox", "_lock", "_read", "_reader", "_substitute", "_worker_running",
                 "runtime", "sid")

    def __init__(self, runtime: Runtime, lock: Any, sid: str) -> None:
        self.runtime = runtime
        self.sid = sid  # for the log
        self._lock = lock  # the socket's: threads (the polling fallback) queue from several at once
        self._inbox: list[Work] | None = None  # made when work first has to wait: most never does
        self._worker_running = False
        self._reader: Any = None
        self._read: Callable[[], Any] | None = None
        self._busy = False  # the reader is running a handler
        self._substitute: Any = None

    # -- the reader ---------------------------------------------------------------------------

    def begin_reading(self, read: Callable[[], Any]) -> None:
        """The current greenlet reads the connection from now on; ``read`` is what a
        substitute reader runs (it reads until the connection or the session ends)."""
        self._reader = self.runtime.current()
        self._read = read

    def end_reading(self) -> None:
        self._reader = None
        self._read = None

    @property
    def reader_blocked(self) -> bool:
        """The reader is running a handler and no substitute reads meanwhile."""
        return self._busy and self._substitute is None

    def start_substitute(self) -> None:
        """Read while the reader's handler runs (until it returns)."""
        if self._substitute is None and self._read is not None:
            self._substitute = self.runtime.spawn_task(self._read)

    # -- running work -------------------------------------------------------------------------

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Run ``fn(*args)`` after everything queued before it for this connection (``args``
        as a tuple, as the socket's ``run_in_order`` got it: no repacking per message).

        Called by the reader with nothing queued, it runs at once, in the reader. Otherwise
        it is queued: for the reader to run once its current handler returns, or for a
        worker greenlet.
        """
        reader = self._reader
        if reader is not None and self.runtime.current() is reader:
            # Only a greenlet reads a WebSocket (threads have no raw connection), and nothing
            # switches until the handler runs: the lock, for threads, is not needed here.
            if self._busy or self._worker_running:
                self._queue((fn, args))  # the reader (or the worker) runs it next
            elif self._inbox:
                self._inbox.append((fn, args))
                self._run_inline(*self._inbox.pop(0))  # the oldest first; the rest follow
            else:
                self._run_inline(fn, args)
            return
        with self._lock:  # threads (the polling fallback) may queue from several at once
            self._queue((fn, args))
            if self._busy or self._worker_running:
                return
            self._worker_running = True
        self.runtime.spawn_handlers(self._work)

    def _queue(self, work: Work) -> None:
        inbox = self._inbox
        if inbox is None:
            self._inbox = [work]
        else:
            inbox.append(work)

    def wait(self, event: Any, timeout: float | None) -> bool:
        """Wait for ``event``; from a handler running in the reader, let a substitute read.

        This is how a handler can wait for this very client's acknowledgement.
        """
        if self._busy and self._reader is not None and self.runtime.current() is self._reader:
            self.start_substitute()
        return bool(event.wait(timeout))

    def _run_inline(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._busy = True
        try:
            self._call(fn, args)
            while self._inbox:  # queued by a substitute reader meanwhile
                batch, self._inbox = self._inbox, None
                for item in batch:
                    self._call(*item)
        finally:
            self._busy = False
            substitute = self._substitute
            if substitute is not None:
                self._substitute = None
                self.runtime.kill(substitute)

    def _work(self) -> None:
        try:
            while True:
                with self._lock:
                    if not self._inbox:
                        self._worker_running = False
                        return
                    # Take the whole batch: work queued meanwhile lands in a fresh list.
                    batch, self._inbox = self._inbox, None
                for fn, args in batch:
                    self._call(fn, args)
        except BaseException:
            self._worker_running = False  # killed: let the next work start a worker again
            raise

    def _call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("error in a handler of Engine.IO session %s", self.sid)


__all__ = ["InOrder"]
