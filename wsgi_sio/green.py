"""Everything that touches gevent: the runtime primitives, the raw socket behind an
upgraded request, and the one-port server used by ``python -m wsgi_sio``.

Two gevent front ends are supported:

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

:class:`WSGIHandler` bounds how long a client may take to send a request: its head (request
line and headers, keep-alive idle time included) and its body each have a deadline, so a
client that sends part of a request and goes silent, or sends a byte at a time, holds no
greenlet and no descriptor for long. And it says ``Connection: close`` whenever it closes
after a response (RFC 9112 §9.6), which pywsgi does not for HTTP/1.1.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
import types
from typing import Any, Callable

import gevent
import gevent.event
import gevent.lock
from gevent import pywsgi

from . import runtime as runtime_mod
from .runtime import Runtime

log = logging.getLogger("wsgi_sio")


class GeventRuntime(Runtime):
    name = "gevent"

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

    def raw_connection(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
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


class _NoLock:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


_NO_LOCK = _NoLock()


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

    __slots__ = ("_handler", "_sock", "_pending", "handshake_done")

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


def chain_sigterm(callback: Callable[[], Any]) -> None:
    """Run ``callback`` in the hub on SIGTERM, then the handler that was installed before.

    A gunicorn worker's SIGTERM handler only stops accepting and waits, up to the graceful
    timeout, for every connection to end, which WebSockets and long-polls never do by
    themselves. Closing the sessions first lets the worker exit as soon as they are closed.
    Python runs signal handlers in the main thread, where gevent's hub lives.
    """
    import signal

    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        gevent.get_hub().loop.run_callback(callback)
        if callable(previous):
            previous(signum, frame)

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread: no way to hear the signal from here
        log.debug("cannot hook SIGTERM outside the main thread")


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


class _SaysClose:
    """The ``start_response`` of a pywsgi-based handler other than ours (gevent-websocket's,
    gunicorn's), for a request that asked for ``Connection: close``.

    pywsgi then closes after the response but, for HTTP/1.1, does not say so; a keep-alive
    client (Node 19+'s agent) reuses the dead socket and fails with "socket hang up". An
    application's ``Connection: close`` is written as given and honoured, so add it. Keeps the
    handler as ``__self__``, as the bound method it stands for does, for the checks that ask
    which server is running the request (:func:`websocket_capable`, :func:`raw_connection`).
    """

    __slots__ = ("__self__", "_start_response")

    def __init__(self, start_response: Callable[..., Any]) -> None:
        self._start_response = start_response
        self.__self__ = start_response.__self__  # type: ignore[attr-defined]

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        for name, _ in headers:
            if name.lower() == "connection":
                break
        else:
            headers = [*headers, ("Connection", "close")]
        return self._start_response(status, headers, exc_info)


def say_close(start_response: Callable[..., Any]) -> Callable[..., Any]:
    """``start_response`` for a request that asked for ``Connection: close`` (RFC 9112 §9.6:
    the response says it too). Our :class:`WSGIHandler` says it by itself; other pywsgi-based
    handlers need the header from the application; other servers are left alone."""
    handler = getattr(start_response, "__self__", None)
    if isinstance(handler, WSGIHandler) or not isinstance(handler, pywsgi.WSGIHandler):
        return start_response
    return _SaysClose(start_response)


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


MAX_HEADERS = 100
#: a request body left unread by the application is read and dropped up to this size
MAX_DISCARD = 65536
MAX_HEADER_LINE = 65536


class RequestHeaders:
    """Request headers read straight off the connection: what pywsgi asks of its MessageClass.

    pywsgi parses headers with the ``email`` package, which costs more than everything else a
    long-poll request does. Each long-polling round trip is two requests, so this plain
    parser (same limits as ``http.client``: 100 headers, 64 KiB lines) is most of what makes
    polling fast. A malformed block sets ``status``, which pywsgi answers with 400.
    """

    __slots__ = ("items", "_first", "status")

    def __init__(self, fp: Any, *_: Any) -> None:
        self.items: list[tuple[str, str]] = []
        self._first: dict[str, str] = {}
        self.status = ""
        for _count in range(MAX_HEADERS + 1):
            raw = fp.readline(MAX_HEADER_LINE + 1)
            if len(raw) > MAX_HEADER_LINE:
                self.status = "Line too long"
                return
            if raw in (b"\r\n", b"\n", b""):
                self.status = self._framing_error()
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            if line[:1] in (" ", "\t"):  # obsolete line folding: continues the last value
                if not self.items:
                    self.status = "Invalid header continuation"
                    return
                name, value = self.items[-1]
                self.items[-1] = (name, value + " " + line.strip())
                if self._first.get(name.lower()) == value:
                    self._first[name.lower()] = self.items[-1][1]
                continue
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                self.status = "Invalid header line"  # RFC 9112 §5.1: no space before the colon
                return
            value = value.strip()
            self.items.append((name, value))
            self._first.setdefault(name.lower(), value)
        self.status = "Too many headers"

    def _framing_error(self) -> str:
        """RFC 9112 §6.1, §6.3: a body's length must be unambiguous, or a proxy in front and
        we could disagree on where the next request starts (request smuggling)."""
        te = self._first.get("transfer-encoding")
        if te is None and "content-length" not in self._first:
            return ""  # no body: nothing to be ambiguous about (every GET)
        lengths = {value for name, value in self.items if name.lower() == "content-length"}
        if te is not None:
            if lengths:
                return "Both Content-Length and Transfer-Encoding"
            if te.strip().lower() != "chunked" or sum(
                    name.lower() == "transfer-encoding" for name, _ in self.items) > 1:
                return "Unsupported Transfer-Encoding"
        elif len(lengths) > 1:
            return "Conflicting Content-Length headers"
        return ""

    def get(self, name: str, default: Any = None) -> Any:
        return self._first.get(name.lower(), default)

    getheader = get

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._first

    def __delitem__(self, name: str) -> None:
        lowered = name.lower()
        self.items = [item for item in self.items if item[0].lower() != lowered]
        self._first.pop(lowered, None)

    @property
    def headers(self) -> list[str]:
        return [f"{name}: {value}\r\n" for name, value in self.items]

    @property
    def typeheader(self) -> str | None:
        return self.get("content-type")


class RequestBodyTimeout(TimeoutError):
    """The request body did not arrive within the handler's ``body_timeout``."""


class _HeadExpired(BaseException):
    """Thrown into a handler whose request head is late (BaseException: through pywsgi's
    ``except Exception``), caught in ``WSGIHandler.handle_one_request``."""


class _BodyExpired(BaseException):
    """Thrown into a read whose body is late; raised on as :class:`RequestBodyTimeout`."""


_HEX = b"0123456789abcdefABCDEF"


class BoundedInput(pywsgi.Input):
    """pywsgi's ``wsgi.input``, with the arrival of the body bounded in time, and chunks in size.

    * ``timeout``: the whole body must arrive within this many seconds of its first read. Each
      read that may wait runs under a timer for what is left of that deadline, so a client
      sending a byte at a time cannot stretch it (a per-``recv`` socket timeout would restart
      with every byte). Past the deadline the read raises :class:`RequestBodyTimeout`, and so
      does every later one.
    * ``limit``: a chunk announced larger than this is refused from its size line, by raising
      ``too_large(size)``, instead of waiting for its data. The Engine.IO server sets it to its
      polling limit (``GeventRuntime.limit_chunks``: 413); otherwise it is the largest size
      Python can read at all, and a larger one is a client error (400 from pywsgi), not the
      OverflowError and 500 it is in pywsgi. Applies to ``read``, which reads chunked bodies
      at most 64 KiB at a time, however large a chunk and the size asked for.
    """

    __slots__ = ("deadline", "expired", "limit", "timeout", "too_large")

    def __init__(self, rfile: Any, content_length: int | None, socket: Any = None,
                 chunked_input: bool = False, timeout: float | None = None) -> None:
        super().__init__(rfile, content_length, socket=socket, chunked_input=chunked_input)
        self.timeout = timeout
        self.deadline: float | None = None
        self.expired = False
        self.limit = sys.maxsize
        self.too_large: Callable[[int], Exception] = _chunk_too_large

    def read(self, length: int | None = None) -> bytes:
        if self.chunked_input:
            return self._bounded(BoundedInput._read_chunks, length)
        return self._bounded(pywsgi.Input.read, length)

    def readline(self, size: int | None = None) -> bytes:
        return self._bounded(pywsgi.Input.readline, size)

    def _bounded(self, read: Callable[[Any, int | None], bytes], size: int | None) -> bytes:
        if self.expired:
            raise self._timeout_error()
        if self.chunked_input:
            if self.chunk_length == 0:
                return b""  # the last chunk is in
        elif self.content_length is None or self.position >= self.content_length:
            return b""  # no body, or all of it read: nothing to wait for
        timeout = self.timeout
        if timeout is None:
            return read(self, size)
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + timeout
        left = self.deadline - now
        if left <= 0:
            self.expired = True
            raise self._timeout_error()
        # A raw loop timer: a third of what a gevent.Timeout costs, on every polling POST.
        timer = gevent.get_hub().loop.timer(left)
        timer.start(gevent.getcurrent().throw, _BodyExpired)
        try:
            return read(self, size)
        except _BodyExpired:
            self.expired = True
            raise self._timeout_error() from None
        finally:
            timer.close()

    def _timeout_error(self) -> RequestBodyTimeout:
        return RequestBodyTimeout(f"request body not received within {self.timeout:g} s")

    def _read_chunks(self, length: int | None) -> bytes:
        """pywsgi's chunked read, one chunk at a time, each size checked against ``limit``
        before pywsgi waits for that chunk's data."""
        parts = []
        want = length if length is not None and length >= 0 else None
        while self.chunk_length != 0 and (want is None or want > 0):
            if self.position >= self.chunk_length:  # a chunk-size line is next
                size = self._next_chunk_size()
                # A complete size line: read that chunk (a last chunk: its trailers). Not
                # all arrived yet: let pywsgi read the line and one byte, then check.
                step = min(size, _READ_STEP) if size else 1
            else:
                step = min(self.chunk_length - self.position, _READ_STEP)
            data = pywsgi.Input.read(self, step if want is None else min(step, want))
            if self.chunk_length > self.limit:
                raise self.too_large(self.chunk_length)
            if not data:
                break
            parts.append(data)
            if want is not None:
                want -= len(data)
        return b"".join(parts)

    def _next_chunk_size(self) -> int | None:
        """The size on the chunk-size line ahead, when all of it is in the buffer (waits, under
        the deadline, only when the buffer is empty); too_large raised as soon as the digits
        seen say more than ``limit``. None: not all there yet, or malformed (pywsgi answers
        400 for that when it reads the line)."""
        ahead = self.rfile.peek(1)[:18]
        digits = len(ahead) - len(ahead.lstrip(_HEX))
        if not 0 < digits <= 16:  # pywsgi refuses more than 16 hex digits itself
            return None
        size = int(ahead[:digits], 16)  # more digits can only make it larger
        if size > self.limit:
            raise self.too_large(size)
        return size if ahead[digits:digits + 1] in (b"\r", b";") else None


#: the most a chunked read asks pywsgi for at once
_READ_STEP = 65536


def _chunk_too_large(size: int) -> Exception:
    # pywsgi's own error for bad chunked input: if the application lets it through, pywsgi
    # answers 400 (when no response has started) and closes the connection.
    return pywsgi._InvalidClientInput(f"chunk size {size} too large")


def _caused_by_body_timeout(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was raised while handling, a :class:`RequestBodyTimeout` (Django
    re-raises a failed body read as ``UnreadablePostError``)."""
    for _ in range(8):
        if exc is None:
            return False
        if isinstance(exc, RequestBodyTimeout):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


_date_cache: list[Any] = [0, b""]
_TIMEOUT_BODY = b"Request body not received in time"


class WSGIHandler(pywsgi.WSGIHandler):
    """pywsgi's handler, tuned for Engine.IO traffic (used by ``python -m wsgi_sio``).

    * Nagle off: a long-poll answer must not wait for the client's delayed ACK.
    * Header and body of a response leave in one write: one segment, one syscall.
    * Request headers parsed by :class:`RequestHeaders` instead of the ``email`` package.
    * Deadlines for a request's head and body (``header_timeout``, ``body_timeout``); a
      response after which the connection closes says ``Connection: close``.
    """

    #: seconds a request's line and headers may take to arrive, the idle time of a kept-alive
    #: connection between requests included; then the connection is closed. Without it a
    #: client that sends half a request and goes silent (or vanishes) would hold a greenlet
    #: and a file descriptor for ever. A deadline, not a timeout per read: a byte every second
    #: does not keep a head coming for ever. None: no limit. Set per server (``make_server``).
    header_timeout: float | None = 60.0
    #: seconds a request body may take to arrive, from the application's first read of it
    #: (:class:`BoundedInput`); past it the read raises, the request is answered 408 if the
    #: application lets the error through, and the connection is closed. None: no limit.
    body_timeout: float | None = 60.0
    #: the head's deadline, one per connection: a raw loop timer, as it is restarted and
    #: stopped on every request. Restarted with ``again`` (its ``repeat`` is the timeout):
    #: libev's ``start`` after ``stop`` would resume the time left, not start afresh.
    _head_timer: Any = None
    close_connection: bool  # pywsgi's, set per request
    provided_date: Any  # pywsgi's, set per response

    def handle(self) -> None:
        try:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            super().handle()
        finally:
            if self._head_timer is not None:
                self._head_timer.close()

    def handle_one_request(self) -> Any:
        try:
            return super().handle_one_request()
        except _HeadExpired:
            # The head did not arrive in time: close without an answer (nobody may be
            # listening, and an idle kept-alive connection is no error).
            return None
        finally:
            if self._head_timer is not None:
                self._head_timer.stop()

    def read_requestline(self) -> Any:
        # The head's deadline runs from here (the wait for a kept-alive connection's next
        # request included) until get_environ, once the headers are in: the application, a
        # long-poll or a WebSocket may then rightly wait much longer.
        if self.header_timeout is not None:
            if self._head_timer is None:
                self._head_timer = self.server.loop.timer(self.header_timeout, self.header_timeout)
            self._head_timer.again(gevent.getcurrent().throw, _HeadExpired)
        return super().read_requestline()

    def log_request(self) -> None:
        if not isinstance(self.server.log, pywsgi._NoopLog):  # no access log: don't format one
            super().log_request()

    def get_environ(self) -> dict[str, Any]:
        """pywsgi's environ, built from :class:`RequestHeaders` without its per-line re-parse.

        Same rules as pywsgi: header names with ``_`` are dropped (so ``X_Forwarded_For``
        cannot pose as ``X-Forwarded-For``), repeated headers are joined with ``,`` (cookies
        with ``; ``), Content-Type and Content-Length go to their CGI keys.
        """
        timer = self._head_timer
        if timer is not None:
            timer.stop()  # the head is in
        headers = self.headers
        if not isinstance(headers, RequestHeaders):
            return super().get_environ()
        env = self.server.get_environ()
        env["REQUEST_METHOD"] = self.command
        env["SCRIPT_NAME"] = ""
        path, _, query = self.path.partition("?")
        env["PATH_INFO"] = pywsgi.unquote_latin1(path) if "%" in path else path
        env["QUERY_STRING"] = query
        content_type = headers.get("content-type")
        if content_type is not None:
            env["CONTENT_TYPE"] = content_type
        length = headers.get("content-length")
        if length:
            env["CONTENT_LENGTH"] = length
        env["SERVER_PROTOCOL"] = self.request_version
        client_address = self.client_address
        if isinstance(client_address, tuple):
            env["REMOTE_ADDR"] = str(client_address[0])
            env["REMOTE_PORT"] = str(client_address[1])
        for name, value in headers.items:
            if "_" in name:
                continue
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
                continue
            key = "HTTP_" + key
            if key in env:
                env[key] += ("; " if key == "HTTP_COOKIE" else ",") + value
            else:
                env[key] = value
        sock = self.socket if env.get("HTTP_EXPECT") == "100-continue" else None
        chunked = env.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"
        handling_reads = not self._connection_upgrade_requested()
        if not handling_reads and timer is not None:
            # a WebSocket keeps its connection, and would keep the timer, for hours
            timer.close()
            self._head_timer = None
        self.wsgi_input = BoundedInput(self.rfile, self.content_length, socket=sock,
                                       chunked_input=chunked, timeout=self.body_timeout)
        env["wsgi.input"] = self.wsgi_input if handling_reads else self.rfile
        env["wsgi.input_terminated"] = handling_reads
        return env

    def MessageClass(self, *args: Any) -> RequestHeaders:  # noqa: N802 (pywsgi's name)
        return RequestHeaders(*args)

    def _handle_client_error(self, ex: BaseException) -> Any:
        # pywsgi prints a traceback, logs an error and writes a 400 for a client that reset
        # the connection in the middle of its request head: for a peer that is gone, end
        # the connection quietly (None: no response, pywsgi closes the socket).
        if isinstance(ex, (ConnectionError, TimeoutError)):
            return None
        return super()._handle_client_error(ex)

    def run_application(self) -> None:
        try:
            super().run_application()
        finally:
            self._settle_body()

    def _settle_body(self) -> None:
        """Read what the application left of the request body, or decide to close instead.

        pywsgi then reads and discards the rest of the body, however large, even when the
        response said ``Connection: close`` (a 413): the socket would stay open as long as the
        client keeps sending. A small remainder is read here, within the body deadline; past
        MAX_DISCARD, for an unfinished chunked body or one that did not arrive in time, the
        connection is closed instead, and pywsgi is left nothing to read.
        """
        body = self.wsgi_input
        if body is None or self.connection_upgraded or not (body.content_length or body.chunked_input):
            return
        if self.close_connection or self._unusable(body):
            self.close_connection = True
        else:
            try:
                while body.read(16384):
                    pass
            except OSError:  # the rest did not come in time, or the client left
                self.close_connection = True
        if self.close_connection:
            body.chunked_input = False
            body.content_length = body.position = 0

    @staticmethod
    def _unusable(body: Any) -> bool:
        """Whether what is left of the request body makes the connection unusable: it did not
        arrive in time, is not worth reading (more than MAX_DISCARD, or chunked), or will not
        come: the client sent ``Expect: 100-continue`` and was never told to go on, so after
        a final answer it sends no body (RFC 9110 §10.1.1), and a 100 now would be too late."""
        if getattr(body, "expired", False) or (body.socket is not None and body.position == 0):
            return True
        if body.chunked_input:
            return bool(body.chunk_length != 0)
        return (body.content_length or 0) - body.position > MAX_DISCARD

    def handle_error(self, t: Any, v: Any, tb: Any) -> None:
        # An application that failed because the request body did not arrive in time: the
        # client's doing, so 408 (RFC 9110 §15.5.9) and no traceback, not a 500.
        if getattr(self.wsgi_input, "expired", False) and _caused_by_body_timeout(v):
            log.debug("request body from %s not received in time: %s", self.client_address, v)
            self.close_connection = True
            if not self.headers_sent:
                try:
                    self.start_response("408 Request Timeout", [
                        ("Content-Type", "text/plain"), ("Content-Length", str(len(_TIMEOUT_BODY))),
                        ("Connection", "close")])
                    self.write(_TIMEOUT_BODY)
                except OSError:
                    pass
            return
        super().handle_error(t, v, tb)

    def finalize_headers(self) -> None:
        if self.provided_date is None:
            # pywsgi formats the date for every response; one per second is enough
            now = int(time.time())
            if _date_cache[0] != now:
                _date_cache[:] = [now, pywsgi.format_date_time(now)]
            self.response_headers.append((b"Date", _date_cache[1]))
            self.provided_date = True
        super().finalize_headers()
        if self.code == 101:
            return
        if not self.close_connection:
            body = self.wsgi_input
            if body is None or not (body.content_length or body.chunked_input) or not self._unusable(body):
                return
            self.close_connection = True  # decided now, so that this response can say it
        # RFC 9112 §9.6: a server that closes after this response says so in it. pywsgi
        # writes the header for HTTP/1.0 only, and as "keep-alive" when it decided later.
        headers = self.response_headers
        for i, (name, value) in enumerate(headers):
            if name.lower() == b"connection":
                if value.lower() != b"close":
                    headers[i] = (name, b"close")
                return
        headers.append((b"Connection", b"close"))

    def _write_with_headers(self, data: bytes) -> None:
        self.headers_sent = True
        self.finalize_headers()
        towrite = bytearray(b"HTTP/1.1 ")
        towrite += self.status
        towrite += b"\r\n"
        for header, value in self.response_headers:
            towrite += header
            towrite += b": "
            towrite += value
            towrite += b"\r\n"
        towrite += b"\r\n"
        if data and not self.response_use_chunked:
            towrite += data
            self._sendall(towrite)
        else:
            self._sendall(towrite)
            self._write(data)


def make_server(app: Callable[..., Any], host: str, port: int, *,
                header_timeout: float | None = WSGIHandler.header_timeout,
                body_timeout: float | None = WSGIHandler.body_timeout,
                **kw: Any) -> pywsgi.WSGIServer:
    """A gevent WSGI server for ``app`` on ``host:port`` (port 0 picks a free one)."""
    if "handler_class" not in kw:
        kw["handler_class"] = type("WSGIHandler", (WSGIHandler,), {
            "header_timeout": header_timeout, "body_timeout": body_timeout})
    kw.setdefault("log", None)
    kw.setdefault("error_log", log)
    # Raw greenlets for connections: a gevent.Greenlet also records where it was spawned
    # (for greenlet trees), which every idle WebSocket would carry for its whole life.
    kw.setdefault("spawn", gevent.spawn_raw)
    return pywsgi.WSGIServer((host, port), _direct_callable(app), **kw)


def _direct_callable(app: Callable[..., Any]) -> Callable[..., Any]:
    """``app.__call__`` as a bound method when it is Python code.

    Calling an instance goes through C (the type's call slot), and every WebSocket's greenlet
    keeps that C frame on its saved stack for the life of the connection; a bound method of a
    Python function is called by the interpreter without it (~0.7 KB less per connection).
    """
    call = getattr(type(app), "__call__", None)
    if isinstance(call, types.FunctionType):
        return app.__call__  # type: ignore[no-any-return]
    return app


def patch_all() -> None:
    """Make the standard library cooperative; must run before the app is imported."""
    from gevent import monkey

    monkey.patch_all()


GC_THRESHOLD = (50_000, 50, 100)


def tune_gc() -> None:
    """Collect cyclic garbage less often, and never scan what exists at start-up.

    A server holding thousands of connections has tens of thousands of long-lived objects;
    with CPython's default thresholds (700, 10, 10) the collector walks them often enough to
    add ~10 ms to the slowest deliveries of a broadcast (bench: p99 latency at 20 broadcasts/s
    to 1,000 clients, 23-30 ms with the defaults, 18 ms with these). Garbage without cycles
    is freed at once by reference counting either way. For processes this module starts
    (``python -m wsgi_sio``, ``runserver_sio``); under gunicorn, call it from ``post_fork``.
    """
    import gc

    gc.collect()
    gc.freeze()  # the app and its modules, loaded by now, are not scanned again
    gc.set_threshold(*GC_THRESHOLD)


def serve(app: Callable[..., Any], host: str, port: int, *, access_log: bool = False,
          handler: str = "pywsgi", header_timeout: float | None = 60.0,
          body_timeout: float | None = 60.0) -> None:
    """Serve ``app`` until SIGINT/SIGTERM; then close every Socket.IO client and stop."""
    import signal

    for engine in _engines_of(app):
        runtime_mod.claim_path(engine.handles)  # before the first request (gevent-websocket)
    options: dict[str, Any] = {"log": "default" if access_log else None,
                               "header_timeout": header_timeout, "body_timeout": body_timeout}
    if handler == "gevent-websocket":
        from geventwebsocket.handler import WebSocketHandler

        options["handler_class"] = WebSocketHandler
    server = make_server(app, host, port, **options)
    server.start()
    tune_gc()
    address = server.address
    print(f"wsgi_sio: serving on http://{address[0]}:{address[1]}/", flush=True)
    stopping = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stopping.set)
    gevent.signal_handler(signal.SIGINT, stopping.set)
    stopping.wait()
    log.info("shutting down")
    drain(_engines_of(app))
    server.stop(timeout=5)


def drain(engines: list[Any]) -> None:
    """Close every client of ``engines`` and wait (a few seconds at most) until they all have
    their close; meanwhile the listener stays open and new handshakes get 503."""
    for engine in engines:
        engine.shutdown()
    for engine in engines:
        engine.wait_closed(engine.close_grace + 1)


def _engines_of(app: Any) -> list[Any]:
    """Engine servers reachable from ``app`` through wrapping middleware."""
    found = []
    seen = set()
    while app is not None and id(app) not in seen:
        seen.add(id(app))
        server = getattr(app, "server", None)
        engine = getattr(server, "engine", None) or getattr(app, "engine", None)
        if engine is None and hasattr(app, "handles"):
            engine = app  # an Engine.IO server mounted on its own
        if engine is not None and hasattr(engine, "close_all"):
            found.append(engine)
        app = getattr(app, "app", None)
    return found
