"""The server side of RFC 6455: the opening handshake and the frame codec, sans-IO.

Why our own codec: gevent-websocket 0.10.1 unmasks payloads one byte at a time in Python
(about 0.6 s of CPU per 1 MB frame), has no size limit and never puts a close code on the
wire. Once the upgrade is accepted the transport takes over the raw socket and uses this
module for every byte in and out; nothing here touches a socket, a thread or a clock.

Scope: server role only (client frames must be masked, ours never are) and no extensions
(we never negotiate permessage-deflate, so every RSV bit must be zero).

Rules of the state machine (``FrameDecoder``)
---------------------------------------------
* ``feed(data)`` appends ``data`` to a buffer and parses every complete frame in it,
  returning the events in wire order: ``Message``, ``Ping``, ``Pong``, ``Close``. Partial
  frames stay buffered until the next ``feed()``; ``feed(b"")`` is harmless.
* Each frame header is checked as soon as its bytes are present, before waiting for the
  rest of the frame. In particular a length that would make the message exceed
  ``max_message_size`` raises 1009 right after the length field is read, so a peer can never
  make us buffer more than the limit (plus one header) for a data message.
* Data frames build at most one message at a time: TEXT/BINARY starts it, CONTINUATION
  extends it, FIN ends it (§5.4). The headers of its fragments may add up to at most
  ``max(max_message_size, 64 KiB)`` bytes (1009 past that): a flood of empty fragments
  is capped by bytes too. Control frames (PING, PONG, CLOSE) may arrive between
  fragments and are reported at once; they never touch the message being built.
* Text is checked as UTF-8 as it arrives (§8.1), fragment by fragment and, for a frame
  still incomplete, over the bytes received so far: a bad byte fails the connection when
  it arrives, not when its frame or message ends; a character may straddle fragments.
* A ``Close`` event is terminal: it is the last event returned, anything after it on the
  wire is dropped, and later ``feed()`` calls return ``[]``. Answering the close is the
  caller's job (``encode_close``).
* A protocol violation raises ``WebSocketError`` whose ``code`` is the close code to send
  (1002 protocol error, 1007 invalid UTF-8, 1009 too big). Events of the frames before
  the bad one are still returned first: when one ``feed()`` holds both, it returns those
  events and ``error`` is set; the caller handles them, then fails the connection (§7.1.7)
  instead of reading more. The decoder stays failed; later ``feed()`` calls raise the
  error.

The encoders are plain functions because sending needs no state: ``encode_message`` is the
hot path (one Socket.IO packet per call), ``encode_frame`` covers everything else.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import enum
import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import HandshakeError, LocalProtocolError, WebSocketError

__all__ = [
    "Close",
    "CloseCode",
    "Event",
    "FrameDecoder",
    "Message",
    "Opcode",
    "Ping",
    "Pong",
    "accept_handshake",
    "encode_close",
    "encode_frame",
    "encode_message",
    "environ_headers",
    "unmask",
]


class Opcode(enum.IntEnum):
    """Frame opcodes of RFC 6455 §5.2; every other value is reserved and refused."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class CloseCode(enum.IntEnum):
    """The close codes this server sends (RFC 6455 §7.4.1); a peer may send others."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009


# Dataclasses rather than NamedTuples: tuples compare equal across types, so
# ``Ping(b"x") == Pong(b"x")`` would hold and tests could not tell them apart.
@dataclass(frozen=True, slots=True)
class Message:
    """A complete data message: ``str`` for TEXT, ``bytes`` for BINARY."""

    data: str | bytes


@dataclass(frozen=True, slots=True)
class Ping:
    """The peer pinged; answer with ``encode_frame(Opcode.PONG, payload)`` (§5.5.2)."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    """The peer answered a ping, or sent an unsolicited heartbeat (§5.5.3)."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """The peer started or answered the closing handshake; ``code`` is None for an empty body."""

    code: int | None
    reason: str


Event = Message | Ping | Pong | Close


# §1.3: the GUID every server appends to the client's key before hashing.
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _tokens(value: str) -> set[str]:
    """Comma-separated header tokens, lowercased (``Connection: keep-alive, Upgrade``)."""
    return {token.strip().lower() for token in value.split(",")}


def _http_version_ok(version: str) -> bool:
    """§4.1: the handshake must be HTTP/1.1 or later. Accepts ``HTTP/1.1`` or bare ``1.1``."""
    text = version.strip().upper()
    text = text.removeprefix("HTTP/")
    major, _, minor = text.partition(".")
    if not (major.isascii() and major.isdigit()) or (
        minor and not (minor.isascii() and minor.isdigit())
    ):
        return False
    return (int(major), int(minor or 0)) >= (1, 1)


def accept_handshake(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """Check a client's opening handshake (§4.2.1) and return the 101 response headers.

    ``headers`` maps lowercase header names to values, plus the pseudo-headers ``method``
    and ``http-version`` (optional; build it from a WSGI environ with ``environ_headers``).
    Refusals raise ``HandshakeError`` carrying the status to answer with: 426 with
    ``Sec-WebSocket-Version: 13`` for a version we do not speak (§4.4), 400 for everything
    else. No other exception escapes for any mapping of str to str, so the transport can
    answer a bad handshake without a traceback.
    """
    method = headers.get("method", "GET")
    if method != "GET":
        raise HandshakeError(400, f"websocket handshake must use GET, not {method!r}")
    version = headers.get("http-version")
    if version is not None and not _http_version_ok(version):
        raise HandshakeError(400, f"websocket handshake needs HTTP/1.1 or later, got {version!r}")
    upgrade = headers.get("upgrade")
    if upgrade is None or "websocket" not in _tokens(upgrade):
        raise HandshakeError(400, f"Upgrade header must name websocket, got {upgrade!r}")
    connection = headers.get("connection")
    if connection is None or "upgrade" not in _tokens(connection):
        raise HandshakeError(400, f"Connection header must include upgrade, got {connection!r}")
    ws_version = headers.get("sec-websocket-version")
    if ws_version is None or ws_version.strip() != "13":
        raise HandshakeError(
            426,
            f"unsupported Sec-WebSocket-Version {ws_version!r}; only 13 is supported",
            [("Sec-WebSocket-Version", "13")],
        )
    key = headers.get("sec-websocket-key")
    if key is None:
        raise HandshakeError(400, "Sec-WebSocket-Key header is missing")
    key = key.strip()
    try:
        # validate=True refuses stray characters instead of silently skipping them;
        # non-ASCII text raises ValueError, of which binascii.Error is a subclass.
        nonce = base64.b64decode(key, validate=True)
    except (ValueError, binascii.Error):
        raise HandshakeError(400, f"Sec-WebSocket-Key {key!r} is not base64") from None
    if len(nonce) != 16:
        raise HandshakeError(
            400, f"Sec-WebSocket-Key must decode to 16 bytes, got {len(nonce)}"
        )
    digest = hashlib.sha1(key.encode("ascii") + _GUID).digest()
    return [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", base64.b64encode(digest).decode("ascii")),
    ]


def environ_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """Turn a WSGI environ into the mapping ``accept_handshake`` takes.

    Kept separate so the handshake logic is tested with plain dicts while the WSGI layer
    stays a one-liner. ``HTTP_SEC_WEBSOCKET_KEY`` becomes ``sec-websocket-key``; non-str
    values (``wsgi.input`` and friends) are skipped.
    """
    headers: dict[str, str] = {}
    for name, value in environ.items():
        if isinstance(name, str) and name.startswith("HTTP_") and isinstance(value, str):
            headers[name[5:].replace("_", "-").lower()] = value
    method = environ.get("REQUEST_METHOD")
    if isinstance(method, str):
        headers["method"] = method
    protocol = environ.get("SERVER_PROTOCOL")
    if isinstance(protocol, str):
        headers["http-version"] = protocol
    return headers


def unmask(payload: bytes | bytearray, mask: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte ``mask`` repeated (§5.3).

    Done as one big-integer XOR so the work happens in C at memory speed; a per-byte
    Python loop is what made gevent-websocket spend ~0.6 s per megabyte.
    """
    n = len(payload)
    if n == 0:
        return b""
    if mask == b"\x00\x00\x00\x00":
        return bytes(payload)
    key = (mask * ((n + 3) >> 2))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        n, "little"
    )


_DATA_OPCODES = frozenset((Opcode.TEXT, Opcode.BINARY))
_KNOWN_OPCODES = frozenset(int(op) for op in Opcode)
_U16 = struct.Struct("!H")
_U64 = struct.Struct("!Q")
_HEAD16 = struct.Struct("!BBH")
_HEAD64 = struct.Struct("!BBQ")


def _close_code_valid(code: int) -> bool:
    """§7.4: codes a peer may put on the wire (1004-1006 and 1015 are reserved)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1011 or 3000 <= code <= 4999


class FrameDecoder:
    """Turns client bytes into events; see the rules at the top of this module.

    ``max_message_size`` bounds one message's payload, summed over its fragments; it is
    what keeps a peer from making us buffer without limit.
    """

    def __init__(self, max_message_size: int = 1_000_000) -> None:
        if max_message_size < 0:
            raise ValueError("max_message_size must not be negative")
        self.max_message_size = max_message_size
        self._buf = bytearray()
        self._closed = False
        self._error: WebSocketError | None = None
        # The fragmented message in progress, if any (§5.4).
        self._msg_opcode: int | None = None
        self._msg_buf = bytearray()
        self._utf8: codecs.IncrementalDecoder | None = None
        # Header bytes of the fragments of that message: empty fragments add nothing to
        # ``_msg_buf`` but still cost a frame each, so they have a byte budget of their own.
        self._msg_overhead = 0
        self.max_fragment_overhead = max(max_message_size, 65536)
        # Payload bytes of the incomplete text frame at the head of ``_buf`` already checked.
        self._checked = 0

    @property
    def closed(self) -> bool:
        """True once a Close frame has been decoded; no more events will come."""
        return self._closed

    @property
    def error(self) -> WebSocketError | None:
        """The violation that failed the decoder, if any: close with its ``code``."""
        return self._error

    def feed(self, data: bytes) -> list[Event]:
        """Buffer ``data`` and return the events of every frame it completes."""
        if self._error is not None:
            raise self._error
        if self._closed:
            return []
        buf = self._buf
        if not buf and self._msg_opcode is None:
            single = self._single_frame(data)
            if single is not None:
                return single
        buf += data
        events: list[Event] = []
        pos = 0
        try:
            pos = self._parse(buf, events)
        except WebSocketError as exc:
            self._error = exc
            buf.clear()
            self._msg_buf = bytearray()
            if events:  # the frames before the bad one still count (Autobahn 3.2, 5.15)
                return events
            raise
        if self._closed:
            buf.clear()
        elif pos:
            # One compaction per feed(), not per frame: many small frames stay linear.
            del buf[:pos]
        return events

    def _single_frame(self, data: bytes) -> list[Event] | None:
        """The common case in one step: ``data`` is exactly one whole, unfragmented, masked
        text or binary frame of under 64 KiB. None for anything else (and for any doubt,
        e.g. text that is not UTF-8), which then takes the general path and its errors."""
        if len(data) < 6:
            return None
        b0 = data[0]
        if b0 != 0x81 and b0 != 0x82:  # FIN, no RSV bits, TEXT or BINARY
            return None
        length = data[1] ^ 0x80  # the mask bit must be set
        if length < 126:
            start = 6
        elif length == 126 and len(data) >= 8:
            length = (data[2] << 8) | data[3]
            start = 8
        else:
            return None
        if len(data) != start + length or length > self.max_message_size:
            return None
        payload = unmask(data[start:], data[start - 4:start])
        if b0 == 0x82:
            return [Message(payload)]
        try:
            return [Message(payload.decode("utf-8"))]
        except UnicodeDecodeError:
            return None

    def _parse(self, buf: bytearray, events: list[Event]) -> int:
        """Parse complete frames from ``buf``; return how many bytes were consumed."""
        pos = 0
        end = len(buf)
        while end - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            fin = b0 & 0x80
            opcode = b0 & 0x0F
            length = b1 & 0x7F
            # §5.2: no extension was negotiated, so any RSV bit is an error.
            if b0 & 0x70:
                raise WebSocketError(CloseCode.PROTOCOL_ERROR, "RSV bits set but no extension was negotiated")
            if opcode not in _KNOWN_OPCODES:
                raise WebSocketError(CloseCode.PROTOCOL_ERROR, f"reserved opcode {opcode:#x}")
            # §5.1: a server must fail the connection on an unmasked client frame.
            if not b1 & 0x80:
                raise WebSocketError(CloseCode.PROTOCOL_ERROR, "client frame is not masked")
            control = opcode & 0x8
            if control:
                # §5.5: control frames are never fragmented and carry at most 125 bytes.
                if not fin:
                    raise WebSocketError(CloseCode.PROTOCOL_ERROR, f"fragmented control frame {Opcode(opcode).name}")
                if length > 125:
                    raise WebSocketError(
                        CloseCode.PROTOCOL_ERROR, f"control frame {Opcode(opcode).name} longer than 125 bytes"
                    )
            elif opcode == Opcode.CONTINUATION:
                if self._msg_opcode is None:
                    raise WebSocketError(CloseCode.PROTOCOL_ERROR, "continuation frame with no message in progress")
            elif self._msg_opcode is not None:
                raise WebSocketError(
                    CloseCode.PROTOCOL_ERROR, "new data frame while a fragmented message is in progress"
                )

            header = 2
            if length == 126:
                if end - pos < 4:
                    break
                length = _U16.unpack_from(buf, pos + 2)[0]
                header = 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = _U64.unpack_from(buf, pos + 2)[0]
                header = 10
                if length >> 63:
                    raise WebSocketError(CloseCode.PROTOCOL_ERROR, "64-bit frame length has its top bit set")
            if not control:
                # Checked before the payload arrives, so the announcement alone costs nothing.
                total = len(self._msg_buf) + length
                if total > self.max_message_size:
                    raise WebSocketError(
                        CloseCode.MESSAGE_TOO_BIG,
                        f"message of at least {total} bytes exceeds the limit of "
                        f"{self.max_message_size}",
                    )

            start = pos + header + 4
            stop = start + length
            if stop > end:
                if (end - start > self._checked and not control
                        and Opcode.TEXT in (opcode, self._msg_opcode)):
                    self._check_partial(buf, start, end)
                break
            mask = bytes(buf[start - 4 : start])
            payload = unmask(buf[start:stop], mask)
            pos = stop

            if control:
                event = self._control(opcode, payload)
                events.append(event)
                if self._closed:
                    break
            else:
                if opcode == Opcode.CONTINUATION or not fin:
                    self._msg_overhead += header + 4
                    if self._msg_overhead > self.max_fragment_overhead:
                        raise WebSocketError(
                            CloseCode.MESSAGE_TOO_BIG, "message split into fragments whose headers exceed "
                            f"{self.max_fragment_overhead} bytes")
                checked = self._checked
                self._checked = 0
                message = self._data(opcode, payload, bool(fin), checked)
                if message is not None:
                    events.append(message)
        return pos

    def _check_partial(self, buf: bytearray, start: int, end: int) -> None:
        """Check the text received so far of an incomplete frame (§8.1: fail fast).

        Only the bytes new since the last ``feed()`` are unmasked and validated, so a large
        frame arriving in many reads costs linear time; the message's incremental decoder
        carries a character cut at the end over to the next bytes.
        """
        done = self._checked
        mask = bytes(buf[start - 4 : start])
        shift = done & 3
        if shift:
            mask = mask[shift:] + mask[:shift]
        if self._utf8 is None:
            self._utf8 = codecs.getincrementaldecoder("utf-8")()
        try:
            self._utf8.decode(unmask(buf[start + done : end], mask))
        except UnicodeDecodeError:
            raise WebSocketError(CloseCode.INVALID_DATA, "text message is not valid UTF-8") from None
        self._checked = end - start

    def _control(self, opcode: int, payload: bytes) -> Event:
        if opcode == Opcode.PING:
            return Ping(payload)
        if opcode == Opcode.PONG:
            return Pong(payload)
        # §5.5.1: an empty body, or a 2-byte code followed by a UTF-8 reason.
        self._closed = True
        if not payload:
            return Close(None, "")
        if len(payload) == 1:
            raise WebSocketError(CloseCode.PROTOCOL_ERROR, "close frame body of 1 byte")
        code = _U16.unpack_from(payload)[0]
        if not _close_code_valid(code):
            raise WebSocketError(CloseCode.PROTOCOL_ERROR, f"invalid close code {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise WebSocketError(CloseCode.INVALID_DATA, "close reason is not valid UTF-8") from None
        return Close(code, reason)

    def _data(self, opcode: int, payload: bytes, fin: bool, checked: int) -> Message | None:
        """``checked``: leading payload bytes already validated by ``_check_partial``."""
        if opcode != Opcode.CONTINUATION and fin and not checked:
            # The common case: a whole message in one frame, decoded once with no copies.
            if opcode == Opcode.BINARY:
                return Message(payload)
            try:
                return Message(payload.decode("utf-8"))
            except UnicodeDecodeError:
                raise WebSocketError(CloseCode.INVALID_DATA, "text message is not valid UTF-8") from None

        if opcode != Opcode.CONTINUATION:
            self._msg_opcode = opcode
            if opcode == Opcode.TEXT and self._utf8 is None:  # else made by _check_partial
                self._utf8 = codecs.getincrementaldecoder("utf-8")()
        # Raw bytes go into one bytearray so a flood of tiny fragments costs no more memory
        # than their payload; the incremental decoder only validates, as each fragment lands.
        self._msg_buf += payload
        utf8 = self._utf8
        if utf8 is not None:
            try:
                utf8.decode(payload[checked:] if checked else payload, final=fin)
            except UnicodeDecodeError:
                raise WebSocketError(CloseCode.INVALID_DATA, "text message is not valid UTF-8") from None
        if not fin:
            return None

        data = bytes(self._msg_buf)
        is_text = self._msg_opcode == Opcode.TEXT
        self._msg_buf = bytearray()
        self._msg_opcode = None
        self._utf8 = None
        self._msg_overhead = 0
        # Already validated above, so this decode cannot fail.
        return Message(data.decode("utf-8") if is_text else data)


def _header(first: int, length: int) -> bytes:
    if length < 126:
        return bytes((first, length))
    if length < 0x10000:
        return _HEAD16.pack(first, 126, length)
    return _HEAD64.pack(first, 127, length)


def encode_frame(opcode: Opcode, payload: bytes, fin: bool = True) -> bytes:
    """One unmasked server frame (§5.2), with the shortest length encoding.

    Raises ``LocalProtocolError`` for a control frame the peer would have to reject
    (longer than 125 bytes or not FIN), so our bugs surface here and not as a close.
    """
    op = int(opcode)
    if op not in _KNOWN_OPCODES:
        raise LocalProtocolError(f"unknown opcode {op:#x}")
    if op & 0x8 and (len(payload) > 125 or not fin):
        raise LocalProtocolError(
            f"control frame {Opcode(op).name} must be FIN and at most 125 bytes"
        )
    return _header((0x80 if fin else 0) | op, len(payload)) + bytes(payload)


def encode_message(data: str | bytes) -> bytes:
    """A whole message as one frame: TEXT for ``str`` (UTF-8), BINARY for ``bytes``.

    This runs for every packet we send, so it skips the checks ``encode_frame`` makes:
    a single FIN data frame is always legal.
    """
    if isinstance(data, str):
        payload = data.encode("utf-8")
        first = 0x81
    else:
        payload = data if type(data) is bytes else bytes(data)
        first = 0x82
    n = len(payload)
    if n < 126:
        return bytes((first, n)) + payload
    if n < 0x10000:
        return _HEAD16.pack(first, 126, n) + payload
    return _HEAD64.pack(first, 127, n) + payload


def encode_close(code: int = CloseCode.NORMAL, reason: str = "") -> bytes:
    """A Close frame with ``code`` and ``reason`` (§5.5.1).

    The reason is cut at a character boundary to fit the 125-byte control frame limit
    rather than raising: it is usually built from a ``WebSocketError`` message, and a long
    message must not stop us from closing cleanly. An invalid code is our bug and raises
    ``LocalProtocolError``.
    """
    if not _close_code_valid(code):
        raise LocalProtocolError(f"close code {code} may not be sent")
    # "replace" so a lone surrogate in an exception message cannot break the close.
    raw = reason.encode("utf-8", "replace")
    if len(raw) > 123:
        raw = raw[:123].decode("utf-8", "ignore").encode("utf-8")
    payload = _U16.pack(code) + raw
    return bytes((0x88, len(payload))) + payload
