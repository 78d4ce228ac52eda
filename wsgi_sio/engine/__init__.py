"""The Engine.IO server: sessions, the long-polling and WebSocket transports, and the WSGI
application that routes requests to them. Usable on its own (mount it at ``/engine.io/``);
the Socket.IO server is built on top of it."""

from .server import EngineServer
from .socket import EngineSocket

__all__ = ["EngineServer", "EngineSocket"]
