"""Socket.IO 0.9 (protocol 1, gevent-socketio's and socket.io-client 0.9.x's): frames and payloads.

Sans-IO and standard library only, like the rest of :mod:`wsgi_sio.protocol`. The serving
side (handshake, transports, sessions) is :mod:`wsgi_sio.legacy09`.

Rules (``LearnBoost/socket.io-spec`` README, checked against socket.io-client 0.9.16
``lib/parser.js``):

* A frame is ``type:id[+]:endpoint[:data]``. ``type`` is one digit 0-8 (:class:`FrameType`);
  ``id`` optional digits, ``+`` after it meaning the application answers with data (a *data
  ack*), a bare id meaning the receiving transport acknowledges at once; ``endpoint`` is the
  namespace, ``""`` for the root, without ``:``; ``data`` is everything after the third ``:``
  and may hold ``:`` and newlines.
* An ack's data is ``<id>[+<JSON array of arguments>]``; an error's ``<reason>[+<advice>]``
  (:class:`ErrorReason`, :class:`ErrorAdvice`); an event's ``{"name": ..., "args": [...]}``
  (``args`` left out when empty).
* A polling payload of one frame is the frame itself; of several, each frame is prefixed
  with ``\\ufffd<length>\\ufffd``, the length counted in **UTF-16 code units** (JavaScript's
  ``String.length``; the client parses by length, so U+FFFD may occur in data).
* Bad input raises :class:`Legacy09Error` (a ``ProtocolError``): a frame too long, too many
  frames, an endpoint too long, a malformed frame. Nothing else escapes the decoders.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import ProtocolError

#: defaults of the decoders' limits
MAX_FRAME = 1_000_000          # characters of one frame
MAX_FRAMES = 1_000             # frames in one payload
MAX_ENDPOINT = 256             # characters of an endpoint

SEPARATOR = "\ufffd"


class Legacy09Error(ProtocolError):
    """A 0.9 frame or payload that cannot be decoded; the message says why."""


class FrameType(enum.IntEnum):
    DISCONNECT = 0
    CONNECT = 1
    HEARTBEAT = 2
    MESSAGE = 3
    JSON = 4
    EVENT = 5
    ACK = 6
    ERROR = 7
    NOOP = 8


class ErrorReason(enum.IntEnum):
    TRANSPORT_NOT_SUPPORTED = 0
    CLIENT_NOT_HANDSHAKEN = 1
    UNAUTHORIZED = 2


class ErrorAdvice(enum.IntEnum):
    RECONNECT = 0


@dataclass(frozen=True, slots=True)
class Frame:
    """One 0.9 frame. ``data`` is the raw text after the third ``:`` (None: no data field);
    ``ack_data``: the id was followed by ``+``."""

    type: FrameType
    id: int | None = None
    ack_data: bool = False
    endpoint: str = ""
    data: str | None = None

    # -- building frames --------------------------------------------------------------------

    @classmethod
    def event(cls, name: str, args: list[Any], endpoint: str = "", id: int | None = None) -> Frame:
        body: dict[str, Any] = {"name": name}
        if args:
            body["args"] = args
        return cls(FrameType.EVENT, id, id is not None, endpoint, _dumps(body))

    @classmethod
    def json(cls, value: Any, endpoint: str = "", id: int | None = None) -> Frame:
        return cls(FrameType.JSON, id, id is not None, endpoint, _dumps(value))

    @classmethod
    def ack(cls, ack_id: int, args: list[Any] | None = None, endpoint: str = "") -> Frame:
        """An acknowledgement: ``args`` None for the transport's plain ack, a list for a data ack."""
        data = str(ack_id) if args is None else f"{ack_id}+{_dumps(args)}"
        return cls(FrameType.ACK, None, False, endpoint, data)

    @classmethod
    def error(cls, reason: ErrorReason | None, advice: ErrorAdvice | None = None,
              endpoint: str = "") -> Frame:
        text = "" if reason is None else str(int(reason))
        if advice is not None:
            text += f"+{int(advice)}"
        return cls(FrameType.ERROR, None, False, endpoint, text)

    # -- reading frames ---------------------------------------------------------------------

    def event_body(self) -> tuple[str, list[Any]]:
        """An EVENT's name and arguments."""
        value = _loads(self.data or "", "event")
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise Legacy09Error("an event's data must be a JSON object with a string name")
        args = value.get("args", [])
        if args is None:
            args = []
        if not isinstance(args, list):
            args = [args]
        return value["name"], args

    def json_body(self) -> Any:
        return _loads(self.data or "", "json message")

    def ack_body(self) -> tuple[int, list[Any] | None]:
        """An ACK's id and arguments (None: a plain ack, without ``+``)."""
        match = _ACK.fullmatch(self.data or "")
        if match is None:
            raise Legacy09Error("an ack's data must be <id>[+<JSON array>]")
        ack_id = int(match.group(1))
        if match.group(2) is None:
            return ack_id, None
        args = _loads(match.group(2), "ack")
        return ack_id, args if isinstance(args, list) else [args]


_FRAME = re.compile(r"([0-8]):([0-9]{0,15})(\+?):([^:]*)(?::(.*))?", re.DOTALL)
_ACK = re.compile(r"([0-9]{1,15})(?:\+(.*))?", re.DOTALL)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Legacy09Error(f"the {what} is not valid JSON") from exc


def encode_frame(frame: Frame) -> str:
    ident = "" if frame.id is None else str(frame.id)
    if frame.ack_data and frame.id is not None:
        ident += "+"
    head = f"{int(frame.type)}:{ident}:{frame.endpoint}"
    return head if frame.data is None else f"{head}:{frame.data}"


def decode_frame(text: str, *, max_frame: int = MAX_FRAME, max_endpoint: int = MAX_ENDPOINT) -> Frame:
    if len(text) > max_frame:
        raise Legacy09Error(f"frame of {len(text)} characters, more than {max_frame}")
    match = _FRAME.fullmatch(text)
    if match is None:
        raise Legacy09Error(f"not a 0.9 frame (type:id:endpoint:data): {text[:40]!r}")
    kind, ident, plus, endpoint, data = match.groups()
    if len(endpoint) > max_endpoint:
        raise Legacy09Error(f"endpoint of {len(endpoint)} characters, more than {max_endpoint}")
    if plus and not ident:
        raise Legacy09Error("'+' without an id")
    return Frame(FrameType(int(kind)), int(ident) if ident else None, bool(plus), endpoint, data)


def _units(text: str) -> int:
    """``text``'s length in UTF-16 code units, as JavaScript counts it."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def encode_payload(frames: list[str]) -> str:
    """Encoded frames as one polling body."""
    if len(frames) == 1:
        return frames[0]
    return "".join(f"{SEPARATOR}{_units(f)}{SEPARATOR}{f}" for f in frames)


def decode_payload(body: str, *, max_frames: int = MAX_FRAMES, max_frame: int = MAX_FRAME,
                   max_endpoint: int = MAX_ENDPOINT) -> list[Frame]:
    """A polling body's frames (one bare frame, or several length-prefixed ones)."""
    if not body.startswith(SEPARATOR):
        return [decode_frame(body, max_frame=max_frame, max_endpoint=max_endpoint)]
    # Lengths are UTF-16 code units: walk the body in that unit.
    units = body.encode("utf-16-le", "surrogatepass")
    total = len(units) // 2
    sep = ord(SEPARATOR)
    frames: list[Frame] = []
    pos = 0
    while pos < total:
        if _unit(units, pos) != sep:
            raise Legacy09Error(f"payload: expected \\ufffd at {pos}")
        pos += 1
        digits = ""
        while pos < total and _unit(units, pos) != sep:
            unit = _unit(units, pos)
            if not 0x30 <= unit <= 0x39 or len(digits) >= 9:
                raise Legacy09Error("payload: a frame length must be a few digits")
            digits += chr(unit)
            pos += 1
        if pos >= total or not digits:
            raise Legacy09Error("payload: a length must be digits between two \\ufffd")
        pos += 1
        length = int(digits)
        if length > max_frame:
            raise Legacy09Error(f"payload: frame of {length} characters, more than {max_frame}")
        if pos + length > total:
            raise Legacy09Error("payload: a frame is shorter than its length")
        if len(frames) >= max_frames:
            raise Legacy09Error(f"payload of more than {max_frames} frames")
        try:
            text = units[2 * pos:2 * (pos + length)].decode("utf-16-le")
        except UnicodeDecodeError as exc:
            raise Legacy09Error("payload: a length splits a character") from exc
        frames.append(decode_frame(text, max_frame=max_frame, max_endpoint=max_endpoint))
        pos += length
    return frames


def _unit(units: bytes, pos: int) -> int:
    return units[2 * pos] | units[2 * pos + 1] << 8


__all__ = ["MAX_ENDPOINT", "MAX_FRAME", "MAX_FRAMES", "ErrorAdvice", "ErrorReason", "Frame",
           "FrameType", "Legacy09Error", "decode_frame", "decode_payload", "encode_frame",
           "encode_payload"]
