"""``python -m wsgi_sio APP --workers N``: one port, N forked worker processes.

(docs/design/sessions-across-workers.md §6.) The shape is gunicorn's: the master binds the
port, forks, and only watches; every child accepts on the inherited socket (the kernel picks
which one gets each connection) and serves it with :func:`wsgi_sio.green.serve`, as a single
process would.

The master never monkey-patches and never imports the application: a fork taken from a
patched process would inherit its hub, and an application imported before the fork would
share whatever it opened at import (database connections, Redis clients, threads) among all
the children. So each child patches, loads the application and serves by itself, and the
master stays small enough to be trusted with the only long-lived duty: respawning a child
that dies, and on SIGTERM/SIGINT stopping them all gracefully.

The master waits with signals blocked and ``sigtimedwait`` instead of handlers, so a signal
is never lost between "check" and "sleep", and nothing runs at an arbitrary point of its
loop. The children of one master form a group (:func:`wsgi_sio.green.peers.set_prefork_master`)
that hands sessions' connections to each other.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from . import peers
from .serving import announce

Mask = set[int | signal.Signals]  # what signal.pthread_sigmask returns

#: what gevent's servers use when they bind; Linux caps it at ``somaxconn`` anyway
BACKLOG = 128
#: signals the master takes with ``sigtimedwait``: blocked in it, unblocked in the children
MASTER_SIGNALS = frozenset({signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
#: a child that exits sooner than this after its fork "died at start" ...
EARLY_DEATH = 2.0
#: ... and this many of those in a row mean it never will start (an import error, say)
EARLY_DEATHS_TO_GIVE_UP = 5
#: how long children may take to stop after SIGTERM: what ``serve()`` may spend by default
#: (``stop_timeout`` 5 s, the engines' ``close_grace`` 5 s) plus 2 s for exiting
STOP_WAIT = 5.0 + 5.0 + 2.0
#: how often a child checks that its master is alive
PARENT_CHECK = 1.0


def bind(host: str, port: int) -> socket.socket:
    """The listening socket all the workers share (port 0 picks a free one).

    ``SO_REUSEADDR`` (set by ``create_server`` on POSIX) lets a restart bind while
    connections of the previous server are still in TIME_WAIT.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=BACKLOG)


@dataclass
class _Child:
    pid: int
    started: float


@dataclass
class Master:
    """Forks ``workers`` children that each run ``serve_child(listener)``, and keeps them.

    ``serve_child`` runs in the child after it has been made a worker (signals as in a fresh
    process, group set, standard library patched, gevent's hub fresh, ``listener`` a gevent
    socket); it loads the application and serves until SIGTERM. Its return, or a
    ``SystemExit``, ends the child with that status; an exception ends it with status 1.
    """

    listener: socket.socket
    workers: int
    serve_child: Callable[[socket.socket], object]
    children: dict[int, _Child] = field(default_factory=dict)
    #: children that died at start, one after the other
    early_deaths: int = 0

    def run(self) -> int:
        """Announce the address, fork the workers and keep them until told to stop; the
        process's exit status: 0 after a clean stop, 1 when the workers could not start."""
        address = self.listener.getsockname()
        announce(str(address[0]), int(address[1]))
        print(f"wsgi_sio: {self.workers} workers", flush=True)
        unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, MASTER_SIGNALS)
        try:
            for _ in range(self.workers):
                self._spawn(unblocked)
            while True:
                received = signal.sigtimedwait(MASTER_SIGNALS, 1.0)
                if received is not None and received.si_signo in (signal.SIGTERM, signal.SIGINT):
                    return self.stop()
                if received is not None and received.si_signo == signal.SIGHUP:
                    # No reload (nothing is preloaded: a respawned child imports the app
                    # afresh anyway); a hangup of the terminal is no reason to stop serving.
                    _say("SIGHUP ignored")
                if not self._reap_and_respawn(unblocked):
                    _say(f"workers exited within {EARLY_DEATH:g} s of starting "
                         f"{self.early_deaths} times in a row; stopping (see their output above)")
                    self.stop()
                    return 1
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)

    def _spawn(self, unblocked: Mask) -> None:
        sys.stdout.flush()  # or the child would print the master's buffer again
        sys.stderr.flush()
        master = os.getpid()
        pid = os.fork()
        if pid == 0:
            _child_main(master, self.listener, self.serve_child, unblocked)  # never returns
        self.children[pid] = _Child(pid, time.monotonic())

    def _reap_and_respawn(self, unblocked: Mask) -> bool:
        """Replace every child that has exited; False when they keep dying at start."""
        for pid, status in _reap():
            child = self.children.pop(pid, None)
            if child is None:
                continue
            _say(f"worker {pid} {_describe(status)}; starting another")
            if time.monotonic() - child.started < EARLY_DEATH:
                self.early_deaths += 1
                if self.early_deaths >= EARLY_DEATHS_TO_GIVE_UP:
                    return False
            else:
                self.early_deaths = 0
            self._spawn(unblocked)
        return True

    def stop(self) -> int:
        """SIGTERM to every child (each closes its clients and drains, as ``serve()`` does
        alone), SIGKILL to those still there after :data:`STOP_WAIT` or a second SIGTERM/SIGINT;
        0 if every child exited with status 0."""
        clean = True
        for pid in self.children:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT
        while self.children:
            for pid, status in _reap():
                if self.children.pop(pid, None) is not None:
                    clean = clean and status == 0
            remaining = deadline - time.monotonic()
            if not self.children:
                break
            received = None
            if remaining > 0:
                received = signal.sigtimedwait(MASTER_SIGNALS, min(remaining, 1.0))
            if remaining <= 0 or (received is not None
                                  and received.si_signo in (signal.SIGTERM, signal.SIGINT)):
                _say(f"{len(self.children)} worker(s) still running; killing them")
                for pid in self.children:
                    _signal(pid, signal.SIGKILL)
                for pid in list(self.children):
                    os.waitpid(pid, 0)
                return 1
        return 0 if clean else 1


def _child_main(master: int, listener: socket.socket,
                serve_child: Callable[[socket.socket], object],
                unblocked: Mask) -> None:
    """Make this fresh child of ``master`` a worker, run ``serve_child``, and end the process.

    ``os._exit``, never a return: the caller's stack is the master's loop, and neither it nor
    the master's ``atexit`` handlers may run here. ``master`` is the parent's pid as the parent
    knew it: ``os.getppid()`` read here may already name whoever adopted an orphan.
    """
    status = 1
    try:
        # Until serve() installs its handlers, SIGTERM/SIGINT just end the child cleanly:
        # it has accepted nothing yet, so there is nothing to drain.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _exit_now)
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        peers.set_prefork_master(master)
        from . import serving

        serving.patch_all()
        import gevent
        import gevent.socket

        gevent.reinit()
        worker_listener = gevent.socket.socket(listener.family, listener.type, listener.proto,
                                               fileno=listener.detach())
        gevent.spawn_raw(_exit_with_parent, master)
        result = serve_child(worker_listener)
        status = result if isinstance(result, int) else 0
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except Exception:  # noqa: BLE001 - whatever the app raised: shown, then status 1
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _exit_now(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _exit_with_parent(master: int) -> None:
    """Stop gracefully (through serve()'s SIGTERM) once the master is gone: nobody would
    reap this process or stop it otherwise, and it would keep the port."""
    import gevent

    while os.getppid() == master:
        gevent.sleep(PARENT_CHECK)
    os.kill(os.getpid(), signal.SIGTERM)


def _reap() -> list[tuple[int, int]]:
    """Every child that has exited since the last call, with its exit status (as in
    ``subprocess``: negative for the signal that killed it)."""
    reaped = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        reaped.append((pid, os.waitstatus_to_exitcode(status)))
    return reaped


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:  # exited, not reaped yet: the next _reap() has it
        pass


def _describe(status: int) -> str:
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    return f"exited with status {status}"


def _say(message: str) -> None:
    print(f"wsgi_sio: {message}", file=sys.stderr, flush=True)
