"""Managers: who is in which room, and delivery of one packet to many sockets.

:mod:`.in_process` is the default, rooms in this process; it sits below the Socket.IO layer
and needs nothing but the standard library and the engine. The rest spans processes and needs
the ``redis`` extra (``pip install wsgi_sio[redis]``: redis-py and msgpack), so it is imported
on first use only: :mod:`.wire` is the sans-IO Redis message format (Node's
``@socket.io/redis-adapter``), :mod:`.redis_manager` puts it on a Redis connection around an
in-process manager, and :mod:`.emitter` publishes from processes that run no server;
:mod:`.streams_wire` and :mod:`.redis_streams` are the same for Node's
``@socket.io/redis-streams-adapter`` (a Redis stream, so a short outage loses nothing).
"""

from typing import TYPE_CHECKING

from .in_process import InProcessManager

if TYPE_CHECKING:
    from .emitter import Emitter as Emitter
    from .redis_manager import RedisManager as RedisManager
    from .redis_manager import RemoteSocket as RemoteSocket
    from .redis_streams import RedisStreamsManager as RedisStreamsManager


def __getattr__(name: str) -> object:
    if name in ("RedisManager", "RemoteSocket"):
        from . import redis_manager

        return getattr(redis_manager, name)
    if name == "RedisStreamsManager":
        from .redis_streams import RedisStreamsManager

        return RedisStreamsManager
    if name == "Emitter":
        from .emitter import Emitter

        return Emitter
    raise AttributeError(f"module 'wsgi_sio.managers' has no attribute {name!r}")


__all__ = ["InProcessManager"]
