"""Everything that touches gevent (and gevent-websocket, gunicorn): the one package that
imports them.

* :mod:`.runtime`: :class:`GeventRuntime`, the greenlet primitives and the hooks into the
  pywsgi-based handler serving a request.
* :mod:`.upgrade`: taking over the raw connection of a WebSocket request
  (:class:`RawConnection`), under gevent's pywsgi or gevent-websocket's handler, and keeping
  the latter off the paths wsgi_sio claims (its ``pre_start_hook``, installed on import).
* :mod:`.handler`, :mod:`.headers`, :mod:`.body`: our pywsgi handler (:class:`WSGIHandler`),
  its request header parser and its bounded ``wsgi.input``.
* :mod:`.serving`: a process serving an application, for ``python -m wsgi_sio`` and
  ``runserver_sio`` alike (:func:`serve`, :func:`make_server`, :func:`drain`,
  :func:`tune_gc`, :func:`patch_all`).
* :mod:`.prefork`: ``python -m wsgi_sio --workers N``, a master that binds the port and keeps
  N forked workers serving it (imported by the command only, not re-exported here).

The layers below (the engine, the Socket.IO server) never import this package: they ask
:class:`wsgi_sio.runtime.Runtime`, and :mod:`wsgi_sio.runtime_choice` makes a
:class:`GeventRuntime` when a request is served on gevent.
"""

from .body import BoundedInput, RequestBodyTimeout
from .handler import MAX_DISCARD, WSGIHandler, say_close
from .headers import MAX_HEADER_LINE, MAX_HEADERS, RequestHeaders
from .runtime import GeventRuntime, gevent_in_use
from .serving import (
    GC_THRESHOLD,
    chain_sigterm,
    drain,
    engines_of,
    make_server,
    patch_all,
    patched,
    serve,
    tune_gc,
)
from .upgrade import RawConnection, claim_upgrades, raw_connection, websocket_capable

__all__ = [
    "GC_THRESHOLD",
    "MAX_DISCARD",
    "MAX_HEADERS",
    "MAX_HEADER_LINE",
    "BoundedInput",
    "GeventRuntime",
    "RawConnection",
    "RequestBodyTimeout",
    "RequestHeaders",
    "WSGIHandler",
    "chain_sigterm",
    "claim_upgrades",
    "drain",
    "engines_of",
    "gevent_in_use",
    "make_server",
    "patch_all",
    "patched",
    "raw_connection",
    "say_close",
    "serve",
    "tune_gc",
    "websocket_capable",
]
