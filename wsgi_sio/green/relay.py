"""Relaying a request to the host that owns its session, when a load balancer sent it elsewhere.

A connection cannot be passed between hosts, so the worker that got the request opens a TCP
connection to the owner's host (its address comes from the cluster's directory, never from the
request) and copies bytes both ways: the request's head, rebuilt with a signed
``Wsgi-Sio-Relay`` header, and whatever follows. On that host any worker may accept it; it
hands the connection to the owner as it would any request.

A polling request is relayed alone (``Connection: close`` to the owner's host, and the client
is told so too): a load balancer's kept-alive connection carries requests of many sessions,
which must not all follow the first one. A WebSocket is relayed for its life.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import gevent
import gevent.socket

from .. import runtime as runtime_mod
from . import handoff, peers

log = logging.getLogger("wsgi_sio")

#: seconds to connect to the owner's host
CONNECT_TIMEOUT = 2.0
#: relays one worker runs at once; past it, requests get 503 and retry
MAX_RELAYS = 1000
CHUNK = 65536

_running = 0


def relay(environ: dict[str, Any], start_response: Any, address: tuple[str, int], header: str,
          idle_timeout: float) -> runtime_mod.Handoff:
    """Carry this request to ``address`` and its answer back (see the module)."""
    global _running
    handler = handoff.passable(start_response, environ, tls_ok=True)
    if handler is None:
        return runtime_mod.Handoff.NOT_POSSIBLE
    if _running >= MAX_RELAYS:
        return runtime_mod.Handoff.OWNER_BUSY
    try:
        upstream = gevent.socket.create_connection(address, timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        log.info("wsgi_sio: the owner's host %s:%s did not answer: %s", address[0], address[1], exc)
        return runtime_mod.Handoff.OWNER_GONE
    websocket = environ.get("HTTP_UPGRADE", "").lower() == "websocket"
    extra: tuple[tuple[str, str], ...] = (("Wsgi-Sio-Relay", header),)
    if not websocket:
        extra += (("Connection", "close"),)
    head = handoff.rebuild_head(handler, extra=extra, drop=frozenset({"connection"}) if not websocket else frozenset())
    client = handler.socket
    ahead = handoff.peek_ahead(handler)
    handler.rfile.read(len(ahead))  # ours now: it is on its way
    _running += 1
    peers.counts.relayed += 1
    try:
        upstream.settimeout(idle_timeout)
        client.settimeout(idle_timeout)
        upstream.sendall(head + ahead)
        _splice(client, upstream)
    except OSError as exc:
        log.debug("wsgi_sio: relay to %s:%s ended: %s", address[0], address[1], exc)
    finally:
        _running -= 1
        upstream.close()
        handoff.let_go(handler, detach=False)
    return runtime_mod.Handoff.DONE


def _splice(client: Any, upstream: Any) -> None:
    """Copy bytes both ways until the owner's side ends (when the client ends its side, the
    owner hears it, answers what it has and closes)."""
    forward = gevent.spawn(_copy, client, upstream)
    try:
        _copy(upstream, client)
    finally:
        forward.kill()


def _copy(source: Any, sink: Any) -> None:
    """From ``source`` to ``sink`` until ``source`` ends, then end ``sink``'s writing side too."""
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass
