"""Namespaces of the test project, found by discovery: Django features and the compat layer."""

import queue
import threading
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections

import wsgi_sio
from wsgi_sio.compat import BaseNamespace, BroadcastMixin, Namespace, RoomsMixin
from wsgi_sio.django import Namespace as DjangoNamespace
from wsgi_sio.django import namespace, on

#: what handlers saw, for the tests to wait on
seen: "queue.Queue[tuple]" = queue.Queue()

#: (namespace, sid) -> set once that socket has left, with why (see ``wait_gone``)
_gone: dict[tuple[str, str], tuple[Any, list[str]]] = {}


def _gone_entry(socket: wsgi_sio.Namespace, namespace: str, sid: str) -> tuple[Any, list[str]]:
    return _gone.setdefault((namespace, sid), (socket.server.runtime.event(), []))


def left(socket: wsgi_sio.Namespace, reason: str) -> None:
    """Called by ``on_disconnect``: wakes whoever waits for this socket to be gone."""
    event, reasons = _gone_entry(socket, socket.namespace, socket.sid)
    reasons.append(reason)
    event.set()


@namespace("/private")
class Private(DjangoNamespace):
    def on_connect(self, auth):
        seen.put(("connect", self.environ.get("HTTP_ORIGIN")))
        if not self.user.is_authenticated:
            raise wsgi_sio.ConnectionRefused("log in first", {"login": "/accounts/login/"})
        self.join("members")

    def on_disconnect(self, reason):
        left(self, reason)

    def on_whoami(self):
        request = self.request
        return {"user": request.user.get_username(), "path": request.path,
                "type": type(request).__name__, "session_key": request.session.session_key,
                "colour": request.session.get("colour")}

    def on_rename(self, first_name):
        # writes, then reads back, through the ORM (the TestCase tests: on the test's thread)
        user = get_user_model().objects.get(pk=self.user.pk)
        user.first_name = first_name
        user.save(update_fields=["first_name"])
        seen.put(("rename", threading.get_ident()))
        return get_user_model().objects.get(pk=user.pk).first_name

    def on_db(self):
        count = get_user_model().objects.count()
        seen.put(("db", connections["default"]))
        return count


@namespace("/open")
class Open(DjangoNamespace):
    """Anyone may connect; says whom its handshake's session shows."""

    def on_connect(self, auth):
        self.emit("welcome", self.user.get_username())

    def on_disconnect(self, reason):
        left(self, reason)

    def on_whoami(self):
        return {"sid": self.sid, "user": self.user.get_username(),
                "authenticated": self.user.is_authenticated, "recovered": self.recovered}


@on("ping", namespace="/")
def ping(socket, *args):
    return ["pong", *args]


@on("wait_gone", namespace="/")
def wait_gone(socket, namespace, sid):
    """Why the socket ``sid`` of ``namespace`` left, once it has (None after 10 s): a live
    client that dropped its transport asks before it reconnects, so that the server has
    already kept the session it is to recover (tests/django/test_recovery_live.py)."""
    event, reasons = _gone_entry(socket, namespace, sid)
    if not event.wait(10):
        return None
    del _gone[(namespace, sid)]
    return reasons[-1]


@Namespace("/old")
class OldStyle(BaseNamespace, BroadcastMixin, RoomsMixin):
    def initialize(self):
        self.session["initialized"] = True

    def recv_connect(self):
        if (self.auth or {}).get("refuse"):
            return False
        self.emit("hello", self.request.user.is_authenticated, self.environ["PATH_INFO"])

    def on_add(self, a, b):
        return a + b

    def on_pair(self):
        return ("one", "two")

    def on_state(self):
        return self.session

    def on_join(self, room):
        self.join(room)

    def on_leave(self, room):
        self.leave(room)

    def on_to_room(self, room, text):
        self.emit_to_room(room, "room_message", text)

    def on_shout(self, text):
        self.broadcast_event_not_me("shout", text)

    def on_spawn(self):
        self.spawn(self.emit, "spawned", "done")

    def on_bye(self):
        self.disconnect(silent=True)

    def on_kick(self):
        self.disconnect()

    def recv_message(self, data):
        self.emit("got_message", data)

    def recv_disconnect(self):
        seen.put(("recv_disconnect", self.namespace))
        super().recv_disconnect()
