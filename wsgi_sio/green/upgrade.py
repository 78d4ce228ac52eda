"""Taking over the connection of a WebSocket request from the gevent front end.

Two front ends are supported:

* gevent's own ``pywsgi`` handler (and gunicorn's ``gevent_pywsgi`` worker). For a request
  carrying ``Upgrade: websocket`` it hands the application the raw input stream as
  ``wsgi.input`` and treats a ``101`` response as an upgraded connection, so wsgi_sio performs
  the WebSocket handshake itself, only on its own path, with proper 400/426 answers.
* gevent-websocket's ``WebSocketHandler`` (and gunicorn's ``GeventWebSocketWorker``), which has
  already sent the 101 before the application runs. wsgi_sio then takes over the socket from its
  ``WebSocket`` object and does its own framing, since that object's framing has no size limits,
  sends no close code and unmasks byte by byte.

Importing this module installs a class-level ``pre_start_hook`` on gevent's ``WSGIServer``,
the hook gevent-websocket's handler asks before upgrading: requests on a path a wsgi_sio
server has claimed (``runtime.claim_path``) are left to wsgi_sio, from the first request on.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from gevent import pywsgi

from .. import runtime as runtime_mod


class RawConnection:
    """The byte stream under an upgraded request, read and written on the socket itself.

    Not through the handler's buffered ``rfile``: a buffered read blocks holding its whole
    buffer, and an idle WebSocket waits in a read all its life, while gevent's ``recv``
    allocates only once the socket is readable. Bytes the client sent right behind its
    handshake may already sit in ``rfile``; they are handed out first. A class with slots
    rather than closures, because one lives as long as each connection.

    ``handshake_done`` tells whether a 101 has already been written by the server's handler
    (gevent-websocket) or still has to be written by us (plain pywsgi).
    """

    __slots__ = ("_handler", "_pending", "_sock", "handshake_done")

    def __init__(self, handler: pywsgi.WSGIHandler, handshake_done: bool) -> None:
        self._handler = handler
        self._sock = handler.socket
        self._pending = _take_buffered(handler)
        self.handshake_done = handshake_done
        # The parsed request headers are in the environ; the handler's copy would live as
        # long as the connection for nothing.
        handler.headers = None

    def handshake_sent(self) -> None:
        """The 101 is on the wire: the handler's copy of its headers is never read again."""
        self._handler.response_headers = []

    def recv(self, size: int) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        return self._sock.recv(size)

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(data)

    def send_nowait(self, data: bytes) -> int:
        """Write what fits in the socket buffer now; how many bytes went out (never blocks)."""
        try:
            return self._sock.send(data, 0, 0.0)  # gevent: a zero timeout never waits
        except BlockingIOError:
            return 0

    def close(self) -> None:
        """Close so that a greenlet blocked reading this connection wakes up at once.

        Shutting the socket down ends a pending ``recv`` (it returns b""); ``rfile`` was
        closed at the takeover, which tells the pywsgi handler not to read another request.
        """
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def websocket_capable(start_response: Callable[..., Any]) -> bool:
    """Whether the server that called us can switch this connection to WebSocket."""
    return isinstance(getattr(start_response, "__self__", None), pywsgi.WSGIHandler)


def claim_upgrades(environ: dict[str, Any], start_response: Callable[..., Any],
                   handles: Callable[[str], bool]) -> bool:
    """Keep gevent-websocket's handler from upgrading requests on our path.

    That handler upgrades before the application runs, on any path, and answers a malformed
    key with a 500. Through its documented ``pre_start_hook`` we tell it to pass requests on
    our path to the application untouched, so wsgi_sio does those handshakes itself (with 400 /
    426 answers). Other paths keep gevent-websocket's behaviour.

    The class-level hook installed at import answers for every server from its first request,
    once the path is claimed (``runtime.claim_path``: the middleware does it when it is made,
    ``python -m wsgi_sio`` before it serves). This runs at an engine's first request, for what
    that cannot reach: an engine mounted without the middleware, or a server with a hook of
    its own as an instance attribute (gevent-websocket's ``WebSocketServer`` always sets one,
    None unless given), which hides the class-level one; ours is chained in front of it.
    Returns True once done (or when there is nothing to claim).
    """
    runtime_mod.claim_path(handles)
    ws = environ.get("wsgi.websocket")
    # gevent-websocket calls the app of an upgraded request with a start_response of its own
    handler = ws.handler if ws is not None else getattr(start_response, "__self__", None)
    if not isinstance(handler, pywsgi.WSGIHandler):
        return True
    server = getattr(handler, "server", None)
    if server is None or not hasattr(handler, "upgrade_websocket"):
        return True  # not gevent-websocket's handler: nothing upgrades behind our back
    previous = getattr(server, "pre_start_hook", None)
    if getattr(previous, "wsgi_sio", False):
        return True  # the class-level hook, or one chained here before

    def pre_start_hook(h: Any) -> bool:
        if runtime_mod.claimed(h.environ.get("PATH_INFO", "")):
            return True
        return bool(previous(h)) if previous is not None else False

    pre_start_hook.wsgi_sio = True  # type: ignore[attr-defined]
    server.pre_start_hook = pre_start_hook
    return True


def _install_pre_start_hook() -> None:
    """Give gevent's ``WSGIServer`` class the ``pre_start_hook`` that gevent-websocket's handler
    asks (``server.pre_start_hook(handler)``: true leaves the request to the application).

    On the class, so it holds for every server, made before or after, from its first request:
    gunicorn's ``GeventWebSocketWorker`` makes its server itself. An instance attribute still
    wins (see :func:`claim_upgrades`), and a class-level hook already there is asked after ours.
    """
    previous = pywsgi.WSGIServer.__dict__.get("pre_start_hook")
    if getattr(previous, "wsgi_sio", False):
        return
    previous_hook = getattr(previous, "__func__", previous)

    def pre_start_hook(handler: Any) -> bool:
        if runtime_mod.claimed(handler.environ.get("PATH_INFO", "")):
            return True
        return bool(previous_hook(handler)) if previous_hook is not None else False

    pre_start_hook.wsgi_sio = True  # type: ignore[attr-defined]
    pywsgi.WSGIServer.pre_start_hook = staticmethod(pre_start_hook)  # type: ignore[attr-defined]


_install_pre_start_hook()


def raw_connection(environ: dict[str, Any], start_response: Callable[..., Any]) -> RawConnection | None:
    """The raw stream of an ``Upgrade: websocket`` request, or None where there is none."""
    ws = environ.get("wsgi.websocket")
    if ws is not None:  # gevent-websocket already answered 101
        handler = ws.handler
        # Keep gevent-websocket from writing its own (code-less) close frame when we return.
        ws.closed = True
        return RawConnection(handler, handshake_done=True)
    handler = getattr(start_response, "__self__", None)
    if isinstance(handler, pywsgi.WSGIHandler) and environ.get("wsgi.input") is handler.rfile:
        return RawConnection(handler, handshake_done=False)
    return None


def _take_buffered(handler: pywsgi.WSGIHandler) -> bytes:
    """Whatever ``rfile`` holds past the request, without waiting for more."""
    sock = handler.socket
    rfile = handler.rfile
    timeout = sock.gettimeout()
    sock.settimeout(0.0)  # the peek below must not wait for the network
    try:
        buffered = rfile.peek(1)
    except OSError:
        buffered = b""
    finally:
        sock.settimeout(timeout)
    data = rfile.read1(len(buffered)) if buffered else b""
    # From here on the socket is read directly: closing rfile frees its 8 KiB buffer (the
    # socket stays open) and tells pywsgi not to read another request from this connection.
    rfile.close()
    return data

