"""The chat: rooms for logged-in users, names from request.user."""

import wsgi_sio
from wsgi_sio.django import Namespace, namespace


@namespace("/chat")
class ChatNamespace(Namespace):
    def on_connect(self, auth):
        # self.user is request.user of the session cookie sent with the handshake
        if not self.user.is_authenticated:
            raise wsgi_sio.ConnectionRefused("log in first")
        self.session["name"] = self.user.get_username()
        self.session["room"] = None

    def on_join(self, room):
        room = str(room)[:50] or "lobby"
        old = self.session["room"]
        if old:
            self.leave(old)
            self.server.emit("left", self.session["name"], to=old, namespace=self.namespace)
        self.session["room"] = room
        self.join(room)
        self.server.emit("joined", self.session["name"], to=room, namespace=self.namespace)
        return room

    def on_say(self, text):
        room = self.session["room"]
        if room is None:
            return "join a room first"
        self.server.emit("message", {"from": self.session["name"], "text": str(text)[:1000]},
                         to=room, namespace=self.namespace)
        return "ok"

    def on_disconnect(self, reason):
        if self.session.get("room"):
            self.server.emit("left", self.session["name"], to=self.session["room"],
                             namespace=self.namespace)
