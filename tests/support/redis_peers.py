"""What the Redis manager's tests run against: ``redis-server`` processes (``RedisServer``),
wsgi_sio processes on a Redis (``start_server``), an app served in this process
(``serve_threaded``), python-socketio clients that record what they receive (``Client``), and
a Node peer speaking @socket.io/redis-adapter and -emitter (``NodePeer``).

Importing it without the redis extra (or python-socketio) skips the importer: it is imported
by tests/managers/conftest.py, so the whole directory is skipped, as tests/conftest.py's
``--require-all`` expects of a missing extra.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import socketserver
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from tests.support.live import ROOT, LiveServer, free_port

redis = pytest.importorskip("redis", reason="the redis extra is not installed")
socketio = pytest.importorskip("socketio")

TIMEOUT = 10
REDIS_SERVER = shutil.which("redis-server")


class RedisServer:
    """``redis-server`` on 127.0.0.1:``port`` in a temp dir, without persistence.

    ``config``: more ``redis-server`` options, e.g. ``("--proto-max-bulk-len", "64mb")``."""

    def __init__(self, port: int | None = None, config: tuple[str, ...] = ()) -> None:
        if REDIS_SERVER is None:
            pytest.skip("redis-server is not installed and no Redis answers on 127.0.0.1:6379")
        self.port = port or free_port()
        self.config = config
        self.dir = tempfile.mkdtemp(prefix="wsgi-sio-redis-")
        self.proc: subprocess.Popen[str] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--loglevel", "notice", *self.config],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue[str] = queue.Queue()
        proc = self.proc

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put("")

        self._pump_thread = threading.Thread(target=pump, daemon=True)
        self._pump_thread.start()
        seen = []
        while True:
            try:
                line = lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise RuntimeError("redis-server did not start:\n" + "".join(seen)) from None
            seen.append(line)
            if not line:
                raise RuntimeError("redis-server exited:\n" + "".join(seen))
            if "Ready to accept connections" in line:
                return

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self._pump_thread.join(timeout=10)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def answers(url: str) -> bool:
    """A Redis answers a PING at ``url``."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


# -- wsgi_sio server processes ---------------------------------------------------------------


def start_server(url: str, key: str, retry_max: float = 5) -> LiveServer:
    with mock.patch.dict(os.environ, {"WSGI_SIO_REDIS_URL": url, "WSGI_SIO_REDIS_KEY": key,
                                      "WSGI_SIO_REDIS_RETRY_MAX": str(retry_max)}):
        return LiveServer("tests.apps.redis_app:application")


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve_threaded(app: Any) -> Iterator[str]:
    """``app`` on a threaded wsgiref server on 127.0.0.1:0 in this process (long-polling only);
    yields its URL. For a manager the test must reach: its counters, its log records."""
    httpd = make_server("127.0.0.1", 0, app, server_class=_ThreadingWSGIServer,
                        handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class Client:
    """A python-socketio client that records every event; ``next(event)`` waits for one."""

    def __init__(self, url: str, namespace: str = "/", transports: list[str] | None = None,
                 ready: bool = True) -> None:
        self.namespace = namespace
        self.queues: dict[str, queue.Queue[tuple[Any, ...]]] = {}
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._any, namespace=namespace)
        self.disconnected = threading.Event()
        self.sio.on("disconnect", lambda *a: self.disconnected.set(), namespace=namespace)
        self.sio.connect(url, namespaces=[namespace], transports=transports or ["websocket"],
                         wait_timeout=TIMEOUT)
        self.sid: str = self.sio.get_sid(namespace)
        self.server_uid = ""
        if ready:  # wait until the server listens on Redis
            info = self.call("ready")
            assert info["ready"] is True, info
            self.server_uid = info["uid"]

    def _any(self, event: str, *args: Any) -> Any:
        self.queues.setdefault(event, queue.Queue()).put(args)
        return "ack from py" if event == "question" else None

    def call(self, event: str, *args: Any) -> Any:
        # python-socketio's call() sends one data argument; a tuple spreads into several
        data = tuple(args) if len(args) != 1 else args[0]
        if not args:
            return self.sio.call(event, namespace=self.namespace, timeout=TIMEOUT)
        return self.sio.call(event, data, namespace=self.namespace, timeout=TIMEOUT)

    def next(self, event: str) -> tuple[Any, ...]:
        try:
            return self.queues.setdefault(event, queue.Queue()).get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no {event!r} within {TIMEOUT} s") from None

    def pending(self, event: str) -> list[tuple[Any, ...]]:
        """What has arrived for ``event`` and was not taken yet (no waiting)."""
        got = []
        q = self.queues.setdefault(event, queue.Queue())
        while not q.empty():
            got.append(q.get_nowait())
        return got

    def close(self) -> None:
        self.sio.disconnect()


# -- the Node peer ---------------------------------------------------------------------------

JS_DIR = ROOT / "tests" / "interop" / "js"
NODE = shutil.which("node")


def node_available() -> bool:
    return NODE is not None and (JS_DIR / "node_modules" / "@socket.io" / "redis-adapter").is_dir()


class NodePeer:
    """``node redis_peer.mjs``: a Node socket.io server with @socket.io/redis-adapter, one
    socket.io-client connected to it, and @socket.io/redis-emitter, driven by JSON lines."""

    script = "redis_peer.mjs"  # a subclass may run another peer speaking the same JSON lines

    def __init__(self, redis_url: str, key: str) -> None:
        assert NODE is not None
        self.proc = subprocess.Popen([NODE, str(JS_DIR / self.script), redis_url, key],
                                     cwd=JS_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.replies: dict[int, queue.Queue[Any]] = {}
        self.events: dict[str, queue.Queue[list[Any]]] = {}
        self.stderr: list[str] = []
        self.lock = threading.Lock()
        self._ids = iter(range(1, 1 << 30))
        self._threads = [threading.Thread(target=self._pump, daemon=True),
                         threading.Thread(target=self._pump_err, daemon=True)]
        for thread in self._threads:
            thread.start()
        self.info = self.request("hello")

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            if "event" in message:
                self._events(message["event"]).put(message["args"])
            else:
                self._replies(message["id"]).put(message)

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def _replies(self, ident: int) -> queue.Queue[Any]:
        with self.lock:
            return self.replies.setdefault(ident, queue.Queue())

    def _events(self, name: str) -> queue.Queue[list[Any]]:
        with self.lock:
            return self.events.setdefault(name, queue.Queue())

    def request(self, cmd: str, **args: Any) -> Any:
        ident = next(self._ids)
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"id": ident, "cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        try:
            reply = self._replies(ident).get(timeout=TIMEOUT + 5)
        except queue.Empty:
            raise AssertionError(f"node peer did not answer {cmd}:\n" + "".join(self.stderr)) from None
        assert reply.get("ok"), reply
        return reply.get("result")

    def next(self, event: str) -> list[Any]:
        try:
            return self._events(event).get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"node client got no {event!r} within {TIMEOUT} s:\n"
                                 + "".join(self.stderr)) from None

    def stop(self) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for thread in self._threads:
            thread.join(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return "".join(self.stderr)
