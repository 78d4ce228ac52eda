"""Managers that span processes. The in-process default lives in :mod:`wsgi_sio.manager`.

:mod:`.wire` is the sans-IO Redis message format (Node's ``@socket.io/redis-adapter``);
:mod:`.redis_manager` puts it on a Redis connection. Both need the ``redis`` extra
(``pip install wsgi_sio[redis]``: redis-py and msgpack).
"""

from .redis_manager import RedisManager, RemoteSocket

__all__ = ["RedisManager", "RemoteSocket"]
