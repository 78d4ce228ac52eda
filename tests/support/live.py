"""Real servers in real processes, on 127.0.0.1 and a free port.

``LiveServer`` runs ``python -m wsgi_sio APP --bind 127.0.0.1:0`` (or any command that says
where it listens) in a subprocess, keeps everything it prints, and gives its ``url`` once it
listens; ``stop()`` returns the output, which tests check for tracebacks. ``django_server``
is the same for ``manage.py runserver_sio`` and friends. The fixtures built on these live in
tests/conftest.py and the conftest.py of each suite.
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What runserver_sio prints once it listens.
DJANGO_READY = r"wsgi_sio: serving on (http://[^/\s]+)"


class LiveServer:
    """``python -m wsgi_sio APP --bind 127.0.0.1:0`` in a subprocess; ``url`` once it listens."""

    def __init__(self, app: str, *extra: str, command: list[str] | None = None,
                 ready: str = r"serving on (http://\S+?)/?$") -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        command = command or [sys.executable, "-m", "wsgi_sio", app, "--bind", "127.0.0.1:0", *extra]
        self.ready = re.compile(ready)
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        self.url = self.wait_for_address(timeout=20)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put("")

    def wait_for_address(self, timeout: float) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise RuntimeError("server did not start:\n" + "".join(self.output)) from None
            if not line:
                raise RuntimeError("server exited:\n" + "".join(self.output))
            match = self.ready.search(line.strip())
            if match:
                return match.group(1)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._pump_thread.join(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return "".join(self.output)


def assert_only_deliberate_tracebacks(output: str) -> None:
    """The server logged no traceback but those of the handler that fails on purpose."""
    for block in output.split("Traceback (most recent call last):")[1:]:
        assert "RuntimeError: this handler fails on purpose" in block, output


def free_port() -> int:
    """A port free on 127.0.0.1 now (for a server that cannot be told to bind port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def django_server(command: str, *args: str, **env: str) -> LiveServer:
    """``python -m django COMMAND ARGS`` of the live test project (tests/django/live_settings.py),
    with ``env`` in its environment; ``url`` once runserver_sio says where it serves."""
    environment = [f"{k}={v}" for k, v in {"DJANGO_SETTINGS_MODULE": "tests.django.live_settings",
                                          **env}.items()]
    return LiveServer("", command=["env", *environment, sys.executable, "-m", "django", command,
                                   *args], ready=DJANGO_READY)
