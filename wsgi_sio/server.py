"""``wsgi_sio.Server``, kept importable from here: the server lives in
:mod:`wsgi_sio.socketio.server`, with the rest of the Socket.IO layer."""

from .socketio.namespace import ConnectionRefused
from .socketio.server import NamespaceMatcher, Server

__all__ = ["ConnectionRefused", "NamespaceMatcher", "Server"]
