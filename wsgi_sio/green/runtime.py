"""gevent's :class:`~wsgi_sio.runtime.Runtime`: greenlets, and the hooks into gevent's servers.

The primitives are gevent's own; the hooks (``websocket_capable``, ``raw_connection``,
``claim_upgrades``, ``say_close``, ``limit_chunks``, ``on_worker_exit``) reach the pywsgi-based
handler that is serving the request, whichever it is (ours, gevent-websocket's, gunicorn's).
:mod:`wsgi_sio.runtime_choice` makes one when the code serving a request runs on gevent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import gevent.lock

from ..protocol.routing import Route
from ..runtime import Handoff, Runtime
from . import handoff, peers, relay
from .body import BoundedInput
from .handler import say_close
from .serving import chain_sigterm
from .upgrade import RawConnection, claim_upgrades, raw_connection, websocket_capable


def gevent_in_use() -> bool:
    """True when the calling code runs inside a gevent greenlet or gevent has patched threads.

    Either way blocking on a ``threading`` primitive would stall the whole hub, so gevent's own
    primitives must be used.
    """
    from gevent import monkey

    if monkey.is_module_patched("threading"):
        return True
    return isinstance(gevent.getcurrent(), gevent.Greenlet)


class GeventRuntime(Runtime):
    name = "gevent"
    # pywsgi honours an application's ``Connection: close``, and closes after the response
    honours_connection_close = True

    def spawn(self, fn: Callable[..., Any], *args: Any) -> Any:
        # A raw greenlet: no link or result machinery; our callers handle their own errors.
        return gevent.spawn_raw(fn, *args)

    def event(self) -> gevent.event.Event:
        return gevent.event.Event()

    def lock(self) -> Any:
        return gevent.lock.Semaphore()

    def guard(self) -> Any:
        # Greenlets switch only where they block, and a guarded section never blocks.
        return _NO_LOCK

    def sleep(self, seconds: float) -> None:
        gevent.sleep(seconds)

    def spawn_task(self, fn: Callable[..., Any], *args: Any) -> Any:
        return gevent.spawn(fn, *args)

    def kill(self, task: Any) -> None:
        task.kill(block=True)

    def current(self) -> Any:
        return gevent.getcurrent()

    def defer(self, fn: Callable[..., Any], *args: Any) -> None:
        # Runs in the hub at the next loop turn: all packets queued by the current greenlet
        # until then (a burst of broadcasts) leave in one write.
        gevent.get_hub().loop.run_callback(fn, *args)

    def websocket_capable(self, start_response: Callable[..., Any]) -> bool:
        return websocket_capable(start_response)

    def raw_connection(self, environ: dict[str, Any],
                       start_response: Callable[..., Any]) -> RawConnection | None:
        return raw_connection(environ, start_response)

    def claim_upgrades(self, environ: dict[str, Any], start_response: Callable[..., Any],
                       handles: Callable[[str], bool]) -> bool:
        return claim_upgrades(environ, start_response, handles)

    def say_close(self, start_response: Callable[..., Any]) -> Callable[..., Any]:
        return say_close(start_response)

    def limit_chunks(self, environ: dict[str, Any], limit: int,
                     too_large: Callable[[int], Exception]) -> None:
        body = environ.get("wsgi.input")
        if isinstance(body, BoundedInput) and body.chunked_input:
            body.limit = limit
            body.too_large = too_large

    def on_worker_exit(self, environ: dict[str, Any], callback: Callable[[], Any]) -> None:
        if "gunicorn/" in str(environ.get("SERVER_SOFTWARE", "")):  # "gevent/.. gunicorn/.."
            chain_sigterm(callback)


    def join_group(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> bool:
        return handoff.join(environ, start_response)

    def hand_off(self, environ: dict[str, Any], start_response: Callable[..., Any],
                 route: Route) -> Handoff:
        return handoff.hand_off(environ, start_response, route)

    def locality(self, environ: dict[str, Any]) -> str:
        return peers.locality(environ)

    def listening_address(self, start_response: Callable[..., Any]) -> tuple[str, int] | None:
        server = getattr(getattr(start_response, "__self__", None), "server", None)
        address = getattr(server, "address", None)
        if isinstance(address, tuple) and len(address) >= 2:
            return str(address[0]), int(address[1])
        return None

    def relay(self, environ: dict[str, Any], start_response: Callable[..., Any],
              address: tuple[str, int], header: str, idle_timeout: float) -> Handoff:
        return relay.relay(environ, start_response, address, header, idle_timeout)

    def handoff_counts(self) -> dict[str, int]:
        return peers.counts.as_dict()


class _NoLock:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()

