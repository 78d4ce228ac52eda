"""Handing a session's connection to the process that owns it (issue 11), made deterministic.

Two ``python -m wsgi_sio`` processes on two ports share a group (``WSGI_SIO_GROUP``): the
handshake goes to the owner's port, and every later request of the session to the other
one, so each of them has to be handed over (under gunicorn, which worker accepts is chance).
The answers must be the owner's: ``X-Worker-Pid`` (tests/apps/cluster.py) says whose.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import LiveServer
from tests.support.raw_http import address, read_response
from tests.support.wire import TIMEOUT, Wire

APP = "tests.apps.cluster:application"
_groups = itertools.count()


class Pair:
    """An owner and a sibling in one group; sessions are made on the owner."""

    def __init__(self, *extra: str, env: tuple[str, ...] = ()) -> None:
        group = f"t{os.getpid()}n{next(_groups)}"
        command = ["env", f"WSGI_SIO_GROUP={group}", *env, sys.executable, "-m", "wsgi_sio", APP,
                   "--bind", "127.0.0.1:0", *extra]
        self.owner = LiveServer(APP, command=command)
        try:
            self.sibling = LiveServer(APP, command=command)
        except Exception:
            self.owner.stop()
            raise

    def stop(self) -> str:
        return self.owner.stop() + self.sibling.stop()

    def pids(self) -> tuple[int, int]:
        return self.owner.proc.pid, self.sibling.proc.pid


@pytest.fixture(scope="module", params=["pywsgi", "gevent-websocket"])
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    group = Pair("--handler", request.param)
    yield group
    output = group.stop()
    assert "Traceback" not in output, output


def exchange(url: str, raw: bytes, answers: int = 1) -> list[tuple[int, dict[str, str], bytes]]:
    """Write ``raw`` on a fresh connection and read ``answers`` responses."""
    with socket.create_connection(address(url), timeout=TIMEOUT) as sock:
        sock.sendall(raw)
        buf = bytearray()
        return [read_response(sock, buf) for _ in range(answers)]


def head(method: str, target: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost"]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def new_session(pair: Pair) -> str:
    status, headers, body = exchange(pair.owner.url, head("GET", "/socket.io/?EIO=4&transport=polling"))[0]
    assert status == 200 and int(headers["x-worker-pid"]) == pair.owner.proc.pid, (status, body)
    return str(json.loads(body[1:])["sid"])


def target(sid: str) -> str:
    return f"/socket.io/?EIO=4&transport=polling&sid={sid}"


def test_polling_requests_reaching_a_sibling_are_answered_by_the_owner(pair: Pair) -> None:
    sid = new_session(pair)
    owner = str(pair.owner.proc.pid)
    (status, headers, body), = exchange(pair.sibling.url, head("POST", target(sid), b"40"))
    assert (status, body, headers["x-worker-pid"]) == (200, b"ok", owner)
    (status, headers, body), = exchange(pair.sibling.url, head("GET", target(sid)))
    assert status == 200 and body.startswith(b'40{"sid":'), body
    assert headers["x-worker-pid"] == owner
    (status, headers, body), = exchange(pair.sibling.url, head("POST", target(sid), b'421["echo_ack","a"]'))
    assert (status, body) == (200, b"ok")
    (status, headers, body), = exchange(pair.sibling.url, head("GET", target(sid)))
    assert body == b'431[{"args":["a"],"pid":%d}]' % pair.owner.proc.pid, body


def test_pipelined_and_kept_alive_requests_go_on_at_the_owner(pair: Pair) -> None:
    sid = new_session(pair)
    raw = head("POST", target(sid), b"40") + head("GET", target(sid))
    first, second = exchange(pair.sibling.url, raw, answers=2)
    assert first[0] == 200 and first[2] == b"ok", first
    assert second[0] == 200 and second[2].startswith(b'40{"sid":'), second
    assert first[1]["x-worker-pid"] == second[1]["x-worker-pid"] == str(pair.owner.proc.pid)
    # the same connection, kept alive: its next request is the owner's to read
    with socket.create_connection(address(pair.sibling.url), timeout=TIMEOUT) as sock:
        buf = bytearray()
        for n in range(3):
            sock.sendall(head("POST", target(sid), f'42{n}["echo_ack",{n}]'.encode()))
            assert read_response(sock, buf)[2] == b"ok"
            sock.sendall(head("GET", target(sid)))
            body = read_response(sock, buf)[2]
            assert body == b'43%d[{"args":[%d],"pid":%d}]' % (n, n, pair.owner.proc.pid), body


def test_a_body_arriving_after_the_handoff_is_read_by_the_owner(pair: Pair) -> None:
    sid = new_session(pair)
    body = b"40"
    with socket.create_connection(address(pair.sibling.url), timeout=TIMEOUT) as sock:
        # Expect: 100-continue: the body is sent only once somebody asks for it, which only
        # the owner may do (the sibling has handed the connection over unread)
        sock.sendall(head("POST", target(sid), body, Expect="100-continue")[:-len(body)])
        buf = bytearray()
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(4096)
        assert buf.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), bytes(buf)
        del buf[:len(b"HTTP/1.1 100 Continue\r\n\r\n")]
        sock.sendall(body)
        status, headers, answer = read_response(sock, buf)
    assert (status, answer, headers["x-worker-pid"]) == (200, b"ok", str(pair.owner.proc.pid))


def test_a_websocket_upgrade_reaching_a_sibling_is_served_by_the_owner(pair: Pair) -> None:
    sid = new_session(pair)
    assert exchange(pair.sibling.url, head("POST", target(sid), b"40"))[0][2] == b"ok"
    assert exchange(pair.sibling.url, head("GET", target(sid)))[0][2].startswith(b"40")
    ws = Wire(pair.sibling.url)
    try:
        assert ws.upgrade(f"EIO=4&transport=websocket&sid={sid}") == 101, (ws.status, ws.body)
        ws.send_text("2probe")
        assert ws.recv_text() == "3probe"
        # the polling side is paused with a noop; then the upgrade completes
        assert exchange(pair.sibling.url, head("GET", target(sid)))[0][2] == b"6"
        ws.send_text("5")
        ws.send_text('421["echo_ack","over websocket"]')
        reply = ws.recv_text()
        while reply == "2":
            ws.send_text("3")
            reply = ws.recv_text()
        assert reply == f'431[{{"args":["over websocket"],"pid":{pair.owner.proc.pid}}}]'
    finally:
        ws.close()


def test_sids_that_name_no_live_sibling_get_session_id_unknown_at_once(pair: Pair) -> None:
    unknown = [
        "AAAAAAAA.BBBBBBBBBBBBBBBBBBBB",  # well-formed, nobody's tag
        "..%2Ftmp%2Fx.BBBBBBBBBBBBBBBBBBBB",  # a path in the tag's place
        "127.0.0.1:80.BBBBBBBBBBBBBBBBBBBB",  # an address in it
        "x" * 200,
    ]
    for sid in unknown:
        (status, _, body), = exchange(pair.sibling.url, head("GET", target(sid)))
        assert (status, json.loads(body)) == (400, {"code": 1, "message": "Session ID unknown"}), sid
    # a live sibling's tag with a made-up token: the owner says it does not know it
    real = new_session(pair)
    forged = real.partition(".")[0] + ".BBBBBBBBBBBBBBBBBBBB"
    (status, headers, body), = exchange(pair.sibling.url, head("GET", target(forged)))
    assert (status, json.loads(body)["code"]) == (400, 1)
    assert headers["x-worker-pid"] == str(pair.owner.proc.pid)
    # a client's own handoff marker only stops its request being handed on
    (status, headers, body), = exchange(pair.sibling.url, head("GET", target(real), Wsgi_Sio_Handoff="1"))
    assert (status, headers["x-worker-pid"]) == (400, str(pair.sibling.proc.pid))


def test_a_dead_owners_sessions_are_unknown_at_once_and_the_sibling_goes_on() -> None:
    group = Pair()
    try:
        sid = new_session(group)
        group.owner.proc.send_signal(signal.SIGKILL)
        group.owner.proc.wait(timeout=10)
        (status, _, body), = exchange(group.sibling.url, head("GET", target(sid)))
        assert (status, json.loads(body)["code"]) == (400, 1)
        (status, _, body), = exchange(group.sibling.url, head("GET", target(sid)))  # remembered
        assert status == 400
        (status, _, body), = exchange(group.sibling.url, head("GET", "/socket.io/?EIO=4&transport=polling"))
        assert status == 200 and body.startswith(b'0{"sid":')
    finally:
        output = group.sibling.stop()
        group.owner.stop()
    assert "Traceback" not in output, output


def test_the_sender_keeps_no_epoll_registration_of_connections_it_handed_over(pair: Pair) -> None:
    """libev leaves a closed fd in its epoll set; a connection alive in the owner would keep
    sending events for it, each making libev rebuild its set (green/handoff.detach_from_hub)."""
    sid = new_session(pair)
    assert exchange(pair.sibling.url, head("POST", target(sid), b"40"))[0][2] == b"ok"
    held = []
    try:
        for _ in range(50):  # connections that stay open at the owner, idle
            sock = socket.create_connection(address(pair.sibling.url), timeout=TIMEOUT)
            sock.sendall(head("POST", target(sid), b"3"))  # a stray pong: "ok"
            assert read_response(sock)[2] == b"ok"
            held.append(sock)
        sibling = pair.sibling.proc.pid
        fds = Path(f"/proc/{sibling}/fd")
        epolls = [fd.name for fd in fds.iterdir() if "eventpoll" in _link(fd)]
        assert epolls
        open_fds = {int(fd.name) for fd in fds.iterdir()}
        for epoll in epolls:
            watched = {int(m) for m in re.findall(r"tfd:\s+(\d+)", Path(f"/proc/{sibling}/fdinfo/{epoll}").read_text())}
            assert watched <= open_fds, watched - open_fds
    finally:
        for sock in held:
            sock.close()


def _link(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except FileNotFoundError:  # closed since the listing
        return ""


def test_stats_count_handed_off_and_adopted_connections(pair: Pair) -> None:
    sid = new_session(pair)
    assert exchange(pair.sibling.url, head("POST", target(sid), b"40"))[0][2] == b"ok"
    assert exchange(pair.sibling.url, head("GET", target(sid)))[0][2].startswith(b"40")
    # counted as each is taken in: this one is the third of the session's
    assert exchange(pair.sibling.url, head("POST", target(sid), b'429["stats"]'))[0][2] == b"ok"
    body = exchange(pair.sibling.url, head("GET", target(sid)))[0][2]
    assert body.startswith(b"439["), body
    stats = json.loads(body[3:])[0]
    assert stats["pid"] == pair.owner.proc.pid
    assert stats["adopted"] >= 3 and stats["handed_off"] == 0, stats


def test_sids_with_a_host_part_for_the_load_balancer_are_handed_over_too() -> None:
    group = Pair(env=("WSGI_SIO_HOST_ID=web2",))
    try:
        sid = new_session(group)
        assert re.fullmatch(r"web2\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{20}", sid), sid
        (status, headers, body), = exchange(group.sibling.url, head("POST", target(sid), b"40"))
        assert (status, body, headers["x-worker-pid"]) == (200, b"ok", str(group.owner.proc.pid))
        # the same tag under another host's name is not this host's to hand over
        other = "web3." + sid.partition(".")[2]
        (status, _, body), = exchange(group.sibling.url, head("GET", target(other)))
        assert (status, json.loads(body)["code"]) == (400, 1)
    finally:
        output = group.stop()
    assert "Traceback" not in output, output


def test_a_draining_owner_still_gets_its_clients_requests_to_say_goodbye() -> None:
    """SIGTERM: the owner closes its sessions and waits for each polling client to fetch its
    close packet; the client's GET may reach any process of the group, and is handed over."""
    group = Pair()
    try:
        sid = new_session(group)
        assert exchange(group.sibling.url, head("POST", target(sid), b"40"))[0][2] == b"ok"
        assert exchange(group.sibling.url, head("GET", target(sid)))[0][2].startswith(b"40")
        group.owner.proc.send_signal(signal.SIGTERM)
        (status, headers, body), = exchange(group.sibling.url, head("GET", target(sid)))
        assert (status, headers["x-worker-pid"]) == (200, str(group.owner.proc.pid))
        assert body.split(b"\x1e")[-1] == b"1", body  # the close packet
        assert group.owner.proc.wait(timeout=15) == 0
    finally:
        output = group.stop()
    assert "Traceback" not in output, output
