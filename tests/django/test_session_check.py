"""A socket lives no longer than its login (issue 6, point 7): a logout ends the sockets of
that session at once (``user_logged_out``); a password change, or a logout that this process
did not see, ends them at the next re-validation (``WSGI_SIO["SESSION_CHECK_INTERVAL"]``)."""

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest

from wsgi_sio.django import get_server
from wsgi_sio.testing import SocketIOTestClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ann(django_user_model):
    return django_user_model.objects.create_user("ann", password="x")


def session_key(client: SocketIOTestClient) -> str:
    cookies = dict(part.split("=", 1) for part in client.environ["HTTP_COOKIE"].split("; "))
    return cookies[settings.SESSION_COOKIE_NAME]


def test_logout_ends_the_sockets_of_that_session_at_once(application, ann):
    with SocketIOTestClient(application, "/private", user=ann) as client, \
            SocketIOTestClient(application, "/private", user=ann) as other:
        assert client.call("whoami")["user"] == "ann"
        assert other.call("whoami")["user"] == "ann"
        request = HttpRequest()
        request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key(client))
        request.user = ann
        logout(request)   # what a logout view does
        assert client.wait_for_disconnect()
        # Another browser of the same user (another session) stays logged in.
        assert other.call("whoami")["user"] == "ann"


def test_password_change_ends_the_sockets_at_the_next_check(application, ann):
    with SocketIOTestClient(application, "/private", user=ann) as client:
        assert client.call("whoami")["user"] == "ann"
        assert get_server().session_check.check() == 0     # nothing changed yet
        ann.set_password("changed")
        ann.save()
        assert get_server().session_check.check() == 1
        assert client.wait_for_disconnect()


def test_sessions_are_revalidated_periodically(application, ann):
    check = get_server().session_check
    interval = check.interval
    check.set_interval(0.1)
    try:
        with SocketIOTestClient(application, "/private", user=ann) as client:
            assert client.call("whoami")["user"] == "ann"
            # The session goes away behind the server's back (a logout in another process).
            import_module(settings.SESSION_ENGINE).SessionStore(session_key(client)).delete()
            assert client.wait_for_disconnect()
    finally:
        check.set_interval(interval)


def test_anonymous_sockets_are_not_tracked(application):
    with SocketIOTestClient(application, "/") as client:
        client.call("ping")
        assert get_server().session_check.sessions == {}
