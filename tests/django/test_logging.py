"""What runserver_sio and python -m wsgi_sio print: each log record once (Django's ``django``
logger has a handler of its own and propagates to the root, where ours is)."""

from __future__ import annotations

import sys

import requests

from tests.support.live import LiveServer, django_server


def test_runserver_sio_prints_a_404_once():
    server = django_server("runserver_sio", "127.0.0.1:0", "--noreload")
    try:
        assert requests.get(f"{server.url}/favicon.ico", timeout=5).status_code == 404
    finally:
        output = server.stop()
    assert output.count("Not Found: /favicon.ico") == 1, output


def test_python_m_wsgi_sio_prints_a_404_once(tmp_path):
    (tmp_path / "logging_probe_wsgi.py").write_text(
        "from wsgi_sio.django import get_wsgi_application\n"
        "application = get_wsgi_application()\n")
    server = LiveServer("", command=["env", f"PYTHONPATH={tmp_path}",
                                     "DJANGO_SETTINGS_MODULE=tests.django.live_settings",
                                     sys.executable, "-m", "wsgi_sio", "logging_probe_wsgi",
                                     "--bind", "127.0.0.1:0"])
    try:
        assert requests.get(f"{server.url}/favicon.ico", timeout=5).status_code == 404
    finally:
        output = server.stop()
    assert output.count("Not Found: /favicon.ico") == 1, output
