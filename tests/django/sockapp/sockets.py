"""Namespaces of the test project, found by discovery: Django features and the compat layer."""

import queue
import threading

from django.contrib.auth import get_user_model
from django.db import connections

import wsgi_sio
from wsgi_sio.compat import BaseNamespace, BroadcastMixin, Namespace, RoomsMixin
from wsgi_sio.django import Namespace as DjangoNamespace
from wsgi_sio.django import namespace, on

#: what handlers saw, for the tests to wait on
seen: "queue.Queue[tuple]" = queue.Queue()


@namespace("/private")
class Private(DjangoNamespace):
    def on_connect(self, auth):
        seen.put(("connect", self.environ.get("HTTP_ORIGIN")))
        if not self.user.is_authenticated:
            raise wsgi_sio.ConnectionRefused("log in first", {"login": "/accounts/login/"})
        self.join("members")

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


@on("ping", namespace="/")
def ping(socket, *args):
    return ["pong", *args]


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
