"""wsgi_sio's system checks (wsgi_sio/django/checks.py): one test per id, each a mistake a
project makes and the check that names it, and the same project without it passing."""

from __future__ import annotations

import sys

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from wsgi_sio.django import checks, get_server
from wsgi_sio.middleware import SocketIOMiddleware


def ids(messages) -> list[str]:
    return [m.id for m in messages]


# What a wsgi.py gives, left unchanged or changed as the README says; and wrapped once more
# by some other WSGI middleware (Sentry's, WhiteNoise's keep the app as .app / .application).
plain_application = WSGIHandler()
mounted_application = SocketIOMiddleware(WSGIHandler(), get_server())


class Wrapper:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


wrapped_application = Wrapper(mounted_application)


def test_e001_wsgi_application_without_wsgi_sio():
    with override_settings(WSGI_APPLICATION="tests.django.test_checks.plain_application"):
        messages = checks.check_wsgi_application()
    assert ids(messages) == ["wsgi_sio.E001"]
    assert "gunicorn" in messages[0].msg and "get_wsgi_application" in messages[0].hint
    for good in ("mounted_application", "wrapped_application"):
        with override_settings(WSGI_APPLICATION=f"tests.django.test_checks.{good}"):
            assert checks.check_wsgi_application() == []
    with override_settings(WSGI_APPLICATION="tests.django.no_such_wsgi.application"):
        assert ids(checks.check_wsgi_application()) == ["wsgi_sio.E001"]


def test_e001_reads_a_wsgi_module_not_imported_yet(tmp_path, monkeypatch):
    (tmp_path / "e001_plain_wsgi.py").write_text(
        "from django.core.wsgi import get_wsgi_application\n"
        "application = get_wsgi_application()\n")
    (tmp_path / "e001_sio_wsgi.py").write_text(
        "from wsgi_sio.django import get_wsgi_application\n"
        "application = get_wsgi_application()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with override_settings(WSGI_APPLICATION="e001_plain_wsgi.application"):
        assert ids(checks.check_wsgi_application()) == ["wsgi_sio.E001"]
    with override_settings(WSGI_APPLICATION="e001_sio_wsgi.application"):
        assert checks.check_wsgi_application() == []
    assert "e001_plain_wsgi" not in sys.modules and "e001_sio_wsgi" not in sys.modules


def test_e002_wsgi_sio_not_a_dict():
    with override_settings(WSGI_SIO=[("PATH", "/x/")]):
        assert ids(checks.check_settings()) == ["wsgi_sio.E002"]


def test_e003_unknown_keys_are_reported_not_raised():
    with override_settings(WSGI_SIO={"PING_INTERVALL": 5, "PATH": "/socket.io/"}):
        messages = checks.check_settings()
        assert ids(messages) == ["wsgi_sio.E003"]
        assert "PING_INTERVALL" in messages[0].msg and "PING_INTERVAL" in messages[0].hint
        # manage.py check says so, with the id, instead of a traceback
        with pytest.raises(SystemCheckError, match=r"wsgi_sio\.E003"):
            call_command("check")


@pytest.mark.parametrize("key, value", [
    ("PING_INTERVAL", "25"), ("PING_TIMEOUT", 0), ("MAX_HTTP_BUFFER_SIZE", 1.5),
    ("TRANSPORTS", ["websocket", "longpoll"]), ("TRANSPORTS", []), ("CHECK_REQUEST", "yes"),
    ("SESSION_CHECK_INTERVAL", -1), ("DISCOVER_MODULES", "sockets"), ("LOG_LEVEL", "LOUD"),
    ("PATH", "socket.io"), ("CORS_ALLOWED_ORIGINS", 42), ("ASYNC_MODE", "eventlet"),
    ("SERVE_STATIC", 1), ("MANAGER", ["redis://"]),
])
def test_e004_ill_typed_values(key, value):
    with override_settings(WSGI_SIO={key: value}):
        messages = checks.check_settings()
    assert ids(messages) == ["wsgi_sio.E004"], messages
    assert key in messages[0].msg


def test_e004_well_typed_values_pass():
    good = {"PING_INTERVAL": 10, "PING_TIMEOUT": 2.5, "TRANSPORTS": ["polling"],
            "SESSION_CHECK_INTERVAL": None, "LOG_LEVEL": "debug", "CORS_ALLOWED_ORIGINS": "*",
            "MANAGER": "wsgi_sio.RedisManager", "CONNECTION_STATE_RECOVERY": {"max_packets": 10}}
    with override_settings(WSGI_SIO=good):
        assert checks.check_settings() == []


def test_e005_manager_path_that_cannot_be_imported():
    with override_settings(WSGI_SIO={"MANAGER": "wsgi_sio.NoSuchManager"}):
        assert ids(checks.check_settings()) == ["wsgi_sio.E005"]


STATICFILES = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
               "django.contrib.staticfiles", "wsgi_sio.django"]


def test_w001_client_script_missing_from_static_files(tmp_path):
    only_a_directory = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    with override_settings(INSTALLED_APPS=STATICFILES, STATIC_URL="/static/",
                           STATICFILES_DIRS=[str(tmp_path)], STATICFILES_FINDERS=only_a_directory):
        messages = checks.check_client_script()
    assert ids(messages) == ["wsgi_sio.W001"]
    assert "make dist" in messages[0].hint


def test_w001_client_script_found_in_the_app():
    # make setup (and a wheel) put it in wsgi_sio/django/static/
    with override_settings(INSTALLED_APPS=STATICFILES, STATIC_URL="/static/"):
        assert checks.check_client_script() == []


@pytest.mark.parametrize("origins", [["null"], ["https://*.example.com"],
                                     ["http://partner.example"]])
def test_w002_cors_origins_that_ride_on_cookies(origins):
    with override_settings(WSGI_SIO={"CORS_ALLOWED_ORIGINS": origins}, DEBUG=False):
        assert ids(checks.check_origins()) == ["wsgi_sio.W002"]


def test_w002_exact_https_origins_pass():
    with override_settings(WSGI_SIO={"CORS_ALLOWED_ORIGINS": ["https://app.example",
                                                              "http://localhost:3000"]}):
        assert checks.check_origins() == []
    with override_settings(WSGI_SIO={"CORS_ALLOWED_ORIGINS": "*"}):
        assert checks.check_origins() == []


def test_w003_csrf_trusted_origins_trusting_everyone():
    with override_settings(CSRF_TRUSTED_ORIGINS=["https://*"]):
        assert ids(checks.check_origins()) == ["wsgi_sio.W003"]


def test_w004_session_check_off_with_logins():
    for off in (None, 0):
        with override_settings(WSGI_SIO={"SESSION_CHECK_INTERVAL": off}):
            assert ids(checks.check_session_interval()) == ["wsgi_sio.W004"]
    assert checks.check_session_interval() == []
    with override_settings(WSGI_SIO={"SESSION_CHECK_INTERVAL": 0},
                           INSTALLED_APPS=["django.contrib.contenttypes", "wsgi_sio.django"]):
        assert checks.check_session_interval() == []   # no logins, nothing to re-validate


def test_w005_request_checks_off_in_production():
    with override_settings(WSGI_SIO={"CHECK_REQUEST": False}, DEBUG=False):
        assert ids(checks.check_origins()) == ["wsgi_sio.W005"]
    with override_settings(WSGI_SIO={"CHECK_REQUEST": False}, DEBUG=True):
        assert checks.check_origins() == []


def test_the_test_project_passes_every_check():
    call_command("check")
