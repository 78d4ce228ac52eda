"""The pywsgi handler used by ``python -m wsgi_sio`` and ``runserver_sio``.

:class:`WSGIHandler` bounds how long a client may take to send a request: its head (request
line and headers, keep-alive idle time included) and its body each have a deadline, so a
client that sends part of a request and goes silent, or sends a byte at a time, holds no
greenlet and no descriptor for long. And it says ``Connection: close`` whenever it closes
after a response (RFC 9112 §9.6), which pywsgi does not for HTTP/1.1; :func:`say_close` makes
other pywsgi-based handlers (gevent-websocket's, gunicorn's) say it too.

Every request passes through here: the parsing (:class:`~.headers.RequestHeaders`) and the
environ are written for speed, and benchmarked (``bench/``).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent import pywsgi

from .body import BoundedInput, caused_by_body_timeout
from .headers import RequestHeaders

log = logging.getLogger("wsgi_sio")

#: a request body left unread by the application is read and dropped up to this size
MAX_DISCARD = 65536


class _HeadExpired(BaseException):
    """Thrown into a handler whose request head is late (BaseException: through pywsgi's
    ``except Exception``), caught in ``WSGIHandler.handle_one_request``."""


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

    def MessageClass(self, *args: Any) -> RequestHeaders:
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
        if getattr(self.wsgi_input, "expired", False) and caused_by_body_timeout(v):
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


class _SaysClose:
    """The ``start_response`` of a pywsgi-based handler other than ours (gevent-websocket's,
    gunicorn's), for a request that asked for ``Connection: close``.

    pywsgi then closes after the response but, for HTTP/1.1, does not say so; a keep-alive
    client (Node 19+'s agent) reuses the dead socket and fails with "socket hang up". An
    application's ``Connection: close`` is written as given and honoured, so add it. Keeps the
    handler as ``__self__``, as the bound method it stands for does, for the checks that ask
    which server is running the request (:func:`.upgrade.websocket_capable`, :func:`.upgrade.raw_connection`).
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

