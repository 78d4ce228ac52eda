"""wsgi_sio: Socket.IO (Engine.IO v4 / Socket.IO v5) as a WSGI middleware, on gevent.

Wrap any WSGI application (Django's first of all) and serve the site, long-polling and
WebSocket on one port::

    sio = wsgi_sio.Server()

    @sio.namespace("/chat")
    class Chat(wsgi_sio.Namespace):
        def on_message(self, text):
            self.to("lobby").emit("message", text)

    application = wsgi_sio.SocketIOMiddleware(django_app, sio)
"""

from typing import TYPE_CHECKING

from .engine.http import RequestRefused
from .engine.server import EngineServer
from .engine.socket import EngineSocket
from .managers.in_process import InProcessManager
from .middleware import SocketIOMiddleware
from .socketio import BroadcastOperator, ConnectionRefused, Namespace, Server

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .managers.emitter import Emitter as Emitter
    from .managers.redis_manager import RedisManager as RedisManager
    from .managers.redis_streams import RedisStreamsManager as RedisStreamsManager


def __getattr__(name: str) -> object:
    # The Redis pieces need the `redis` extra (redis-py, msgpack): imported on first use only.
    if name == "RedisManager":
        from .managers.redis_manager import RedisManager

        return RedisManager
    if name == "RedisStreamsManager":
        from .managers.redis_streams import RedisStreamsManager

        return RedisStreamsManager
    if name == "Emitter":
        from .managers.emitter import Emitter

        return Emitter
    raise AttributeError(f"module 'wsgi_sio' has no attribute {name!r}")


# RedisManager, RedisStreamsManager and Emitter are public too, but not in __all__:
# `from wsgi_sio import *` must not need the redis extra.
__all__ = [
    "BroadcastOperator",
    "ConnectionRefused",
    "EngineServer",
    "EngineSocket",
    "InProcessManager",
    "Namespace",
    "RequestRefused",
    "Server",
    "SocketIOMiddleware",
    "__version__",
]
