"""WSGI_SIO settings with DEBUG-aware defaults, and discovery of the apps' socket modules."""

import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

import wsgi_sio
from wsgi_sio.django import build_server, conf, get_server, get_wsgi_application
from wsgi_sio.django.discovery import autodiscover
from wsgi_sio.testing import SocketIOTestClient


def test_defaults_follow_debug():
    with override_settings(DEBUG=True):
        debug = conf.get_options()
    with override_settings(DEBUG=False):
        production = conf.get_options()
    assert debug["SERVE_STATIC"] is True and production["SERVE_STATIC"] is False
    assert debug["ACCESS_LOG"] is True and production["ACCESS_LOG"] is False
    assert debug["LOG_LEVEL"] == "INFO" and production["LOG_LEVEL"] == "WARNING"
    assert debug["PING_INTERVAL"] == production["PING_INTERVAL"] == 25
    assert production["CHECK_REQUEST"] is True
    assert production["DISCOVER_MODULES"] == ("sockets", "events")


@override_settings(DEBUG=True, WSGI_SIO={"PING_INTERVAL": 3, "PING_TIMEOUT": 2, "SERVE_STATIC": False,
                                         "MAX_HTTP_BUFFER_SIZE": 1234, "PATH": "/live/"})
def test_settings_reach_the_server():
    options = conf.get_options()
    assert options["SERVE_STATIC"] is False and options["ACCESS_LOG"] is True
    server = build_server()
    assert server.engine.ping_interval == 3 and server.engine.ping_timeout == 2
    assert server.engine.max_http_buffer_size == 1234
    assert server.engine.path == "/live/"
    # and the namespaces registered by discovery are on it
    client = SocketIOTestClient(wsgi_sio.SocketIOMiddleware(None, server), "/", path="/live/")
    with client:
        assert client.call("ping", 1) == ["pong", 1]


@override_settings(WSGI_SIO={"PING_INTREVAL": 3})
def test_unknown_keys_are_refused_by_name():
    with pytest.raises(ImproperlyConfigured, match="PING_INTREVAL"):
        conf.get_options()


@override_settings(WSGI_SIO={"MANAGER": "wsgi_sio.InProcessManager"})
def test_manager_from_a_dotted_path():
    assert isinstance(build_server().manager, wsgi_sio.InProcessManager)


def test_discovery_found_sockets_and_events_modules():
    application = get_wsgi_application()
    for nsp in ("/echo", "/private", "/old"):   # events.py, sockets.py, sockets.py (compat)
        client = SocketIOTestClient(application, connect=False)
        with client:
            try:
                client.connect(nsp)
            except wsgi_sio.testing.ConnectError as exc:
                assert exc.message == "log in first"   # reached the namespace's own on_connect
    assert application.server is get_server()


@override_settings(WSGI_SIO={"DISCOVER_MODULES": ("broken_sockets",)})
def test_a_genuine_import_error_inside_a_socket_module_propagates():
    # Apps without a broken_sockets module are skipped; the one whose module fails to import
    # makes discovery fail loudly with that error.
    with pytest.raises(ModuleNotFoundError, match="wsgi_sio_no_such_module_for_tests"):
        autodiscover()


PROBE = "tests.django.sockapp.discovery_probe"


@override_settings(WSGI_SIO={"DISCOVER_MODULES": ("no_app_has_this", "discovery_probe")})
def test_apps_without_the_module_are_skipped():
    """No app has ``no_app_has_this`` and only sockapp has ``discovery_probe``: discovery
    raises nothing for the apps without them and imports the one that exists."""
    sys.modules.pop(PROBE, None)
    autodiscover()
    assert PROBE in sys.modules
    found = sorted(name for name in sys.modules
                   if name.rpartition(".")[2] in ("no_app_has_this", "discovery_probe"))
    assert found == [PROBE]
