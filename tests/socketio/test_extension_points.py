"""The Socket.IO layer's public extension points, and room membership owned by the manager.

``Server.socket_connected`` / ``socket_disconnected`` and ``Namespace.extras`` are what the
Django integration builds on; they are driven here through a plain server and the test client.
"""

import threading

import wsgi_sio
from wsgi_sio.testing import ConnectError, SocketIOTestClient


class Recording(wsgi_sio.Server):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.log = []
        self.left = threading.Event()

    def socket_connected(self, socket):
        super().socket_connected(socket)
        socket.extras["test.connected"] = True
        self.log.append(("connected", socket.namespace, socket.connected))

    def socket_disconnected(self, socket, reason):
        super().socket_disconnected(socket, reason)
        self.log.append(("disconnected", socket.namespace, socket.extras.get("test.connected"),
                         reason))


def make_app():
    sio = Recording()

    @sio.namespace("/chat")
    class Chat(wsgi_sio.Namespace):
        def on_connect(self, auth):
            if auth == {"no": True}:
                raise wsgi_sio.ConnectionRefused("no")
            self.join("lobby")

        def on_rooms(self):
            return sorted(self.rooms)

        def on_leave(self, room):
            self.leave(room)

        def on_disconnect(self, reason):
            sio.log.append(("handler", reason))
            sio.left.set()  # the last of the three

    return sio, wsgi_sio.SocketIOMiddleware(None, sio)


def test_connect_and_disconnect_hooks_run_around_the_handlers():
    sio, app = make_app()
    with SocketIOTestClient(app, "/chat") as client:
        assert client.call("rooms") == sorted(["lobby", client.sid])
    assert sio.left.wait(5)
    reason = sio.log[-1][-1]
    assert sio.log == [("connected", "/chat", True), ("disconnected", "/chat", True, reason),
                       ("handler", reason)]


def test_a_refused_socket_is_not_reported_connected():
    sio, app = make_app()
    try:
        SocketIOTestClient(app, "/chat", auth={"no": True})
    except ConnectError:
        pass
    assert sio.log == []


def test_rooms_are_the_managers():
    sio, app = make_app()
    with SocketIOTestClient(app, "/chat") as client:
        socket = sio.get_socket(client.sid, "/chat")
        assert socket.rooms == sio.manager.rooms_of(socket) == {"lobby", client.sid}
        assert [s.sid for s in sio.manager.members("/chat", "lobby")] == [client.sid]
        client.call("leave", "lobby")
        assert socket.rooms == {client.sid} and sio.manager.members("/chat", "lobby") == []
        sio.enter_room(client.sid, "vip", namespace="/chat")
        sio.close_room("vip", namespace="/chat")
        assert socket.rooms == {client.sid}
    assert sio.left.wait(5)
    assert socket.rooms == frozenset() and sio.manager.get("/chat", socket.sid) is None
