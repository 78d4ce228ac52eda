"""Hostile input to the routing of sessions across workers and hosts (issue 11; §5 and §9.6 of
docs/design/sessions-across-workers.md): the client names a sid, never an address, and neither a
client nor a poisoned registry can make a worker connect where it should not.

Two ``python -m wsgi_sio tests.apps.cluster:application`` processes, A and B, share a Redis
(``REDIS_URL``, one ``WSGI_SIO_REDIS_KEY``) but no group: they are two "hosts", and a request
for A's session that reaches B is relayed to A over TCP. ``X-Worker-Pid`` says who answered.

* forged sids (unknown tags, address- and path-shaped tags, over-long sids, a live tag with a
  made-up token) get ``400 {"code": 1}``, the last one from the owner;
* registry entries written straight into Redis: pointing at a public address, or at a local
  **canary** listener through spellings that are not a private address (0.0.0.0, an
  IPv4-mapped IPv6 address, "127.1", a name), or back into the cluster (a relay loop), or
  malformed: 400 and the canary accepts no connection; an unsigned or wrongly signed entry
  when the servers have an explicit ``WSGI_SIO_RELAY_SECRET``: the same. Positive controls
  show each batch of entries was read: a private, trusted entry does reach the canary;
* a client's own ``Wsgi-Sio-Relay`` header (garbage, old, wrongly signed, replayed for another
  request) is dropped: the request is relayed and answered by the owner as any other;
* a process of another uid squatting a dead worker's abstract name gets no client connection
  (``SO_PEERCRED``), and one that connects to a live worker's name cannot pass it a descriptor.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.live import LiveServer
from tests.support.raw_http import http
from wsgi_sio.protocol.routing import new_tag, new_token, sign_relay

redis = pytest.importorskip("redis", reason="the redis extra is not installed")

APP = "tests.apps.cluster:application"
UNKNOWN = {"code": 1, "message": "Session ID unknown"}
GUARD = 20  # seconds: a hang guard for waits, never a measure of anything
_groups = itertools.count()


class Hosts:
    """A and B: one process each, on one Redis and key, in no group (so they relay)."""

    def __init__(self, redis_url: str, secret: str | None = None) -> None:
        self.key = f"wsgi-sio-hostile-{os.getpid()}-{next(_groups)}"
        self.secret = secret
        env = [f"REDIS_URL={redis_url}", f"WSGI_SIO_REDIS_KEY={self.key}"]
        if secret is not None:
            env.append(f"WSGI_SIO_RELAY_SECRET={secret}")
        command = ["env", "-u", "WSGI_SIO_GROUP", "-u", "WSGI_SIO_RELAY_SECRET", *env,
                   sys.executable, "-m", "wsgi_sio", APP, "--bind", "127.0.0.1:0"]
        self.redis = redis.Redis.from_url(redis_url)
        self.a = LiveServer(APP, command=command)
        try:
            self.b = LiveServer(APP, command=command)
        except Exception:
            self.a.stop()
            raise

    def stop(self) -> str:
        output = self.a.stop() + self.b.stop()
        for name in self.redis.scan_iter(match=self.key + "#*"):
            self.redis.delete(name)
        self.redis.close()
        return output

    def register(self, tag: str, entry: Any) -> None:
        """A registry entry written straight into Redis, as anyone with access could."""
        value = entry if isinstance(entry, (str, bytes)) else json.dumps(entry)
        self.redis.set(f"{self.key}#wsgi_sio#peer#{tag}", value, ex=300)
        self.redis.sadd(f"{self.key}#wsgi_sio#tags", tag)

    def relay_secret(self) -> bytes:
        return self.secret.encode() if self.secret else self.redis.get(f"{self.key}#wsgi_sio#relay-secret")

    def session(self) -> str:
        """A polling session made on A (its Socket.IO connect done), by its sid."""
        status, headers, body = http(self.a.url, "GET", "/socket.io/?EIO=4&transport=polling")
        assert status == 200 and int(headers["x-worker-pid"]) == self.a.proc.pid, (status, body)
        sid = str(json.loads(body[1:])["sid"])
        assert http(self.a.url, "POST", target(sid), b"40")[2] == b"ok"
        return sid


def target(sid: str) -> str:
    return f"/socket.io/?EIO=4&transport=polling&sid={sid}"


def assert_unknown(url: str, sid: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    status, answer_headers, body = http(url, "GET", target(sid), headers=headers)
    assert (status, json.loads(body)) == (400, UNKNOWN), (sid, status, body)
    return answer_headers


class Canary:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts, keeps what each
    sent first, and answers ``418``, so that a relay reaching it is seen by the client too."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.heads: list[bytes] = []
        self.accepted = 0
        self.closed = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                conn.settimeout(GUARD)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    self.heads.append(data)
                    conn.sendall(b"HTTP/1.1 418 Canary\r\nContent-Length: 6\r\nConnection: close"
                                 b"\r\n\r\ncanary")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(timeout=GUARD)


@pytest.fixture(scope="module")
def hosts(redis_url: str) -> Iterator[Hosts]:
    """A and B with the secret kept in Redis (no explicit one), for the whole module."""
    pair = Hosts(redis_url)
    yield pair
    output = pair.stop()
    assert "Traceback" not in output, output


@pytest.fixture
def fresh_hosts(redis_url: str) -> Iterator[Hosts]:
    """A and B whose directories have not been read yet: whatever the test registers before
    the first request reaches B's first snapshot."""
    pair = Hosts(redis_url)
    yield pair
    output = pair.stop()
    assert "Traceback" not in output, output


@pytest.fixture
def canary() -> Iterator[Canary]:
    listener = Canary()
    yield listener
    listener.close()


# -- a. forged sids --------------------------------------------------------------------------


def test_a_session_on_one_host_is_served_through_the_other(hosts: Hosts) -> None:
    sid = hosts.session()
    owner = str(hosts.a.proc.pid)
    status, headers, body = http(hosts.b.url, "GET", target(sid))
    assert status == 200 and body.startswith(b'40{"sid":') and headers["x-worker-pid"] == owner
    status, headers, body = http(hosts.b.url, "POST", target(sid), b'421["echo_ack","via B"]')
    assert (status, body, headers["x-worker-pid"]) == (200, b"ok", owner)
    status, headers, body = http(hosts.b.url, "GET", target(sid))
    assert body == b'431[{"args":["via B"],"pid":%s}]' % owner.encode(), body


def test_a_process_that_joins_after_the_directory_was_read_is_found(fresh_hosts: Hosts) -> None:
    """B reads its snapshot of the directory (a request for a tag nobody has), then A makes its
    first session and registers: B finds A at once (it reads a missing tag on its own), not
    after its next full refresh."""
    assert_unknown(fresh_hosts.b.url, f"{new_tag()}.{new_token()}")
    sid = fresh_hosts.session()
    status, headers, body = http(fresh_hosts.b.url, "GET", target(sid))
    assert (status, headers["x-worker-pid"]) == (200, str(fresh_hosts.a.proc.pid)), body
    assert body.startswith(b'40{"sid":'), body


@pytest.mark.parametrize("sid", [
    f"{new_tag()}.{new_token()}",  # well-formed, in no directory
    f"web1.{new_tag()}.{new_token()}",  # the same with a host part
    "10.0.0.1:80.BBBBBBBBBBBBBBBBBBBB",  # an address where the tag goes
    "[::1]:8000.BBBBBBBBBBBBBBBBBBBB",
    "8.8.8.8.AAAAAAAA.BBBBBBBBBBBBBBBBBBBB",  # an address where the host goes
    "evil%2Ecom%3A80.AAAAAAAA.BBBBBBBBBBBBBBBBBBBB",
    "http%3A%2F%2F127.0.0.1%3A1%2F.BBBBBBBBBBBBBBBBBBBB",  # a URL
    "%2Fproc%2Fself.BBBBBBBBBBBBBBBBBBBB",  # a path
    "%00wsgi_sio.BBBBBBBBBBBBBBBBBBBB",  # an abstract socket name
    "abcdefghijklm.AAAAAAAA.BBBBBBBBBBBBBBBBBBBB",  # a host one too long
    "AAAAAAAA." + "B" * 4000,  # over-long
])
def test_forged_sids_are_unknown_on_a_relaying_host(hosts: Hosts, sid: str) -> None:
    assert int(assert_unknown(hosts.b.url, sid)["x-worker-pid"]) == hosts.b.proc.pid


def test_a_live_hosts_tag_with_a_made_up_token_is_refused_by_its_owner(hosts: Hosts) -> None:
    tag = hosts.session().partition(".")[0]
    for sid in (f"{tag}.{new_token()}", f"web1.{tag}.{new_token()}"):
        assert int(assert_unknown(hosts.b.url, sid)["x-worker-pid"]) == hosts.a.proc.pid


# -- b. a poisoned registry ------------------------------------------------------------------


def test_entries_outside_the_private_networks_or_malformed_are_never_relayed_to(
        fresh_hosts: Hosts, canary: Canary) -> None:
    hosts = fresh_hosts
    port = canary.port
    b_port = int(hosts.b.url.rpartition(":")[2])
    a_port = int(hosts.a.url.rpartition(":")[2])
    hostile = {
        "public": {"a": ["8.8.8.8", 80], "l": "elsewhere"},
        "documentation net": {"a": ["192.0.2.1", port], "l": "elsewhere"},
        # spellings that reach the canary if connected to, but are not a private address
        "0.0.0.0": {"a": ["0.0.0.0", port], "l": "elsewhere"},
        "mapped": {"a": ["::ffff:127.0.0.1", port], "l": "elsewhere"},
        "short form": {"a": ["127.1", port], "l": "elsewhere"},
        "decimal": {"a": ["2130706433", port], "l": "elsewhere"},
        "name": {"a": ["localhost", port], "l": "elsewhere"},
        # back into the cluster: a relayed request is never relayed again
        "loop to B": {"a": ["127.0.0.1", b_port], "l": "elsewhere"},
        "loop to A": {"a": ["127.0.0.1", a_port], "l": "elsewhere"},
        # malformed
        "not json": "{not json",
        "address as text": {"a": f"127.0.0.1:{port}", "l": "elsewhere"},
        "no locality": {"a": ["127.0.0.1", port]},
        "nulls": {"a": [None, None], "l": None},
        "port as text": {"a": ["127.0.0.1", "x"], "l": "elsewhere"},
        "negative port": {"a": ["127.0.0.1", -1], "l": "elsewhere"},
        "list": [1, 2, 3],
    }
    tags = {name: new_tag() for name in hostile}
    for name, entry in hostile.items():
        hosts.register(tags[name], entry)
    control = new_tag()
    hosts.register(control, {"a": ["127.0.0.1", port], "l": "elsewhere"})

    for name, tag in tags.items():
        status, headers, body = http(hosts.b.url, "GET", target(f"{tag}.{new_token()}"))
        assert (status, json.loads(body)) == (400, UNKNOWN), (name, status, body)
        if name == "loop to A":
            assert int(headers["x-worker-pid"]) == hosts.a.proc.pid  # relayed once, then refused
    assert canary.accepted == 0, canary.heads

    # the control, registered with the others and read in the same snapshot: a private address
    # in an unsigned entry is trusted when no explicit secret is set (Redis access = membership)
    sid = f"{control}.{new_token()}"
    status, _, body = http(hosts.b.url, "GET", target(sid))
    assert (status, body) == (418, b"canary")
    assert canary.accepted == 1
    head = canary.heads[0].decode("latin-1")
    assert head.startswith(f"GET {target(sid)} HTTP/1.1\r\n")
    assert "\r\nWsgi-Sio-Relay: 1 " in head and "\r\nConnection: close\r\n" in head


def test_with_an_explicit_secret_only_signed_entries_are_followed(redis_url: str,
                                                                  canary: Canary) -> None:
    secret = "a-secret-for-the-test-" + new_token()
    hosts = Hosts(redis_url, secret=secret)
    try:
        def signed(tag: str, address: tuple[str, int], locality: str, key: str = secret) -> dict[str, Any]:
            text = f"{tag}|{address[0]}|{address[1]}|{locality}".encode()
            return {"a": list(address), "l": locality,
                    "m": hmac.new(key.encode(), text, hashlib.sha256).hexdigest()}

        here = ("127.0.0.1", canary.port)
        unsigned, wrong, other_key, moved, good = (new_tag() for _ in range(5))
        hosts.register(unsigned, {"a": list(here), "l": "elsewhere"})
        hosts.register(wrong, {"a": list(here), "l": "elsewhere", "m": "0" * 64})
        hosts.register(other_key, signed(other_key, here, "elsewhere", key="not-the-secret"))
        # a valid MAC for the entry as it was signed: pointing it elsewhere breaks it
        hosts.register(moved, {**signed(moved, ("127.0.0.1", 9), "elsewhere"), "a": list(here)})
        # the control: signed with the secret, to the same canary
        hosts.register(good, signed(good, here, "elsewhere"))
        sid = hosts.session()  # A registers (signed) after all of them: B's first read has all

        for tag in (unsigned, wrong, other_key, moved):
            assert int(assert_unknown(hosts.b.url, f"{tag}.{new_token()}")["x-worker-pid"]) \
                == hosts.b.proc.pid
        assert canary.accepted == 0, canary.heads

        # from the same snapshot: A's entry, and the relay works
        status, headers, body = http(hosts.b.url, "GET", target(sid))
        assert status == 200 and body.startswith(b'40{"sid":'), (status, body)
        assert int(headers["x-worker-pid"]) == hosts.a.proc.pid
        # and the entry signed with the secret is followed, to the canary
        status, _, body = http(hosts.b.url, "GET", target(f"{good}.{new_token()}"))
        assert (status, body, canary.accepted) == (418, b"canary", 1)
    finally:
        output = hosts.stop()
    assert "Traceback" not in output, output


# -- c. a client's own relay header --------------------------------------------------------


def test_a_clients_relay_header_is_dropped_and_the_request_relayed_as_any(hosts: Hosts) -> None:
    sid = hosts.session()
    owner = str(hosts.a.proc.pid)
    secret = hosts.relay_secret()
    now = int(time.time())
    mac = "0" * 64
    forged = [
        "garbage",
        "1 2 3 4 5",
        f"1 {now} 0123456789abcdef 127.0.0.1 {mac}",  # a wrong MAC
        f"1 {now - 3600} 0123456789abcdef 127.0.0.1 {mac}",  # an old one
        f"2 {now} 0123456789abcdef - {mac}",  # another version
        f"1 {now} {'n' * 100} - {mac}",  # an over-long nonce
        f"1 {now} n 10.0.0.1|x {mac}",  # not an address
        f"1 \u00b2 0123456789abcdef - {mac}",  # '²' (0xB2): a digit to str.isdigit() only
        f"1 {'9' * 400} 0123456789abcdef - {mac}",  # too large for a float
        f"1 {'9' * 5000} 0123456789abcdef - {mac}",  # too many digits for int()
        # signed with the cluster's secret, but for another request: a captured header
        sign_relay(secret, now, "GET", target(sid), "127.0.0.1"),
        sign_relay(secret, now, "POST", "/socket.io/?EIO=4&transport=polling&sid=other", "10.9.9.9"),
        # signed for this request, outside the window
        sign_relay(secret, now - 3600, "POST", "/socket.io/?EIO=4&transport=polling&sid=" + sid, "-"),
    ]
    for value in forged:
        for url in (hosts.b.url, hosts.a.url):  # relayed to the owner, or the owner's own
            status, headers, body = http(url, "POST", target(sid), b"3",
                                         headers={"Wsgi-Sio-Relay": value})
            assert (status, body, headers.get("x-worker-pid")) == (200, b"ok", owner), (value[:80], url, status, body)

    # the control: the same header, validly signed for this very request, is taken at its
    # word (a holder of the secret is a member): B will not relay it a second time
    valid = sign_relay(secret, time.time(), "POST", target(sid), "127.0.0.1")
    status, headers, body = http(hosts.b.url, "POST", target(sid), b"3",
                                 headers={"Wsgi-Sio-Relay": valid})
    assert (status, json.loads(body), int(headers["x-worker-pid"])) == (400, UNKNOWN, hosts.b.proc.pid)


# -- d. another uid in the abstract namespace --------------------------------------------------

SQUATTER = textwrap.dedent("""
    import json, socket, sys
    name = bytes.fromhex(sys.argv[1]).decode()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(name)
    listener.listen(16)
    print("bound", flush=True)
    sys.stdin.readline()  # the test has made its request and had its answer
    listener.setblocking(False)
    accepted, fds, data = 0, 0, 0
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            break
        accepted += 1
        conn.settimeout(10)
        while True:
            msg, got, flags, _ = socket.recv_fds(conn, 1 << 18, 4)
            fds += len(got)
            data += len(msg)
            if not msg and not got:
                break
    print(json.dumps({"accepted": accepted, "fds": fds, "bytes": data}), flush=True)
""")

INTRUDER = textwrap.dedent("""
    import json, socket, sys
    name = bytes.fromhex(sys.argv[1]).decode()
    link = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    link.settimeout(10)
    link.connect(name)
    bait = socket.socket()
    sent = True
    try:
        socket.send_fds(link, [b"WSH1" + b"{}"], [bait.fileno()])
    except OSError:
        sent = False
    try:
        closed = link.recv(16) == b""
    except OSError:
        closed = True
    print(json.dumps({"sent": sent, "closed": closed}), flush=True)
""")


NOBODY = {"user": 65534, "group": 65534, "extra_groups": [], "cwd": "/"}


@functools.cache
def foreign_python() -> str | None:
    """A Python 3.9+ (``socket.send_fds``) that uid 65534 may run: the venv's may sit in a home
    it cannot enter. Only the standard library is needed."""
    for candidate in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if not candidate:
            continue
        try:
            done = subprocess.run([candidate, "-c", "import socket; socket.send_fds"], **NOBODY,  # type: ignore[call-overload]
                                  capture_output=True, check=False, timeout=GUARD)
        except OSError:  # not executable by that uid
            continue
        if done.returncode == 0:
            return candidate
    return None


def as_nobody(code: str, *args: str) -> subprocess.Popen[str]:
    python = foreign_python()
    assert python is not None
    return subprocess.Popen([python, "-c", code, *args], **NOBODY,  # type: ignore[call-overload]
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def abstract_name(group: str, tag: str) -> str:
    return f"\0wsgi_sio/{os.geteuid()}/g-{group}/{tag}".encode().hex()


class Group:
    """Two processes of one group (``WSGI_SIO_GROUP``): sessions are made on the owner."""

    def __init__(self) -> None:
        self.name = f"h{os.getpid()}n{next(_groups)}"
        command = ["env", "-u", "REDIS_URL", f"WSGI_SIO_GROUP={self.name}", sys.executable, "-m",
                   "wsgi_sio", APP, "--bind", "127.0.0.1:0"]
        self.owner = LiveServer(APP, command=command)
        try:
            self.sibling = LiveServer(APP, command=command)
        except Exception:
            self.owner.stop()
            raise

    def session(self, server: LiveServer) -> str:
        status, _, body = http(server.url, "GET", "/socket.io/?EIO=4&transport=polling")
        assert status == 200, body
        return str(json.loads(body[1:])["sid"])

    def stop(self) -> str:
        return self.owner.stop() + self.sibling.stop()


@pytest.fixture
def root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root, to run a process of another uid")
    if foreign_python() is None:
        pytest.skip("no Python that uid 65534 may run")


def finish(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate("done\n", timeout=GUARD)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_a_dead_workers_name_squatted_by_another_uid_gets_no_connection(root: None) -> None:
    group = Group()
    squatter = None
    try:
        sid = group.session(group.owner)
        tag = sid.partition(".")[0]
        group.owner.proc.send_signal(signal.SIGKILL)
        group.owner.proc.wait(timeout=GUARD)
        squatter = as_nobody(SQUATTER, abstract_name(group.name, tag))
        assert squatter.stdout is not None
        ready, _, _ = select.select([squatter.stdout], [], [], GUARD)
        assert ready and squatter.stdout.readline().strip() == "bound", squatter.stderr

        status, _, body = http(group.sibling.url, "GET", target(sid))
        assert (status, json.loads(body)) == (400, UNKNOWN)
        report = finish(squatter)
        # the sibling did connect (so the name was the right one), found a stranger, and left
        assert report == {"accepted": 1, "fds": 0, "bytes": 0}, report
        # a live sibling's sessions still work
        status, _, body = http(group.sibling.url, "GET", "/socket.io/?EIO=4&transport=polling")
        assert status == 200 and body.startswith(b'0{"sid":')
    finally:
        if squatter is not None and squatter.poll() is None:
            squatter.kill()
            squatter.communicate()
        output = group.stop()
    assert "Traceback" not in output, output
    assert "held by another user's process" in output


def test_another_uid_cannot_pass_a_worker_a_connection(root: None) -> None:
    group = Group()
    try:
        tag = group.session(group.sibling).partition(".")[0]  # the sibling listens from now on
        intruder = as_nobody(INTRUDER, abstract_name(group.name, tag))
        out, err = intruder.communicate(timeout=GUARD)
        assert intruder.returncode == 0, err
        assert json.loads(out)["closed"] is True, out
        stats = json.loads(_stats(group.sibling.url))
        assert stats["dropped"] >= 1 and stats["adopted"] == 0, stats
    finally:
        output = group.stop()
    assert "Traceback" not in output, output
    assert "refused a link from another user's process" in output


def _stats(url: str) -> str:
    """The engine's stats, asked over a polling session of the server at ``url``."""
    body = http(url, "GET", "/socket.io/?EIO=4&transport=polling")[2]
    sid = json.loads(body[1:])["sid"]
    assert http(url, "POST", target(sid), b"40")[2] == b"ok"
    assert http(url, "GET", target(sid))[2].startswith(b"40")
    assert http(url, "POST", target(sid), b'421["stats"]')[2] == b"ok"
    body = http(url, "GET", target(sid))[2]
    assert body.startswith(b"431["), body
    return json.dumps(json.loads(body[3:])[0])

