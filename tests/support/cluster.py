"""Several worker processes serving one app, for the tests of sessions across workers
(docs/design/sessions-across-workers.md §9): any request of a session may reach any worker.

``Gunicorn`` runs gunicorn's ``GeventWebSocketWorker`` with ``-w N`` on ``127.0.0.1:0`` (all
workers share the master's listening socket, so the kernel spreads connections over them) and
records the pid of every worker it boots. ``Nginx`` runs Debian's nginx in the foreground on
a free port, with a private prefix and config, as a plain round-robin proxy to some upstreams.
Both wait on what the process prints, with a timeout, never on a fixed sleep.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import ROOT, LiveServer, free_port

WORKER = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
BOOTED = re.compile(r"Booting worker with pid: (\d+)")
NGINX = Path("/usr/sbin/nginx")
NODE = shutil.which("node")
JS_DIR = ROOT / "tests" / "interop" / "js"
SESSIONS = JS_DIR / "sessions.mjs"
TIMEOUT = 20


def gunicorn_options() -> list[str]:
    """gunicorn 25+ opens a control socket, by default one path for every gunicorn of the
    user (~/.gunicorn/gunicorn.ctl): two gunicorns at once would take it from each other."""
    from gunicorn.config import KNOWN_SETTINGS  # only the test process imports it

    return ["--no-control-socket"] if any(s.name == "control_socket_disable"
                                          for s in KNOWN_SETTINGS) else []


class Gunicorn(LiveServer):
    """``gunicorn -k GeventWebSocketWorker -w WORKERS APP`` on ``127.0.0.1:0``, with ``env``
    added to the environment; ``url`` once the master listens (its workers boot after that,
    and connections made meanwhile wait in the backlog), ``worker_pids`` as they boot."""

    def __init__(self, app: str, workers: int, env: Mapping[str, str] | None = None,
                 *extra: str, graceful_timeout: float = 5) -> None:
        self.graceful_timeout = graceful_timeout
        environment = [f"{k}={v}" for k, v in (env or {}).items()]
        super().__init__(app, command=[
            "env", *environment, sys.executable, "-m", "gunicorn", "-k", WORKER,
            "-w", str(workers), "--bind", "127.0.0.1:0", "--graceful-timeout", str(graceful_timeout),
            *gunicorn_options(), *extra, app], ready=r"Listening at: (http://\S+)")
        self.workers = workers

    @property
    def address(self) -> str:
        """``host:port``, as an nginx upstream names it."""
        return self.url.removeprefix("http://")

    @property
    def worker_pids(self) -> list[int]:
        """Every worker booted so far, respawned ones included, in order."""
        return [int(m.group(1)) for line in list(self.output) for m in [BOOTED.search(line)] if m]

    def wait_for_workers(self, count: int | None = None, timeout: float = TIMEOUT) -> list[int]:
        """Waits until ``count`` workers (all of them by default) have booted."""
        count = self.workers if count is None else count
        while len(self.worker_pids) < count:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise RuntimeError(f"{count} workers did not boot:\n" + "".join(self.output)) from None
            if not line:
                raise RuntimeError("gunicorn exited:\n" + "".join(self.output))
        return self.worker_pids

    def stop(self) -> str:
        """SIGTERM to the master, which stops its workers gracefully; anything still alive
        after the graceful timeout (and a margin) is killed, the workers too."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=self.graceful_timeout + 10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in self.worker_pids:  # orphans only if the master was killed
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._pump_thread.join(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return "".join(self.output)


def nginx_main(prefix: Path, http: str) -> str:
    """nginx's main configuration around ``http`` (the inside of its ``http`` block), with every
    file it writes under ``prefix``."""
    # As root, nginx's workers would run as "nobody" and could not read pytest's 0700 tmp.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(f"    {kind}_temp_path {prefix / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""\
{user}worker_processes 1;
worker_shutdown_timeout 5s;
pid {prefix / "nginx.pid"};
error_log stderr notice;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
{temp}
{http}
}}
"""


def nginx_config(prefix: Path, port: int, upstreams: Sequence[str]) -> str:
    """A plain round-robin proxy to ``upstreams`` (``host:port``) on 127.0.0.1:``port``,
    passing WebSocket upgrades, with every file it writes under ``prefix``."""
    servers = "".join(f"        server {address};\n" for address in upstreams)
    return nginx_main(prefix, f"""\
    upstream cluster {{
{servers}    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://cluster;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # long-polls wait up to the ping interval; websockets idle as long between pings
            proxy_read_timeout 120s;
            proxy_send_timeout 120s;
            proxy_buffering off;
            proxy_request_buffering off;
        }}
    }}
""")


class Nginx:
    """``nginx -p PREFIX -c PREFIX/nginx.conf -e stderr -g "daemon off;"``: round robin over
    ``upstreams`` on a free port of 127.0.0.1; ``url`` once its worker has started. Skips the
    test when nginx is not installed (``make test`` installs it; CI=true fails on the skip)."""

    def __init__(self, prefix: Path, upstreams: Sequence[str], attempts: int = 3,
                 config: Callable[[Path, int], str] | None = None) -> None:
        if not NGINX.exists():
            pytest.skip(f"{NGINX} is not installed (make {NGINX} installs Debian's nginx-light)")
        self.prefix = Path(prefix)
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.output: list[str] = []
        for attempt in range(attempts):
            # free_port() can race with another process taking the port: try another one
            self.port = free_port()
            text = (config or (lambda p, port: nginx_config(p, port, upstreams)))(self.prefix, self.port)
            (self.prefix / "nginx.conf").write_text(text)
            if self._start():
                break
            if attempt == attempts - 1 or "Address already in use" not in "".join(self.output):
                raise RuntimeError("nginx did not start:\n" + "".join(self.output))
        self.url = f"http://127.0.0.1:{self.port}"
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT):
            pass  # the master listens before it starts its worker: this cannot wait

    def _start(self) -> bool:
        self.output = []
        self.proc = subprocess.Popen(
            [str(NGINX), "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
             "-e", "stderr", "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self._pump_thread = threading.Thread(target=self._pump, args=(self.proc, self.lines),
                                             daemon=True)
        self._pump_thread.start()
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                self._kill()
                raise RuntimeError("nginx did not start:\n" + "".join(self.output)) from None
            if not line:
                self.proc.wait()
                return False
            if "start worker process" in line:
                return True

    def _pump(self, proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line)
            lines.put(line)
        lines.put("")

    def _kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> str:
        """SIGQUIT: a graceful stop (open connections are finished, then closed)."""
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._kill()
        self._pump_thread.join(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return "".join(self.output)


# -- many sessions from one Node process (tests/interop/js/sessions.mjs) ---------------------


def require_node() -> str:
    if NODE is None:
        pytest.skip("node is not installed (Node.js 18+ is needed)")
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        pytest.skip("tests/interop/js/node_modules is missing: run `make setup`")
    return NODE


def run_sessions(url: str, count: int, calls: int, transports: Sequence[str],
                 upgrade: bool = True, stats: bool = True, timeout: float = 60) -> dict[str, Any]:
    """``count`` socket.io-client sessions, each making ``calls`` ordered ``echo_ack`` calls;
    returns the driver's summary (``sessions``: what each saw; ``pids``: every pid that
    answered). The driver's own guard ends the run ``timeout - 10`` seconds in."""
    node = require_node()
    options = {"url": url, "count": count, "calls": calls, "transports": list(transports),
               "upgrade": upgrade, "stats": stats, "timeout_ms": int((timeout - 10) * 1000)}
    proc = subprocess.run([node, str(SESSIONS), json.dumps(options)], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return json.loads(lines[0])


def failed_sessions(summary: dict[str, Any], calls: int) -> list[dict[str, Any]]:
    """The sessions that did not connect exactly once, saw a disconnect or an error, or did
    not get every ack, in order."""
    return [s for s in summary["sessions"]
            if s["connects"] != 1 or s["disconnects"] or s["errors"] or s["bad_acks"]
            or s["acks"] != calls]


def describe_failures(summary: dict[str, Any], calls: int, shown: int = 3) -> str:
    """A short account of what went wrong, for an assertion message (not 100 records)."""
    failed = failed_sessions(summary, calls)
    errors: dict[str, int] = {}
    for s in failed:
        for reason in s["errors"] + s["connect_errors"] + s["disconnects"]:
            errors[reason] = errors.get(reason, 0) + 1
    head = {k: v for k, v in summary.items() if k != "sessions"}
    return (f"{len(failed)} of {len(summary['sessions'])} sessions failed; {head}\n"
            f"reasons (count): {errors}\nfirst ones: {json.dumps(failed[:shown])}")


def assert_sessions_succeeded(summary: dict[str, Any], count: int, calls: int) -> None:
    """Every session connected once, never disconnected, and got all ``calls`` acks in order;
    more than one worker answered."""
    assert summary["ok"] is True, describe_failures(summary, calls)
    assert len(summary["sessions"]) == count
    assert not failed_sessions(summary, calls), describe_failures(summary, calls)
    assert len(summary["pids"]) >= 2, f"one worker answered everything: {summary['pids']}"


def owner_stats(summary: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The engine stats each owner reported last (``stats`` is answered by the session's owner)."""
    return {s["stats"]["pid"]: s["stats"] for s in summary["sessions"] if s.get("stats")}


def check_adopted(summary: dict[str, Any]) -> None:
    """Long-polling requests that reached another worker were handed to their owner: some
    owner counts ``adopted`` requests."""
    stats = owner_stats(summary)
    assert stats and all("adopted" in s for s in stats.values()), stats
    assert sum(s["adopted"] for s in stats.values()) > 0, stats


def redis_env(redis_url: str) -> dict[str, str]:
    """The environment of tests/apps/cluster.py for the Redis manager, with a channel prefix of
    its own (give the same one to every server of one cluster)."""
    return {"REDIS_URL": redis_url, "WSGI_SIO_REDIS_KEY": "wsgi-sio-cluster-" + secrets.token_hex(4)}
