"""Request headers read straight off the connection, for :class:`~.handler.WSGIHandler`.

pywsgi hands the request's header block to its handler's ``MessageClass``; the ``email``
package it uses by default is the costliest part of a long-poll request, so ours reads the
lines itself, with the limits of ``http.client`` and the framing checks of RFC 9112.
"""

from __future__ import annotations

from typing import Any

MAX_HEADERS = 100
MAX_HEADER_LINE = 65536


class RequestHeaders:
    """Request headers read straight off the connection: what pywsgi asks of its MessageClass.

    pywsgi parses headers with the ``email`` package, which costs more than everything else a
    long-poll request does. Each long-polling round trip is two requests, so this plain
    parser (same limits as ``http.client``: 100 headers, 64 KiB lines) is most of what makes
    polling fast. A malformed block sets ``status``, which pywsgi answers with 400.
    """

    __slots__ = ("_first", "items", "status")

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

