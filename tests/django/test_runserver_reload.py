"""runserver_sio survives broken code as runserver does: a SyntaxError in an app's sockets.py,
at start or while it serves, leaves the autoreloader watching, and the fixed file is served.

The project is the live test project plus an app written into a temporary directory, so the
test can break and fix its files."""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import sys

import requests

from tests.support.live import DJANGO_READY, LiveServer

GOOD = '''
from wsgi_sio.django import Namespace, namespace

@namespace("/{name}")
class Fixed(Namespace):
    def on_connect(self, auth):
        pass
'''
BROKEN = "x = (\n"


WRITES = itertools.count(1)


def write(path, text: str) -> None:
    path.write_text(text)
    # a later mtime than any write before (the reloader wants a newer one), whatever the
    # file system's timestamp resolution
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 1000 * next(WRITES)))


def wait_for_line(server: LiveServer, pattern: str, timeout: float = 20) -> str:
    wanted = re.compile(pattern)
    while True:
        try:
            line = server.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line matching {pattern!r}:\n" + "".join(server.output)) from None
        assert line, "server exited:\n" + "".join(server.output)
        if wanted.search(line):
            return line


def fix_until_served(server: LiveServer, path, text: str) -> str:
    """Write the fixed file, again with a later mtime until the server serves it: the
    reloader notices only changes after its first look at the files, which it takes some
    time after the error was printed. Returns the new address."""
    for _ in range(15):
        write(path, text)
        try:
            return server.wait_for_address(timeout=2)
        except RuntimeError as exc:
            if "exited" in str(exc):
                raise
    raise AssertionError("not served after the fix:\n" + "".join(server.output))


def connects(url: str, namespace: str) -> None:
    """A polling client joins ``namespace``: the server runs the app's sockets.py."""
    base = f"{url}/socket.io/?EIO=4&transport=polling"
    sid = json.loads(requests.get(base, timeout=5).text[1:])["sid"]
    assert requests.post(f"{base}&sid={sid}", data=f"40{namespace},", timeout=5).text == "ok"
    assert requests.get(f"{base}&sid={sid}", timeout=5).text.startswith(f"40{namespace},")


def test_runserver_sio_survives_a_syntax_error_in_sockets_py(tmp_path):
    app = tmp_path / "reload_probe_app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (tmp_path / "reload_probe_settings.py").write_text(
        "from tests.django.live_settings import *\n"
        "INSTALLED_APPS = [*INSTALLED_APPS, 'reload_probe_app']\n")
    sockets = app / "sockets.py"
    write(sockets, BROKEN)
    # Started broken: the process says why and keeps watching (LiveServer waits for that line).
    server = LiveServer("", command=["env", f"PYTHONPATH={tmp_path}",
                                     "DJANGO_SETTINGS_MODULE=reload_probe_settings",
                                     sys.executable, "-m", "django", "runserver_sio", "127.0.0.1:0"],
                        ready=r"(SyntaxError)")
    try:
        server.ready = re.compile(DJANGO_READY)
        assert server.proc.poll() is None
        connects(fix_until_served(server, sockets, GOOD.format(name="one")), "/one")

        # Broken while it serves: the reloader's new child fails, the process lives on.
        write(sockets, BROKEN)
        wait_for_line(server, r"SyntaxError: '\(' was never closed")
        assert server.proc.poll() is None
        connects(fix_until_served(server, sockets, GOOD.format(name="two")), "/two")
    finally:
        output = server.stop()
    assert output.count("SyntaxError: '(' was never closed") == 2, output
    assert "reload_probe_app/sockets.py changed, reloading" in output


def test_runserver_sio_reports_an_unknown_setting_and_serves_once_it_is_fixed(tmp_path):
    settings = tmp_path / "reload_settings_probe.py"
    write(settings, "from tests.django.live_settings import *\n"
                    "WSGI_SIO = {'PING_INTERVALL': 5}\n")
    # The system checks name the key (no traceback while Django starts); the process watches.
    server = LiveServer("", command=["env", f"PYTHONPATH={tmp_path}",
                                     "DJANGO_SETTINGS_MODULE=reload_settings_probe",
                                     sys.executable, "-m", "django", "runserver_sio", "127.0.0.1:0"],
                        ready=r"(wsgi_sio\.E003)")
    try:
        server.ready = re.compile(DJANGO_READY)
        assert server.proc.poll() is None
        url = fix_until_served(server, settings, "from tests.django.live_settings import *\n"
                                                 "WSGI_SIO = {'PING_INTERVAL': 5}\n")
        handshake = json.loads(requests.get(f"{url}/socket.io/?EIO=4&transport=polling",
                                            timeout=5).text[1:])
        assert handshake["pingInterval"] == 5000
    finally:
        output = server.stop()
    assert "PING_INTERVALL" in output
