"""Browser tests: the demo site (sample_site/) in a subprocess (``manage.py runserver_sio``,
or gunicorn with several workers and the Redis manager), driven in Debian's headless Chromium
by Playwright (no browser download)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import DJANGO_READY, ROOT, LiveServer

SITE = ROOT / "sample_site"


@pytest.fixture(scope="session")
def site_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh database of the demo site, migrated, with the demo users."""
    if not (ROOT / "wsgi_sio/django/static/wsgi_sio/socket.io.min.js").exists():
        pytest.fail("socket.io-client is not installed for the static files: run `make setup`")
    db = tmp_path_factory.mktemp("site") / "db.sqlite3"
    # pytest-django has set the test project's DJANGO_SETTINGS_MODULE in our environment
    env = dict(os.environ, SAMPLE_SITE_DB=str(db), DJANGO_SETTINGS_MODULE="sample_site.settings")
    for command in (["migrate", "--noinput", "-v0"], ["create_demo_users"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=SITE, env=env, check=True,
                       capture_output=True, timeout=60)
    return db


@pytest.fixture(scope="session")
def site(site_db: Path) -> Iterator[str]:
    """The demo site under ``runserver_sio`` (one process) on a free port."""
    db = site_db
    server = LiveServer("", command=["env", f"SAMPLE_SITE_DB={db}",
                                     "DJANGO_SETTINGS_MODULE=sample_site.settings", sys.executable,
                                     "sample_site/manage.py", "runserver_sio", "127.0.0.1:0",
                                     "--noreload"], ready=DJANGO_READY)
    yield server.url
    output = server.stop()
    assert "Traceback" not in output, output


@pytest.fixture
def new_page(browser):
    """Pages in contexts of their own (separate cookies, as two browsers), closed after the test."""
    contexts = []

    def make():
        context = browser.new_context()
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
