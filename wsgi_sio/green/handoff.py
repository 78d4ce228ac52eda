"""Passing a client's connection to the worker that owns its session, and taking one in.

A worker that gets a request for a session held by another worker of its host (the sid names
the owner) sends the owner **the connection itself**, with the request as read so far; the
owner serves it as if it had accepted it, keep-alive included. No proxy hop: a WebSocket
handed over at its upgrade is then read and written by its owner alone for its whole life.

What is sent, after :data:`.peers.MAGIC`: the request's head, rebuilt from the parsed request
line and headers with a ``Wsgi-Sio-Handoff: 1`` marker, then whatever the handler had read
past the head (the start of a body, even a pipelined request). Rebuilt rather than raw, since
pywsgi keeps no raw copy; and the owner runs its whole normal pipeline on it (deadlines,
limits, origin checks), whichever pywsgi-based handler it has.

The sender then has to make its handler forget the connection without touching it: pywsgi,
left alone, would read the rest of the body and, at the end, one more read "to prevent a
reset", each stealing the owner's bytes, and a ``shutdown`` would end the connection for
both. The pywsgi internals this relies on are all here (:func:`forget`).
"""

from __future__ import annotations

import errno
import io
import logging
import os
import socket
from typing import Any

import gevent
import gevent.socket
from gevent import monkey, pywsgi

from .. import runtime as runtime_mod
from ..protocol.routing import Route
from . import peers

log = logging.getLogger("wsgi_sio")

MARKER = "Wsgi-Sio-Handoff"
#: the environ key of :data:`MARKER`: set on the request a worker was handed
MARKER_KEY = "HTTP_WSGI_SIO_HANDOFF"

_ADOPTABLE = (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX)
_logged_reasons: set[str] = set()


# -- the sender -------------------------------------------------------------------------------

def hand_off(environ: dict[str, Any], start_response: Any, route: Route) -> runtime_mod.Handoff:
    """Pass the connection of this request to the worker ``route`` names (see the module)."""
    group = peers.group_for(environ)
    handler = passable(start_response, environ) if group is not None else None
    if group is None or handler is None:
        return runtime_mod.Handoff.NOT_POSSIBLE
    head = rebuild_head(handler)
    ahead = peek_ahead(handler)
    message = peers.MAGIC + head + ahead
    if len(message) > peers.MAX_MESSAGE:
        return runtime_mod.Handoff.NOT_POSSIBLE
    outcome = group.send(route.tag, message, handler.socket.fileno())
    if outcome is runtime_mod.Handoff.DONE:
        forget(handler)
    return outcome


def passable(start_response: Any, environ: dict[str, Any], tls_ok: bool = False) -> Any:
    """The pywsgi handler of this request if its connection can be passed on as it is."""
    handler = getattr(start_response, "__self__", None)
    if not isinstance(handler, pywsgi.WSGIHandler):
        return None
    reason = _why_not(handler, environ, tls_ok)
    if reason is not None:
        if reason not in _logged_reasons:
            _logged_reasons.add(reason)
            log.warning("wsgi_sio: a request for another worker's session stays here: %s", reason)
        return None
    return handler


def _why_not(handler: Any, environ: dict[str, Any], tls_ok: bool = False) -> str | None:
    if not tls_ok and hasattr(handler.socket, "getpeercert"):
        return "TLS is terminated in this process (terminate it in the proxy in front instead)"
    if not handler.requestline or not str(handler.request_version).startswith("HTTP/1"):
        return "not an HTTP/1 request"
    body = getattr(handler, "wsgi_input", None)
    if body is not None and (body.position or body.chunk_length != -1
                             or getattr(body, "deadline", None) is not None):
        return "something before wsgi_sio read the request body"
    return None


def rebuild_head(handler: Any, extra: tuple[tuple[str, str], ...] = ((MARKER, "1"),),
                 drop: frozenset[str] = frozenset()) -> bytes:
    """The request line and headers as the client sent them, less the headers in ``drop``
    (lower case) and any copy of ``extra``'s, plus ``extra`` (by default, the marker)."""
    lines = [handler.requestline]
    headers = handler.headers
    items = headers.items if isinstance(headers.items, list) else headers.items()
    ours = {name.lower() for name, _ in extra} | {MARKER.lower()}
    for name, value in items:
        lowered = name.lower()
        if lowered in ours or lowered in drop:
            continue  # a client's own copy of a marker would pass for ours
        lines.append(f"{name}: {' '.join(str(value).split())}")
    lines += [f"{name}: {value}" for name, value in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def peek_ahead(handler: Any) -> bytes:
    """What the handler has read past the head, left in place (a failed send goes on here)."""
    sock = handler.socket
    timeout = sock.gettimeout()
    sock.settimeout(0.0)  # what is buffered now, not a wait for more
    try:
        return bytes(handler.rfile.peek(1))
    except OSError:
        return b""
    finally:
        sock.settimeout(timeout)


def forget(handler: Any) -> None:
    """Make the handler let go of a connection the owner now serves, reading nothing more from
    it and writing nothing to it. Closes only this process's descriptor: never ``shutdown``."""
    let_go(handler, detach=True)


def let_go(handler: Any, detach: bool) -> None:
    """End pywsgi's part in a connection that was passed on (``detach``: to another process,
    which keeps it open) or relayed: no more reads, no answer, no body left to drain."""
    handler.rfile.close()  # what it held was sent on; handle_one_request stops at a closed rfile
    body = getattr(handler, "wsgi_input", None)
    if body is not None:
        # pywsgi reads an unread body to its end after the application returns
        body.content_length = 0
        body.position = 0
        body.chunked_input = False
        body.socket = None  # and sends no "100 Continue"
    handler.close_connection = True
    sock = handler.socket
    if detach:
        detach_from_hub(sock.fileno())
    sock.close()
    handler.socket = None  # nothing for pywsgi's handle() to read or close after us


def detach_from_hub(fd: int) -> None:
    """Take ``fd`` out of this process's epoll set before the descriptor is closed.

    The connection lives on in the owner, and closing our descriptor leaves its registration in
    our epoll set (it is removed only when the last reference to the connection goes). libev
    removes registrations lazily; on an event for an fd it no longer has, it rebuilds its whole
    epoll set: a cost in proportion to all connections, for every handed-off connection that
    becomes active later.
    """
    epoll = _hub_epoll()
    if epoll is None:
        return
    try:
        epoll.unregister(fd)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            log.debug("wsgi_sio: could not take fd %d out of the hub: %s", fd, exc)


_epoll: list[Any] = [None, None]  # (which loop, a handle on its epoll set)


def _hub_epoll() -> Any:
    """A handle on the hub's epoll set (a duplicate descriptor of it, kept: one per loop)."""
    loop = gevent.get_hub().loop
    if getattr(loop, "backend", None) != "epoll":
        return None
    key = (os.getpid(), loop.fileno())  # a forked child has a loop of its own
    if _epoll[0] != key:
        if _epoll[1] is not None:
            _epoll[1].close()  # the old loop's (or, after a fork, this process's copy of it)
        try:
            # the standard library's: gevent's patched select module has no epoll
            handle = monkey.get_original("select", "epoll").fromfd(os.dup(loop.fileno()))
        except (OSError, ValueError):
            return None
        _epoll[:] = [key, handle]
    return _epoll[1]


# -- the owner --------------------------------------------------------------------------------

class _Prefixed(io.RawIOBase):
    """A connection's bytes: first those another worker had read, then the socket's."""

    def __init__(self, prefix: bytes, sock: Any) -> None:
        self._prefix = memoryview(prefix)
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:  # type: ignore[override]
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        try:
            return int(self._sock.recv_into(buffer))
        except BlockingIOError:
            return None  # a zero timeout: nothing there now (as socket.SocketIO answers)


_servers: list[Any] = []


def join(environ: dict[str, Any], start_response: Any) -> bool:
    """Have this process take the connections its peers pass it, served by the server that
    runs this request. False when the process has no group (or cannot listen)."""
    handler = getattr(start_response, "__self__", None)
    server = getattr(handler, "server", None)
    group = peers.group_for(environ)
    if group is None or server is None:
        return False
    if server not in _servers:
        _servers.append(server)
    if group.listener is None:
        return group.listen(_adopt)
    return True


def _adopt(payload: bytes, fd: int) -> None:
    """Serve a connection another worker passed us, as our server would have (see the module)."""
    try:
        sock = gevent.socket.socket(fileno=fd)
    except OSError:
        _close_fd(fd)
        peers.counts.dropped += 1
        return
    if sock.type != socket.SOCK_STREAM or sock.family not in _ADOPTABLE or not _servers:
        sock.close()
        peers.counts.dropped += 1
        return
    server = _servers[0]
    try:
        client = sock.getpeername()
    except OSError:  # the client has gone meanwhile
        sock.close()
        return
    pool = getattr(server, "pool", None)
    if pool is not None and pool.full():
        _refuse_busy(sock)
        return
    peers.counts.adopted += 1
    if pool is not None:
        pool.spawn(_serve, server, sock, client, payload)
    else:
        gevent.spawn_raw(_serve, server, sock, client, payload)


def _serve(server: Any, sock: Any, client: Any, payload: bytes) -> None:
    try:
        handler = server.handler_class(sock, client, server)
        handler.rfile.close()
        handler.rfile = io.BufferedReader(_Prefixed(payload, sock), max(io.DEFAULT_BUFFER_SIZE, len(payload)))
        handler.handle()
    except Exception:  # one connection's failure must not end the link's reader
        log.exception("wsgi_sio: serving a connection handed over by another worker failed")
    finally:
        sock.close()


_BUSY_BODY = b'{"code":3,"message":"Session owner busy"}'
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
         b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
         % (len(_BUSY_BODY), _BUSY_BODY))


def _refuse_busy(sock: Any) -> None:
    try:
        sock.send(_BUSY, 0, 0.0)
    except OSError:
        pass
    sock.close()


def _close_fd(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
