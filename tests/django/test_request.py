"""``self.request``: a real HttpRequest with the session and user of the handshake's cookie;
database connections closed around handler calls; emits from ordinary Django views."""

import warnings

import pytest
from django.http import HttpRequest

from wsgi_sio.testing import ConnectError, SocketIOTestClient

from .sockapp.sockets import seen

with warnings.catch_warnings():  # WebOb still imports the deprecated ``cgi`` module
    warnings.filterwarnings("ignore", "'cgi' is deprecated", DeprecationWarning)
    import webtest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ann(django_user_model):
    return django_user_model.objects.create_user("ann", password="x")


def test_request_user_and_session_come_from_the_session_cookie(application, ann):
    with SocketIOTestClient(application, "/private", user=ann) as client:
        info = client.call("whoami")
    assert info["user"] == "ann"
    assert info["type"] == "WSGIRequest" and issubclass(__import__("django").core.handlers.wsgi.WSGIRequest, HttpRequest)
    assert info["path"] == "/socket.io/"
    assert info["session_key"]


def test_session_written_by_a_view_is_seen_by_the_handler(application, ann):
    site = webtest.TestApp(application, extra_environ={"HTTP_HOST": "testserver"})
    site.get("/colour/?colour=teal")
    cookie = site.cookies["sessionid"]
    with SocketIOTestClient(application, "/private", user=ann, cookies={}) as client:
        assert client.call("whoami")["colour"] is None   # another session
    # the anonymous session of the view above, carried by its cookie: refused, no user
    with pytest.raises(ConnectError, match="log in first") as info:
        SocketIOTestClient(application, "/private", cookies={"sessionid": cookie})
    assert info.value.data == {"login": "/accounts/login/"}


def test_anonymous_users_are_refused_in_on_connect(application):
    with pytest.raises(ConnectError) as info:
        SocketIOTestClient(application, "/private")
    assert info.value.message == "log in first"


def test_database_connections_are_closed_after_each_handler_call(application, ann):
    with SocketIOTestClient(application, "/private", user=ann) as client:
        assert client.call("db") == 1
        kind, wrapper = seen.get(timeout=5)
        while kind != "db":
            kind, wrapper = seen.get(timeout=5)
        # handlers of one client run in order: once this one answered, the last one is over
        client.call("whoami")
        assert wrapper.connection is None


def test_a_view_emits_to_a_room_and_to_the_namespace(application, ann, django_user_model):
    bob = django_user_model.objects.create_user("bob", password="x")
    site = webtest.TestApp(application, extra_environ={"HTTP_HOST": "testserver"})
    with SocketIOTestClient(application, "/private", user=ann) as a, \
            SocketIOTestClient(application, "/private", user=bob) as b:
        site.post("/announce/", {"text": "to everyone"})
        assert a.wait_for("announcement") == ["to everyone"]
        assert b.wait_for("announcement") == ["to everyone"]
        site.post("/announce/", {"text": "to members", "room": "members"})
        assert a.wait_for("announcement") == ["to members"]
        assert b.wait_for("announcement") == ["to members"]
        site.post("/announce/", {"text": "to ann only", "room": a.sid})
        assert a.wait_for("announcement") == ["to ann only"]
        b.call("whoami")
        assert b.get_received() == []
