"""The server that interop tests drive with real clients (python-socketio, socket.io-client).

Every server-side feature is reachable from a client event, so tests need no access to the
server process: they ask it to emit, join, call back or disconnect, and check what arrives.
"""

from __future__ import annotations

import re

import wsgi_sio

sio = wsgi_sio.Server(cors_allowed_origins="*", ping_interval=5, ping_timeout=5)
disconnects: list[list[str]] = []
call_outcomes: list[str] = []


class Base(wsgi_sio.Namespace):
    def on_connect(self, auth):
        if isinstance(auth, dict) and auth.get("refuse"):
            raise wsgi_sio.ConnectionRefused("refused", {"code": 401})
        self.session["auth"] = auth
        self.emit("welcome", auth if auth is not None else {})

    def on_echo(self, *args):
        return args

    def on_emit_back(self, event, *args):
        self.emit(event, *args)

    def on_ask(self, *args):
        return self.call("question", *args, timeout=5)

    def on_ask_callback(self, *args):
        self.emit("question", *args, callback=lambda *answer: self.emit("told", *answer))

    def on_join(self, room):
        self.join(room)
        return sorted(self.rooms - {self.sid})

    def on_leave(self, room):
        self.leave(room)
        return sorted(self.rooms - {self.sid})

    def on_to_room(self, room, event, *args):
        self.server.emit(event, *args, to=room, namespace=self.namespace)
        return True

    def on_to_room_others(self, room, event, *args):
        self.to(room).emit(event, *args)
        return True

    def on_broadcast(self, event, *args):
        self.server.emit(event, *args, namespace=self.namespace)
        return True

    def on_whoami(self):
        return {"sid": self.sid, "namespace": self.namespace, "auth": self.session.get("auth")}

    def on_disconnect_me(self):
        self.disconnect()

    def on_disconnects(self):
        return disconnects

    def on_fail(self):
        raise RuntimeError("this handler fails on purpose")

    def on_to_rooms(self, rooms, skip, event, *args):
        """Emit to a list of rooms minus ``skip`` (rooms or sids), from the server object."""
        self.server.emit(event, *args, to=rooms, skip_sid=skip or None, namespace=self.namespace)
        return True

    def on_close_room(self, room):
        self.server.close_room(room, namespace=self.namespace)
        return True

    def on_ask_and_hold(self):
        """Wait long for an answer; record how the wait ended (for the disconnect test)."""
        try:
            self.call("question", "hold", timeout=30)
        except ConnectionError:
            call_outcomes.append("ConnectionError")
        except TimeoutError:
            call_outcomes.append("TimeoutError")
        else:
            call_outcomes.append("answered")

    def on_call_outcomes(self):
        return call_outcomes

    def on_unanswered_call(self, timeout):
        try:
            self.call("never_acked", timeout=timeout)
        except TimeoutError:
            return "timeout"
        return "answered"

    def on_disconnect(self, reason):
        disconnects.append([self.namespace, reason])


sio.register_namespace(Base, "/")
sio.register_namespace(Base, "/chat")
sio.register_namespace(Base, re.compile(r"/room-\d+"))  # dynamic, by pattern
sio.register_namespace(Base, lambda name, auth: name.startswith("/team/") and bool(auth))  # by callable


@sio.namespace("/bounce")
class Bounce(wsgi_sio.Namespace):
    """Greets, then disconnects the client from inside on_connect."""

    def on_connect(self, auth):
        self.emit("hi")
        self.disconnect()

    def on_echo(self, *args):
        return args


@sio.namespace("/broken")
class Broken(wsgi_sio.Namespace):
    def on_connect(self, auth):
        raise RuntimeError("this handler fails on purpose")


@sio.on("ping", namespace="/chat")
def ping(socket, *args):
    return args


@sio.on("*", namespace="/chat")
def anything(socket, event, *args):
    return ["caught", event, *args]


def site(environ, start_response):
    body = b"the wrapped WSGI app"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = wsgi_sio.SocketIOMiddleware(site, sio)
