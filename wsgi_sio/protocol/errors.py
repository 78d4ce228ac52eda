"""Errors raised by the protocol core.

The split follows h11: a ``ProtocolError`` means the *peer* sent something the protocol does
not allow (the transport answers with the status, error packet or close code the protocol
defines and drops that one connection); ``LocalProtocolError`` means *our* code asked the core
to do something illegal (a bug, or a misuse of the public API, raised to the caller).
"""

from __future__ import annotations


class ProtocolError(Exception):
    """The peer broke the protocol. ``str(exc)`` says what was wrong."""


class EngineIOError(ProtocolError):
    """An Engine.IO packet or payload could not be decoded."""


class SocketIOError(ProtocolError):
    """A Socket.IO packet could not be decoded or is not valid for its type."""


class WebSocketError(ProtocolError):
    """A WebSocket frame broke RFC 6455; ``code`` is the close code to send (1002, 1007, 1009)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class HandshakeError(ProtocolError):
    """A WebSocket opening handshake that must be refused with ``status`` (400 or 426)."""

    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or []


class LocalProtocolError(Exception):
    """Our side asked the protocol core for something the protocol forbids."""
