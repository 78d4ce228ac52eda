"""Connection state recovery under Django: ``WSGI_SIO["CONNECTION_STATE_RECOVERY"]`` turns it
on, and a kept session recovers only while its login is still the handshake's (a logout,
flush or another user meanwhile: not restored, the client connects anew)."""

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest
from django.test import Client, override_settings

from wsgi_sio.django.server import build_server, get_server
from wsgi_sio.django.session_check import SESSION_KEY, USER_KEY

pytestmark = pytest.mark.django_db(transaction=True)


class Handshake:
    """What the session check reads of a socket: its handshake's environ and its extras."""

    def __init__(self, cookie: str, extras: dict) -> None:
        self.environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/socket.io/", "SERVER_NAME": "testserver",
                        "SERVER_PORT": "80", "wsgi.url_scheme": "http",
                        "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={cookie}"}
        self.extras = dict(extras)
        self.sid = "s"


@pytest.fixture
def ann(django_user_model):
    return django_user_model.objects.create_user("ann", password="x")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="x")


def kept(user) -> tuple[str, dict]:
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return key, {SESSION_KEY: key, USER_KEY: str(user.pk)}


def test_the_setting_turns_recovery_on():
    with override_settings(WSGI_SIO={"CONNECTION_STATE_RECOVERY": {"max_disconnection_duration": 30}}):
        server = build_server()
    assert server.recovery is not None and server.recovery.max_disconnection_duration == 30


def test_off_by_default():
    assert build_server().recovery is None


def test_the_same_login_recovers(ann):
    key, extras = kept(ann)
    assert get_server().may_recover(Handshake(key, extras))


def test_a_login_that_ended_meanwhile_does_not_recover(ann):
    key, extras = kept(ann)
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    request.user = ann
    logout(request)
    assert not get_server().may_recover(Handshake(key, extras))


def test_another_users_session_does_not_recover(ann, bob):
    _, extras = kept(ann)
    other, _ = kept(bob)
    assert not get_server().may_recover(Handshake(other, extras))


def test_anonymous_sockets_have_nothing_to_check():
    assert get_server().may_recover(Handshake("nothing", {}))


def test_the_kept_session_carries_the_login_only(ann):
    key, extras = kept(ann)
    socket = Handshake(key, {**extras, "django.request": object()})
    assert get_server().recovery_extras(socket) == extras
