"""One timer greenlet (or thread) per server, instead of one per session.

Heartbeats, upgrade timeouts and connect timeouts are deadlines on thousands of sessions. A
sleeping greenlet per session would cost its stack for every idle connection; a heap of
deadlines served by one loop costs a tuple each.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable
from typing import Any

from ..runtime import Runtime

log = logging.getLogger("wsgi_sio")


def _nothing() -> None:
    return None


class Timer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], Any]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        # The heap keeps the entry until its time comes; it must not keep what the callback
        # refers to (a closed session, its environ, its namespaces) alive until then.
        self.callback = _nothing


class Scheduler:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._wake = runtime.event()
        self._lock = runtime.guard()
        self._running = False
        self._stopped = False

    def call_at(self, when: float, callback: Callable[[], Any]) -> Timer:
        timer = Timer(when, callback)
        with self._lock:
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (when, next(self._seq), timer))
            if not self._running:
                self._running = True
                self._runtime.spawn(self._run)
            elif earliest is None or when < earliest:
                self._wake.set()
        return timer

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Timer:
        return self.call_at(self._runtime.monotonic() + delay, callback)

    def pending(self) -> int:
        """Timers in the heap, cancelled ones not yet discarded included (for ``stats``)."""
        return len(self._heap)

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def _run(self) -> None:
        monotonic = self._runtime.monotonic
        while not self._stopped:
            due: list[Timer] = []
            with self._lock:
                now = monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2].cancelled):
                    timer = heapq.heappop(self._heap)[2]
                    if not timer.cancelled:
                        due.append(timer)
                timeout = self._heap[0][0] - now if self._heap else None
                self._wake.clear()
            for timer in due:
                try:
                    timer.callback()
                except Exception:  # a broken callback must not stop every other timer
                    log.exception("timer callback failed")
            if not due:
                self._wake.wait(timeout)
