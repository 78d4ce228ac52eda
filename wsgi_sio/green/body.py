"""``wsgi.input`` for :class:`~.handler.WSGIHandler`: pywsgi's, with the body's arrival bounded.

A deadline for the whole body, not a timeout per read (a byte at a time does not keep a body
coming for ever), and chunk sizes checked from their size line, before pywsgi waits for the
data of a chunk it should refuse.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent import pywsgi


class RequestBodyTimeout(TimeoutError):
    """The request body did not arrive within the handler's ``body_timeout``."""


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


def caused_by_body_timeout(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was raised while handling, a :class:`RequestBodyTimeout` (Django
    re-raises a failed body read as ``UnreadablePostError``)."""
    for _ in range(8):
        if exc is None:
            return False
        if isinstance(exc, RequestBodyTimeout):
            return True
        exc = exc.__cause__ or exc.__context__
    return False

