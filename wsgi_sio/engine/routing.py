"""Where a session lives, for an engine whose process is one of several answering a port.

The sids this engine makes name this process (:mod:`wsgi_sio.protocol.routing`); a request
whose sid this engine does not know is, when its sid names another process of the host, passed
to that process (``Runtime.hand_off``), which answers it. Everything else about such a request
(origin checks, limits, the answer) happens at the owner, as for any request it accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import runtime as runtime_mod
from ..protocol.routing import compose_sid, parse_sid
from . import http
from .http import UNKNOWN_SID

#: the answer when the owner did not take the connection in time; clients retry on any error
OWNER_BUSY_BODY = b'{"code":3,"message":"Session owner busy"}'

#: environ key of the marker a worker adds to a request it hands on (see green.handoff)
HANDED_OVER = "HTTP_WSGI_SIO_HANDOFF"


class Router:
    """Sids for new sessions, and what to do with a request for a session held elsewhere."""

    def __init__(self, runtime: Callable[[], runtime_mod.Runtime]) -> None:
        self._runtime = runtime
        self._joined = False

    def new_sid(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> str:
        """A sid naming this process; the first one also makes this process reachable by its
        peers (before the sid leaves, so that no request for it can find nobody listening)."""
        if not self._joined:
            self._runtime().join_group(environ, start_response)
            self._joined = True
        return compose_sid(runtime_mod.own_route())

    def elsewhere(self, sid: str, environ: dict[str, Any], start_response: Callable[..., Any],
                  cors: list[tuple[str, str]]) -> Iterable[bytes]:
        """Answer a request for the sid ``sid`` that this engine does not hold."""
        route = parse_sid(sid)
        if (route is None or route.tag == runtime_mod.worker_tag()
                or route.host != runtime_mod.HOST_ID or HANDED_OVER in environ):
            # not ours, or ours and gone, or another host's, or handed to us and still unknown
            return http.error(start_response, UNKNOWN_SID, extra=cors)
        outcome = self._runtime().hand_off(environ, start_response, route)
        if outcome is runtime_mod.Handoff.DONE:
            return []
        if outcome is runtime_mod.Handoff.OWNER_BUSY:
            return http.respond(start_response, "503 Service Unavailable", OWNER_BUSY_BODY,
                                "application/json", [*cors, ("Retry-After", "1")])
        return http.error(start_response, UNKNOWN_SID, extra=cors)
