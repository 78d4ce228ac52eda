"""Where a session lives, for an engine whose process is one of several answering a port.

The sids this engine makes name this process (:mod:`wsgi_sio.protocol.routing`). A request
whose sid this engine does not know, but which names another process, goes there:

* to a process of the same host and group, by handing it the connection itself
  (``Runtime.hand_off``), which then answers it;
* to a process of another host, known from a :class:`PeerDirectory` (the Redis manager keeps
  one), by relaying the request over TCP, marked with a signed header (``Runtime.relay``); a
  worker of that host takes it from there.

Everything else about such a request (origin checks, limits, the answer) happens at the owner,
as for any request it accepts. The client chooses a sid, never an address: where a request is
relayed comes only from the directory.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol

from .. import runtime as runtime_mod
from ..protocol.routing import RELAY_HEADER, new_token, parse_sid, sign_relay, verify_relay
from . import http
from .http import UNKNOWN_SID

log = logging.getLogger("wsgi_sio")

#: the answer when the owner did not take the connection in time; clients retry on any error
OWNER_BUSY_BODY = b'{"code":3,"message":"Session owner busy"}'

#: environ key of the marker a worker adds to a request it hands on (see green.handoff)
HANDED_OVER = "HTTP_WSGI_SIO_HANDOFF"
#: environ key of the relay header (:data:`wsgi_sio.protocol.routing.RELAY_HEADER`)
RELAYED = "HTTP_" + RELAY_HEADER.upper().replace("-", "_")

#: where relays may go: a directory entry pointing elsewhere (a poisoned registry) is ignored
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"))


class Peer(NamedTuple):
    """A process of the cluster as the directory knows it."""

    #: where its server listens, for relays from other hosts
    address: tuple[str, int]
    #: its host and group (``Runtime.locality``): processes with the same one hand off
    locality: str


class PeerDirectory(Protocol):
    """Which process has which tag, shared by every host (the Redis manager's registry)."""

    def lookup(self, tag: str) -> Peer | None: ...
    def announce(self, tag: str, peer: Peer) -> None: ...
    def relay_secret(self) -> bytes | None: ...


class Router:
    """Sids for new sessions, and what to do with a request for a session held elsewhere."""

    def __init__(self, runtime: Callable[[], runtime_mod.Runtime],
                 idle_timeout: Callable[[], float] = lambda: 60.0) -> None:
        self._runtime = runtime
        self._idle_timeout = idle_timeout
        self._joined = False
        #: the cluster's directory of processes, for relays between hosts; None: this host only
        self.directory: PeerDirectory | None = None
        #: networks relays may go to
        self.relay_networks: tuple[Any, ...] = PRIVATE_NETWORKS
        #: ``host:port`` (or a host) to announce instead of the address the server listens on
        self.advertise: str | None = None

    def new_sid(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> str:
        """A sid naming this process; the first one also makes this process reachable by its
        peers (before the sid leaves, so that no request for it can find nobody listening)."""
        if not self._joined:
            self._joined = True
            runtime = self._runtime()
            runtime.join_group(environ, start_response)
            if self.directory is not None:
                address = self._own_address(runtime.listening_address(start_response))
                if address is not None:
                    self.directory.announce(runtime_mod.worker_tag(),
                                            Peer(address, runtime.locality(environ)))
        return runtime_mod.sid_prefix() + new_token()

    def _own_address(self, listening: tuple[str, int] | None) -> tuple[str, int] | None:
        host, port = listening if listening is not None else ("", 0)
        if self.advertise:
            name, _, given = self.advertise.rpartition(":") if ":" in self.advertise else (self.advertise, "", "")
            host, port = name.strip("[]") or host, int(given) if given else port
        try:
            unspecified = ipaddress.ip_address(host).is_unspecified
        except ValueError:
            unspecified = True
        if unspecified or not port:
            log.warning("wsgi_sio: this worker listens on %s:%s, which other hosts cannot reach; "
                        "set advertise= on the manager (or WSGI_SIO_ADVERTISE) to take relayed "
                        "requests", host, port)
            return None
        return host, port

    def elsewhere(self, sid: str, environ: dict[str, Any], start_response: Callable[..., Any],
                  cors: list[tuple[str, str]]) -> Iterable[bytes]:
        """Answer a request for the sid ``sid`` that this engine does not hold."""
        route = parse_sid(sid)
        if route is None or route.tag == runtime_mod.worker_tag() or HANDED_OVER in environ:
            # not in our format, or ours and gone, or handed to us and still unknown here
            return http.error(start_response, UNKNOWN_SID, extra=cors)
        runtime = self._runtime()
        relayed = self._relayed(environ)
        peer = self.directory.lookup(route.tag) if self.directory is not None else None
        if peer is not None and peer.locality != runtime.locality(environ):
            if relayed or not self._may_relay(peer.address):
                return http.error(start_response, UNKNOWN_SID, extra=cors)
            outcome = self._relay(runtime, environ, start_response, peer.address)
        else:
            outcome = runtime.hand_off(environ, start_response, route)
        if outcome is runtime_mod.Handoff.DONE:
            return []
        if outcome is runtime_mod.Handoff.OWNER_BUSY:
            return http.respond(start_response, "503 Service Unavailable", OWNER_BUSY_BODY,
                                "application/json", [*cors, ("Retry-After", "1")])
        return http.error(start_response, UNKNOWN_SID, extra=cors)

    def _relayed(self, environ: dict[str, Any]) -> bool:
        """Whether a peer relayed this request (a valid signed header); an invalid header is
        dropped, so that nothing after this trusts it."""
        value = environ.get(RELAYED)
        if value is None:
            return False
        secret = self.directory.relay_secret() if self.directory is not None else None
        client = None
        if secret is not None:
            client = verify_relay(secret, value, time.time(), environ.get("REQUEST_METHOD", ""),
                                  _target(environ))
        if client is None:
            del environ[RELAYED]
            return False
        if client != "-":
            environ["REMOTE_ADDR"] = client  # what the relaying worker saw
        return True

    def _may_relay(self, address: tuple[str, int]) -> bool:
        try:
            ip = ipaddress.ip_address(address[0])
        except ValueError:
            return False
        return any(ip in network for network in self.relay_networks)

    def _relay(self, runtime: runtime_mod.Runtime, environ: dict[str, Any],
               start_response: Callable[..., Any], address: tuple[str, int]) -> runtime_mod.Handoff:
        secret = self.directory.relay_secret() if self.directory is not None else None
        if secret is None:
            return runtime_mod.Handoff.NOT_POSSIBLE
        header = sign_relay(secret, time.time(), environ.get("REQUEST_METHOD", ""), _target(environ),
                            str(environ.get("REMOTE_ADDR", "-")))
        return runtime.relay(environ, start_response, address, header, self._idle_timeout())


def _target(environ: dict[str, Any]) -> str:
    return f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}"
