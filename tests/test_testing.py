"""wsgi_sio.testing.SocketIOTestClient, against a plain server through WebTest long-polling."""

import pytest

import wsgi_sio
from wsgi_sio.testing import ConnectError, SocketIOTestClient


@pytest.fixture
def app():
    sio = wsgi_sio.Server()

    @sio.namespace("/room")
    class Room(wsgi_sio.Namespace):
        def on_connect(self, auth):
            if auth == {"token": "bad"}:
                raise wsgi_sio.ConnectionRefused("bad token", {"retry": False})
            self.session["auth"] = auth
            self.emit("welcome", auth, self.environ.get("HTTP_X_CLIENT"))

        def on_echo(self, *args):
            self.emit("echoed", *args)

        def on_add(self, a, b):
            return a + b

        def on_two(self):
            return 1, 2

        def on_nothing(self):
            return None

        def on_ask_client(self):
            return self.call("question", timeout=5)

        def on_leave_me(self):
            self.disconnect()

        def on_bye_all(self):
            self.client.sock.close()

    return wsgi_sio.SocketIOMiddleware(None, sio)


def test_connect_with_auth_and_headers(app):
    with SocketIOTestClient(app, "/room", auth={"token": "ok"}, headers={"X-Client": "t1"}) as client:
        assert client.wait_for("welcome") == [{"token": "ok"}, "t1"]
        assert client.is_connected() and len(client.sid) == 20


def test_emit_with_and_without_ack(app):
    with SocketIOTestClient(app, "/room") as client:
        client.emit("echo", "a", {"b": [1, 2]}, b"\x00\xff")
        assert client.wait_for("echoed") == ["a", {"b": [1, 2]}, b"\x00\xff"]
        assert client.call("add", 2, 3) == 5
        assert client.emit("add", 1, 1, callback=True) == 2
        assert client.call("two") == (1, 2)
        assert client.call("nothing") is None


def test_get_received_returns_what_arrived_and_forgets_it(app):
    with SocketIOTestClient(app, "/room") as client:
        client.emit("echo", 1)
        client.call("add", 0, 0)   # the ack comes after what the earlier handler emitted
        assert client.get_received() == [
            {"name": "welcome", "args": [None, None], "namespace": "/room"},
            {"name": "echoed", "args": [1], "namespace": "/room"},
        ]
        assert client.get_received() == []


def test_server_calls_are_acknowledged(app):
    with SocketIOTestClient(app, "/room") as client:
        assert client.call("ask_client") is None


def test_refused_namespace_raises_connect_error(app):
    with pytest.raises(ConnectError) as info:
        SocketIOTestClient(app, "/room", auth={"token": "bad"})
    assert info.value.message == "bad token" and info.value.data == {"retry": False}
    with pytest.raises(ConnectError, match="Invalid namespace"):
        SocketIOTestClient(app, "/nowhere")


def test_refused_handshake_raises_connect_error():
    sio = wsgi_sio.Server(allow_request=lambda environ: "no entry")
    with pytest.raises(ConnectError) as info:
        SocketIOTestClient(wsgi_sio.SocketIOMiddleware(None, sio))
    assert info.value.data == {"code": 4, "message": "no entry"}


def test_disconnects(app):
    client = SocketIOTestClient(app, "/room")
    client.connect("/")
    client.disconnect("/")
    assert not client.is_connected("/") and client.is_connected("/room")
    client.emit("leave_me")
    assert client.wait_for_disconnect("/room")
    client.connect("/room")
    client.emit("bye_all")
    assert client.wait_closed()
    with pytest.raises(ConnectionError):
        client.call("add", 1, 2)
    client.disconnect()


@pytest.mark.django_db(transaction=True)
def test_logged_in_django_user(django_user_model):
    from wsgi_sio.django import get_wsgi_application

    user = django_user_model.objects.create_user("zoe", password="x")
    with SocketIOTestClient(get_wsgi_application(), "/private", user=user) as client:
        assert client.call("whoami")["user"] == "zoe"
