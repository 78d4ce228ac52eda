"""A wsgi_sio server with the Redis Streams manager, for tests/managers/test_redis_streams.py.

Configured by environment variables, so several real server processes can share one Redis:
``WSGI_SIO_REDIS_URL`` (required), ``WSGI_SIO_REDIS_KEY`` (the stream name and channel
prefix: each test uses its own, so tests sharing a Redis never hear each other) and
``WSGI_SIO_REDIS_RETRY_MAX`` (longest pause between reconnection attempts, seconds);
``WSGI_SIO_RECOVERY=1`` turns connection state recovery on.

Every server-side feature is reachable from a client event (as in tests/apps/redis_app.py),
so the tests need no access to the server process.
"""

from __future__ import annotations

import os

import wsgi_sio

key = os.environ.get("WSGI_SIO_REDIS_KEY", "socket.io")
manager = wsgi_sio.RedisStreamsManager(
    os.environ["WSGI_SIO_REDIS_URL"], stream_name=key, channel_prefix=key,
    session_key_prefix=key + ":session:", requests_timeout=5,
    retry_max_delay=float(os.environ.get("WSGI_SIO_REDIS_RETRY_MAX", "5")))
recovery = {"max_disconnection_duration": 60} if os.environ.get("WSGI_SIO_RECOVERY") else None
sio = wsgi_sio.Server(cors_allowed_origins="*", ping_interval=5, ping_timeout=5, manager=manager,
                      connection_state_recovery=recovery)


class Cluster(wsgi_sio.Namespace):
    def on_ready(self):
        """Waits until this process listens on Redis; answers its uid and counters."""
        return {"ready": manager.wait_ready(15), "uid": manager.uid, "sid": self.sid}

    def on_stats(self):
        return manager.stats()

    def on_join(self, room):
        self.join(room)
        return sorted(self.rooms - {self.sid})

    def on_to(self, target, event, *args):
        """``target``: a sid, a room or a list of rooms, anywhere in the cluster."""
        self.server.emit(event, *args, to=target, namespace=self.namespace)
        return True

    def on_to_except(self, rooms, skip, event, *args):
        self.server.emit(event, *args, to=rooms, skip_sid=skip, namespace=self.namespace)
        return True

    def on_others(self, room, event, *args):
        self.to(room).emit(event, *args)
        return True

    def on_broadcast(self, event, *args):
        self.server.emit(event, *args, namespace=self.namespace)
        return True

    def on_enter(self, sid, room):
        self.server.enter_room(sid, room, namespace=self.namespace)
        return True

    def on_exit(self, sid, room):
        self.server.leave_room(sid, room, namespace=self.namespace)
        return True

    def on_kick(self, sid):
        self.server.disconnect(sid, namespace=self.namespace)
        return True

    def on_close_room(self, room):
        self.server.close_room(room, namespace=self.namespace)
        return True

    def on_list(self, room=None):
        return sorted([sid, sorted(rooms)] for sid, rooms in manager.list_sockets(self.namespace, room))

    def on_all_rooms(self):
        return sorted(manager.all_rooms(self.namespace))

    def on_server_side(self, event, *args):
        manager.server_side_emit(event, *args, namespace=self.namespace)
        return True

    def on_server_side_ack(self, event, *args):
        return manager.server_side_emit_with_ack(event, *args, namespace=self.namespace)

    def on_emit_many(self, target, event, count):
        """``count`` emits of ``event`` with 0..count-1 to ``target`` (None: everyone)."""
        for n in range(count):
            self.server.emit(event, n, to=target, namespace=self.namespace)
        return True

    def on_stream(self, room, start, count, pause=0):
        """Broadcasts ``n`` start..start+count-1 to ``room`` from this process, one every
        ``pause`` seconds, in the background (pacing only: tests wait on what arrives)."""
        server = self.server

        def run():
            for n in range(start, start + count):
                server.emit("n", n, to=room, namespace=self.namespace)
                if pause:
                    server.runtime.sleep(pause)

        server.runtime.spawn(run)
        return True


sio.register_namespace(Cluster, "/")
sio.register_namespace(Cluster, "/chat")


@manager.on_server_event("relay")
def relay(*args):
    """A server-side event from another server: tell this process's clients, answer the ack."""
    for socket in manager.members("/"):  # this process's clients only
        socket.emit("relayed", *args)
    return {"relayed_by": manager.uid}


application = sio
