"""Emit to Socket.IO clients from a process that runs no server, through Redis.

A Celery task, a cron job, a management command or a sync Django worker publishes what a
server would, and every server of the cluster (wsgi_sio with ``RedisManager``, or Node with
``@socket.io/redis-adapter``) delivers it to its own clients. The messages are those of
Node's ``@socket.io/redis-emitter`` 5.x (uid ``"emitter"``), so the two are interchangeable::

    emitter = wsgi_sio.Emitter("redis://127.0.0.1:6379/0")
    emitter.to("lobby").emit("news", {"x": 1})
    emitter.of("/chat").except_("muted").emit("message", "hi", b"\\x00binary")
    emitter.in_(sid).sockets_join("vip")
    emitter.server_side_emit("reload-config")

Everything is fire-and-forget (Redis pub/sub): there are no acknowledgements, and a message
published while no server listens is lost. Errors from Redis are raised to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import wire

RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "disconnecting",
                             "newListener", "removeListener"})


def _names(value: str | Iterable[str]) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


class Emitter:
    """``Emitter(url, key="socket.io", namespace="/")``; or pass a ready ``redis.Redis`` as ``client``.

    ``to``/``in_``/``except_``/``of`` return new emitters; the original is unchanged.
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, key: str = "socket.io",
                 namespace: str = "/", client: Any = None, **redis_options: Any) -> None:
        if client is None:
            import redis

            client = redis.Redis.from_url(url, **redis_options)
        if not namespace.startswith("/"):
            raise ValueError("a namespace path starts with '/'")
        self._client = client
        self._channels = wire.Channels(key, namespace)
        self._rooms: frozenset[str] = frozenset()
        self._except: frozenset[str] = frozenset()
        self._flags: dict[str, Any] = {}

    def _derive(self, **changes: Any) -> Emitter:
        clone = object.__new__(Emitter)
        clone.__dict__.update(self.__dict__)
        clone.__dict__.update(changes)
        return clone

    # -- targeting ------------------------------------------------------------------------------

    def of(self, namespace: str) -> Emitter:
        if not namespace.startswith("/"):
            raise ValueError("a namespace path starts with '/'")
        return self._derive(_channels=wire.Channels(self._channels.key, namespace),
                            _rooms=frozenset(), _except=frozenset())

    def to(self, room: str | Iterable[str]) -> Emitter:
        return self._derive(_rooms=self._rooms | _names(room))

    in_ = to

    def except_(self, room: str | Iterable[str]) -> Emitter:
        return self._derive(_except=self._except | _names(room))

    @property
    def volatile(self) -> Emitter:
        return self._derive(_flags={**self._flags, "volatile": True})

    def compress(self, compress: bool) -> Emitter:
        return self._derive(_flags={**self._flags, "compress": compress})

    # -- actions --------------------------------------------------------------------------------

    def emit(self, event: str, *args: Any) -> None:
        """Emit to every matching client of the namespace; ``bytes`` travel as binary."""
        if event in RESERVED_EVENTS:
            raise ValueError(f'"{event}" is a reserved event name')
        rooms = sorted(self._rooms)
        payload = wire.broadcast_message(wire.EMITTER_UID, self._channels.namespace, [event, *args],
                                         rooms, sorted(self._except), self._flags)
        self._client.publish(wire.broadcast_channel(self._channels, rooms), payload)

    def send(self, data: Any) -> None:
        self.emit("message", data)

    def sockets_join(self, rooms: str | Iterable[str]) -> None:
        """The matching sockets join ``rooms`` (Node: ``socketsJoin``)."""
        self._request({"type": wire.REMOTE_JOIN, "opts": self._opts(), "rooms": sorted(_names(rooms))})

    def sockets_leave(self, rooms: str | Iterable[str]) -> None:
        self._request({"type": wire.REMOTE_LEAVE, "opts": self._opts(), "rooms": sorted(_names(rooms))})

    def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect the matching sockets; ``close`` also closes their Engine.IO connection."""
        self._request({"type": wire.REMOTE_DISCONNECT, "opts": self._opts(), "close": close})

    def server_side_emit(self, event: str, *args: Any) -> None:
        """An event for the servers themselves (``RedisManager.on_server_event``); JSON only."""
        self._request({"uid": wire.EMITTER_UID, "type": wire.SERVER_SIDE_EMIT, "data": [event, *args]})

    def close(self) -> None:
        self._client.close()

    def _opts(self) -> dict[str, list[str]]:
        return {"rooms": sorted(self._rooms), "except": sorted(self._except)}

    def _request(self, request: dict[str, Any]) -> None:
        self._client.publish(self._channels.request, wire.dump_json(request))


__all__ = ["Emitter"]
