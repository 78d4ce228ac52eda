"""What the apps of the Redis managers' tests share (tests/apps/redis_app.py with
``RedisManager``, tests/apps/streams_app.py with ``RedisStreamsManager``): a namespace class
whose client events reach every server-side feature, so the tests need no access to the
server process (they ask it to emit, join, list or report, and check what arrives), and the
``relay`` server-side event.
"""

from __future__ import annotations

from typing import Any

import wsgi_sio


def cluster_namespace(manager: Any, ready_timeout: float) -> type[wsgi_sio.Namespace]:
    """The namespace class of an app on ``manager``; ``ready`` waits ``ready_timeout`` s."""

    class Cluster(wsgi_sio.Namespace):
        def on_ready(self):
            """Waits until this process listens on Redis; answers its uid and counters."""
            return {"ready": manager.wait_ready(ready_timeout), "uid": manager.uid, "sid": self.sid}

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

    return Cluster


def serve(sio: wsgi_sio.Server, manager: Any, namespace: type[wsgi_sio.Namespace]) -> None:
    """``namespace`` on "/" and "/chat", and the handler of the ``relay`` server-side event."""
    sio.register_namespace(namespace, "/")
    sio.register_namespace(namespace, "/chat")

    @manager.on_server_event("relay")
    def relay(*args):
        """A server-side event from another server: tell this process's clients, answer the ack."""
        for socket in manager.members("/"):  # this process's clients only
            socket.emit("relayed", *args)
        return {"relayed_by": manager.uid}
