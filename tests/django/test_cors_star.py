"""``CORS_ALLOWED_ORIGINS = "*"`` lets any site connect, but never as the visiting user
(issue 9, item 7): cross-site WebSocket hijacking through cookies is what it must not open."""

import pytest
from django.test import override_settings

from wsgi_sio.django import build_server
from wsgi_sio.middleware import SocketIOMiddleware
from wsgi_sio.testing import ConnectError, SocketIOTestClient

from .sockapp.sockets import seen


@pytest.fixture
def star_app(application):
    with override_settings(WSGI_SIO={"CORS_ALLOWED_ORIGINS": "*"}):
        server = build_server()
    yield SocketIOMiddleware(application.app, server)
    server.engine.close_all()


@pytest.mark.django_db(transaction=True)
def test_a_foreign_page_connects_anonymously_even_with_the_users_cookie(star_app, django_user_model):
    user = django_user_model.objects.create_user("ann", password="x")
    # /private refuses anonymous users: the session cookie went with the handshake, but a
    # foreign origin under "*" does not get to use it
    with pytest.raises(ConnectError) as info:
        SocketIOTestClient(star_app, "/private", headers={"Origin": "https://evil.example"}, user=user)
    assert str(info.value) == "log in first" and info.value.data == {"login": "/accounts/login/"}
    assert seen.get(timeout=5) == ("connect", "https://evil.example")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin", [None, "http://testserver"])
def test_the_sites_own_pages_and_non_browsers_keep_the_login(star_app, origin, django_user_model):
    user = django_user_model.objects.create_user("ann", password="x")
    headers = {"Origin": origin} if origin else {}
    with SocketIOTestClient(star_app, "/private", headers=headers, user=user) as client:
        assert client.call("whoami")["user"] == "ann"
    assert seen.get(timeout=5) == ("connect", origin)
