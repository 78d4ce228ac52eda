"""What a pip user gets: the wheel that ``make dist`` builds, installed into a fresh venv with no
npm on the PATH, in a project made by ``django-admin startproject`` and changed as the README's
"Installation" and "Adopting it" say, serves a page whose socket.io-client (from the wheel's
static files) reaches a namespace over WebSocket in headless Chromium.

pip installs Django, gevent and gevent-websocket from the machine's configured index (its
cache makes the second run fast)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.live import DJANGO_READY, ROOT, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

CLIENT = "wsgi_sio/django/static/wsgi_sio/socket.io.min.js"
#: the 0.9.16 client, for pages still on the 0.9 API (WSGI_SIO["LEGACY_CLIENTS"])
LEGACY_CLIENT = "wsgi_sio/django/static/wsgi_sio/socket.io-0.9.16.min.js"

SOCKETS = '''
from wsgi_sio.django import Namespace, namespace


@namespace("/chat")
class Chat(Namespace):
    def on_connect(self, auth):
        who = self.user.get_username() if self.user.is_authenticated else "anonymous"
        self.emit("welcome", f"hello {who}")

    def on_shout(self, text):
        return text.upper()
'''
PAGE = '''{% load wsgi_sio %}<!doctype html>
<html><body><p id="status">loading</p>
{% socketio_client %}
<script>
  const socket = io("/chat");
  socket.on("welcome", (text) => { document.getElementById("status").textContent = text; });
</script>
</body></html>
'''


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str]) -> str:
    done = subprocess.run([str(c) for c in command], check=False, cwd=cwd, env=env,
                          capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def clean_env(**extra: str) -> dict[str, str]:
    """Our environment without what points at this checkout or its venv (pytest-django's
    DJANGO_SETTINGS_MODULE among them)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, **extra}


def build_wheel(out: Path) -> Path:
    """``make dist``'s command: the sdist, then the wheel built from it."""
    run(sys.executable, "-m", "build", "--outdir", out, ROOT, env=clean_env())
    wheel = next(out.glob("wsgi_sio-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {CLIENT, CLIENT + ".map", LEGACY_CLIENT} <= names
    return wheel


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def test_wheel_in_a_fresh_venv_serves_a_startproject_site_over_websocket(tmp_path, browser):
    wheel = build_wheel(tmp_path / "dist")

    # A fresh venv, and a PATH on which it is the only thing: no npm, no node.
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, env=clean_env())
    path = str(venv / "bin")
    assert shutil.which("npm", path=path) is None and shutil.which("node", path=path) is None
    env = clean_env(PATH=path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", f"{wheel}[django]", env=env)

    # README "Adopting it": the app, wsgi.py, a sockets.py, the client from static files.
    site = tmp_path / "site"
    site.mkdir()
    run(venv / "bin" / "django-admin", "startproject", "mysite", site, env=env)
    run(python, "manage.py", "startapp", "chat", cwd=site, env=env)
    settings = site / "mysite" / "settings.py"
    edit(settings, "INSTALLED_APPS = [", 'INSTALLED_APPS = [\n    "wsgi_sio.django",\n    "chat",')
    edit(site / "mysite" / "wsgi.py", "from django.core.wsgi import get_wsgi_application",
         "from wsgi_sio.django import get_wsgi_application")
    (site / "chat" / "sockets.py").write_text(SOCKETS)
    (site / "chat" / "templates" / "chat").mkdir(parents=True)
    (site / "chat" / "templates" / "chat" / "index.html").write_text(PAGE)
    edit(site / "mysite" / "urls.py", "urlpatterns = [",
         "from django.views.generic import TemplateView\n\nurlpatterns = [\n"
         '    path("", TemplateView.as_view(template_name="chat/index.html")),')

    # wsgi_sio's checks pass: wsgi.py mounts it, the wheel carries the client script.
    checked = run(python, "manage.py", "check", cwd=site, env=env)
    assert "no issues" in checked, checked
    where = run(python, "-c", "import wsgi_sio; print(wsgi_sio.__file__)", cwd=site, env=env)
    assert where.startswith(str(venv)), where   # the installed package, not this checkout

    server = LiveServer("", command=["env", "-i", "-C", str(site), "PYTHONUNBUFFERED=1",
                                     *[f"{k}={v}" for k, v in env.items()],
                                     str(python), "manage.py", "runserver_sio", "127.0.0.1:0",
                                     "--noreload"], ready=DJANGO_READY)
    try:
        from playwright.sync_api import expect

        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(server.url + "/")
            expect(page.locator("#status")).to_have_text("hello anonymous")
            page.wait_for_function("() => socket.io.engine.transport.name === 'websocket'")
            answer = page.evaluate("new Promise((ok) => socket.emit('shout', 'hi', ok))")
            assert answer == "HI"
        finally:
            context.close()
    finally:
        output = server.stop()
    assert "Traceback" not in output, output
    assert '"GET /static/wsgi_sio/socket.io.min.js HTTP/1.1" 200' in output, output
