"""The Socket.IO layer: the server (:mod:`.server`), one client connection (:mod:`.client`)
and namespaces with their per-socket state (:mod:`.namespace`).

Above the Engine.IO layer (:mod:`wsgi_sio.engine`) and the in-process manager
(:mod:`wsgi_sio.managers.in_process`); below the Redis manager and the Django integration.
Inside it, ``namespace`` < ``client`` < ``server``: a lower module knows a higher one only as a
``Protocol`` it defines.
"""

from .namespace import BroadcastOperator, ConnectionRefused, Namespace
from .server import NamespaceMatcher, Server

__all__ = ["BroadcastOperator", "ConnectionRefused", "Namespace", "NamespaceMatcher", "Server"]
