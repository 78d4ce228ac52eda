"""Namespaces: where users write their server code (``wsgi_sio.Namespace``).

The module users and the project card know; the classes live in
:mod:`wsgi_sio.socketio.namespace`, with the rest of the Socket.IO layer.
"""

from .socketio.namespace import BroadcastOperator, ConnectionRefused, Namespace

__all__ = ["BroadcastOperator", "ConnectionRefused", "Namespace"]
