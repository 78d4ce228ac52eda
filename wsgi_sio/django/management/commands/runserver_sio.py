"""``manage.py runserver_sio [addr:port] [--noreload]``: runserver on gevent, with Socket.IO.

The site, long-polling and WebSocket on one port, with what ``runserver`` gives: the system
checks, the unapplied-migrations warning, the autoreloader and, in DEBUG (``WSGI_SIO
["SERVE_STATIC"]``), static files.

The standard library must be made cooperative (gevent's monkey-patching) before Django is
imported, so that views and handlers that block (database queries, ``time.sleep``) yield to
other clients and Django's per-thread state (database connections) becomes per-greenlet. A
management command is loaded too late for that, so run from the command line it re-executes
the same command line with the patching done first (same process id, same arguments, so the
autoreloader's child does the same). No change to manage.py is needed.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import sys
from typing import Any

from django.db import connections
from django.utils import autoreload

from wsgi_sio import green
from wsgi_sio.cli import add_deadline_arguments, configure_logging
from wsgi_sio.middleware import SocketIOMiddleware

from ... import conf
from ...reloading import reexec_patched, staticfiles_installed
from ...server import get_server

if staticfiles_installed():
    from django.contrib.staticfiles.management.commands.runserver import Command as BaseCommand
else:  # pragma: no cover - projects without staticfiles
    from django.core.management.commands.runserver import Command as BaseCommand  # type: ignore[assignment]

log = logging.getLogger("wsgi_sio")

class Command(BaseCommand):
    help = ("Starts a lightweight web server on gevent for development, serving the site, "
            "Socket.IO long-polling and WebSocket on one port.")

    def run_from_argv(self, argv: list[str]) -> None:
        if not green.patched():
            reexec_patched()
        super().run_from_argv(argv)

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(use_threading=False)
        add_deadline_arguments(parser)

    def get_handler(self, *args: Any, **options: Any) -> Any:
        options = dict(options)
        self.options = conf.get_options()
        if not self.options["SERVE_STATIC"]:
            options["use_static_handler"] = False
        handler = super().get_handler(*args, **options)
        # WSGI_APPLICATION may already be wsgi_sio.django.get_wsgi_application(); if it is the
        # plain Django one, mount Socket.IO around it here.
        if not green.engines_of(handler):
            from ...discovery import autodiscover

            autodiscover()
            handler = SocketIOMiddleware(handler, get_server())
        return handler

    def inner_run(self, *args: Any, **options: Any) -> None:
        autoreload.raise_last_exception()
        if not options["skip_checks"]:
            self.stdout.write("Performing system checks...\n\n")
            # every check, as runserver's inner_run does (its get_check_kwargs, which
            # super() would find, runs none: "called explicitly each time the server reloads")
            self.check(display_num_errors=True)
        self.check_migrations()
        for conn in connections.all(initialized_only=True):
            conn.close()
        handler = self.get_handler(*args, **options)
        configure_logging()
        log.setLevel(self.options["LOG_LEVEL"])
        listening = False

        def on_listening(host: str, port: int) -> None:
            nonlocal listening
            listening = True
            self.on_bind(str(port))
            shown = f"[{host}]" if ":" in host else host
            self.stdout.write(f"wsgi_sio: serving on http://{shown}:{port}/ (site, polling and WebSocket)")
            self.stdout.flush()

        try:
            # SIGTERM (a process manager, a container stop) is a graceful stop too: every
            # client gets its close, new handshakes get 503, and the process exits with
            # status 0. SIGINT stays Python's: under the autoreloader it must end the main
            # thread's reloader, not only this serving thread.
            green.serve(handler, self.addr, int(self.port),
                        access_log=bool(self.options["ACCESS_LOG"]),
                        header_timeout=options.get("header_timeout", 60.0) or None,
                        body_timeout=options.get("body_timeout", 60.0) or None,
                        on_listening=on_listening, stop_signals=(signal.SIGTERM,),
                        stop_timeout=2)
        except OSError as exc:
            if listening:
                raise
            messages = {
                errno.EACCES: "You don't have permission to access that port.",
                errno.EADDRINUSE: "That port is already in use.",
                errno.EADDRNOTAVAIL: "That IP address can't be assigned to.",
            }
            message = messages.get(exc.errno, str(exc)) if exc.errno is not None else str(exc)
            self.stderr.write(f"Error: {message}")
            os._exit(1)  # as runserver does: sys.exit does not stop the reloader's thread
        shutdown_message = options.get("shutdown_message", "")
        if shutdown_message:
            self.stdout.write(shutdown_message)
        sys.exit(0)
