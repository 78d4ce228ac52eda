"""``python -m wsgi_sio module:app --bind HOST:PORT``: any WSGI app on gevent, one port.

The site, long-polling and WebSocket are all served by the one gevent server. The standard
library is monkey-patched before the app is imported, so blocking code in the app (database
drivers, ``time.sleep``, ``requests``) yields to other clients instead of stalling them. The
current directory is importable, as with gunicorn.

With ``--workers N`` (N > 1) a master process binds the port and forks N workers that all
accept on it; each patches, imports the app and serves by itself (wsgi_sio.green.prefork).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Any


def load_app(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in (attr or "application").split("."):
        obj = getattr(obj, part)
    return obj


def parse_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    if not host:
        host = "127.0.0.1"
    return host.strip("[]"), int(port)


def add_deadline_arguments(parser: argparse.ArgumentParser) -> None:
    """``--header-timeout`` and ``--body-timeout``, for this command and ``runserver_sio``
    alike (defined here, where nothing imports gevent before it is patched)."""
    parser.add_argument("--header-timeout", type=float, default=60.0,
                        help="seconds a request line and headers may take to arrive, keep-alive "
                             "idle time included (default %(default)s; 0 for no limit)")
    parser.add_argument("--body-timeout", type=float, default=60.0,
                        help="seconds a request body may take to arrive, from the application's "
                             "first read of it (default %(default)s; 0 for no limit)")


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class NotShownYet(logging.Filter):
    """For the root handler: drop a record that a handler of a logger on its way up already
    wrote. Django's ``django`` logger has a console handler of its own and propagates, so
    without this every ``Not Found: /favicon.ico`` would be printed twice."""

    def filter(self, record: logging.LogRecord) -> bool:
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None and logger.parent is not None:   # the root has no parent
            if logger.handlers:
                return False
            if not logger.propagate:
                return True
            logger = logger.parent
        return True


def configure_logging(level: str | None = None) -> None:
    """One stderr handler on the root logger (if the root has none yet), that prints each
    record once; ``level``: of the root (``python -m wsgi_sio --log-level``)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(NotShownYet())
        root.addHandler(handler)
    if level is not None:
        root.setLevel(level.upper())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsgi_sio", description=__doc__.splitlines()[0])
    parser.add_argument("app", help="the WSGI application, as module:attribute")
    parser.add_argument("--bind", "-b", default="127.0.0.1:8000", help="HOST:PORT (default %(default)s)")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    add_deadline_arguments(parser)
    parser.add_argument("--handler", choices=("pywsgi", "gevent-websocket"), default="pywsgi",
                        help="gevent's own handler (default), or gevent-websocket's WebSocketHandler")
    parser.add_argument("--workers", "-w", type=_positive, default=1,
                        help="worker processes sharing the port (default %(default)s: serve in "
                             "this process)")
    args = parser.parse_args(argv)
    host, port = parse_bind(args.bind)
    if args.workers > 1:
        # The master imports neither the app nor a patched standard library: each child does.
        from .green import prefork

        listener = prefork.bind(host, port)
        sys.exit(prefork.Master(listener, args.workers,
                                lambda sock: _serve(args, listener=sock, announce=False)).run())

    from . import green

    green.patch_all()
    _serve(args, host=host, port=port)


def _serve(args: argparse.Namespace, *, host: str = "", port: int = 0, listener: Any = None,
           announce: bool = True) -> None:
    """Load the app and serve it in this process, already patched: the whole of
    ``python -m wsgi_sio``, or of one worker of ``--workers N`` (which serves the master's
    ``listener``, and leaves saying where to the master)."""
    from . import green

    configure_logging(args.log_level)
    sys.path.insert(0, os.getcwd())
    app = load_app(args.app)
    extra: dict[str, Any] = {} if announce else {"on_listening": lambda host, port: None}
    green.serve(app, host, port, listener=listener, access_log=args.access_log,
                handler=args.handler, header_timeout=args.header_timeout or None,
                body_timeout=args.body_timeout or None, **extra)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


if __name__ == "__main__":
    main()
