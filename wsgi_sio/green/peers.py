"""The workers of one host that pass each other their sessions' connections: the group.

gunicorn's workers (and the children of ``python -m wsgi_sio --workers N``) accept on one
shared socket, so any request of a session may land on any of them. The one that lands a
request for a session it does not hold passes the client's connection to the owner, named by
the sid (:mod:`wsgi_sio.protocol.routing`), over a Unix socket (:mod:`.handoff` says what is
sent). This module finds the owner and carries the message:

* **The group**, found without configuration: the pid of the gunicorn master, or of our own
  pre-fork master, or ``WSGI_SIO_GROUP`` for processes a supervisor starts on ports of their
  own. A process in no group passes nothing on.
* **Names** in Linux's abstract socket namespace, ``\\0wsgi_sio/<euid>/<group>/<tag>``: no files
  to clean up after a SIGKILL (a name goes with its socket), so a dead owner's name refuses at
  once and its sids get "Session ID unknown" rather than a wait.
* **Trust.** Any local user may bind an abstract name, a dead worker's included, so both ends
  check the other's uid (``SO_PEERCRED``): a client connection (cookies and all) goes only to
  a process of our own user. The client picks only the tag, validated and put under our prefix.
* **Links**: one SOCK_SEQPACKET connection per peer, made at first use and kept; a message is
  one datagram, so a message and its descriptor arrive whole or not at all.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import socket
import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import gevent
import gevent.lock
import gevent.socket

from .. import runtime as runtime_mod

log = logging.getLogger("wsgi_sio")

#: the pid of the ``python -m wsgi_sio --workers N`` master this process was forked from
_prefork_master: int | None = None

#: a message: magic, then the payload (see :mod:`.handoff`); the largest one sent or taken
MAGIC = b"WSH1"
MAX_MESSAGE = 128 * 1024
#: how long a sender waits for a peer to take a connection before answering 503
SEND_DEADLINE = 1.0
#: tags of owners found dead, remembered so that their sids are refused without a connect
GONE_CACHE = 4096

_UCRED = struct.Struct("3i")  # pid, uid, gid


def set_prefork_master(pid: int | None) -> None:
    """Called in each child of ``python -m wsgi_sio --workers N`` right after the fork: the
    children of one master form a group and hand sessions' connections to each other."""
    global _prefork_master
    _prefork_master = pid


def group_key(environ: dict[str, Any]) -> str | None:
    """Which processes may pass connections to this one, or None (a process on its own).

    A gunicorn worker is recognised by its ``SERVER_SOFTWARE``; its group is its master, whose
    pid gunicorn's workers watch too. A plain ``python -m wsgi_sio`` may have pid 1 or systemd
    as its parent, which unrelated servers share: no group unless ``WSGI_SIO_GROUP`` says so.
    """
    named = os.environ.get("WSGI_SIO_GROUP")
    if named:
        if not (len(named) <= 32 and all(c.isalnum() or c in "_-" for c in named)):
            raise ValueError(f"WSGI_SIO_GROUP is 1 to 32 letters, digits, '_' or '-': {named!r}")
        return "g-" + named
    if _prefork_master is not None:
        return f"m{_prefork_master}"
    if "gunicorn/" in str(environ.get("SERVER_SOFTWARE", "")):
        return f"m{os.getppid()}"
    return None


@functools.cache
def _node() -> str:
    """This host, as far as passing descriptors goes: the boot and the network namespace (an
    abstract socket name is visible only inside its network namespace)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
        netns = os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return socket.gethostname()
    return f"{boot}:{netns}"


def locality(environ: dict[str, Any]) -> str:
    """The processes this one can hand connections to share this string (see the engine's
    ``Router``): the same host and group. A process in no group shares it with none."""
    key = group_key(environ)
    return f"{_node()}/{key}" if key is not None else f"solo/{runtime_mod.worker_tag()}"


def address(group: str, tag: str) -> str:
    return f"\0wsgi_sio/{os.geteuid()}/{group}/{tag}"


def same_user(sock: socket.socket) -> bool:
    """Whether the process at the other end of a Unix socket runs as our user."""
    try:
        _, uid, _ = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    except OSError:
        return False
    return uid == os.geteuid()


class Counts:
    """What the group did in this process, for ``EngineServer.stats()``."""

    def __init__(self) -> None:
        self.handed_off = 0
        self.adopted = 0
        self.handoff_gone = 0
        self.handoff_busy = 0
        self.relayed = 0
        self.dropped = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


counts = Counts()


class Gone(Exception):
    """The peer's process has exited (or is not of our user): its sessions are gone."""


class Busy(Exception):
    """The peer did not take the message in time."""


class Link:
    """This process's connection to one peer, on which messages go one at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sock: Any = None
        self.lock = gevent.lock.Semaphore()

    def send(self, message: bytes, fd: int, deadline: float) -> None:
        """Send ``message`` with the descriptor ``fd``, by ``deadline`` (the loop's clock).

        Raises :class:`Gone` when nobody listens on the name any more (also after a broken
        link could not be made again) and :class:`Busy` when the deadline passed.
        """
        with self.lock:
            for attempt in (1, 2):
                if self.sock is None:
                    self.sock = self._connect(deadline)
                try:
                    self._send(message, fd, deadline)
                    return
                except (BrokenPipeError, ConnectionResetError, ConnectionRefusedError):
                    self.close()  # the peer restarted its end, or died: once more, then gone
                    if attempt == 2:
                        raise Gone(self.name) from None

    def _connect(self, deadline: float) -> Any:
        sock = gevent.socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.settimeout(max(deadline - _now(), 0.001))
        try:
            sock.connect(self.name)
        except (ConnectionRefusedError, FileNotFoundError):
            sock.close()
            raise Gone(self.name) from None
        except (TimeoutError, BlockingIOError):
            sock.close()
            raise Busy(self.name) from None
        except OSError:
            sock.close()
            raise
        if not same_user(sock):
            sock.close()
            log.warning("wsgi_sio: %r is held by another user's process: not handing it connections",
                        self.name[1:])
            raise Gone(self.name)
        sock.settimeout(None)
        return sock

    def _send(self, message: bytes, fd: int, deadline: float) -> None:
        flags = socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))]
        while True:
            try:
                self.sock.sendmsg([message], ancillary, flags)
                return
            except BlockingIOError:
                left = deadline - _now()
                if left <= 0:
                    raise Busy(self.name) from None
                gevent.socket.wait_write(self.sock.fileno(), timeout=left, timeout_exc=Busy(self.name))

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _now() -> float:
    return float(gevent.get_hub().loop.now())


class Group:
    """This process's place in its group: its own listening name, and links to its peers."""

    def __init__(self, key: str, tag: str) -> None:
        self.key = key
        self.tag = tag
        self.links: dict[str, Link] = {}
        self.gone: OrderedDict[str, None] = OrderedDict()
        self.listener: Any = None

    # -- sending ---------------------------------------------------------------------------

    def send(self, tag: str, message: bytes, fd: int) -> runtime_mod.Handoff:
        if tag in self.gone:
            counts.handoff_gone += 1
            return runtime_mod.Handoff.OWNER_GONE
        link = self.links.get(tag)
        if link is None:
            link = self.links[tag] = Link(address(self.key, tag))
        try:
            link.send(message, fd, _now() + SEND_DEADLINE)
        except Gone:
            link.close()
            self.links.pop(tag, None)
            self.gone[tag] = None
            if len(self.gone) > GONE_CACHE:
                self.gone.popitem(last=False)
            counts.handoff_gone += 1
            return runtime_mod.Handoff.OWNER_GONE
        except Busy:
            counts.handoff_busy += 1
            return runtime_mod.Handoff.OWNER_BUSY
        except OSError as exc:
            link.close()
            log.warning("wsgi_sio: handing a connection to %s failed: %s", tag, exc)
            counts.handoff_busy += 1
            return runtime_mod.Handoff.OWNER_BUSY
        counts.handed_off += 1
        return runtime_mod.Handoff.DONE

    # -- receiving -------------------------------------------------------------------------

    def listen(self, take: Callable[[bytes, int], None]) -> bool:
        """Bind this process's name and serve links from peers: ``take(payload, fd)`` gets each
        message, and owns ``fd`` from then on. False when the name could not be bound."""
        sock = gevent.socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            sock.bind(address(self.key, self.tag))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            log.warning("wsgi_sio: workers cannot hand this one connections (%s): its sessions "
                        "work only for requests that reach it", exc)
            return False
        self.listener = sock
        gevent.spawn_raw(self._accept, sock, take)
        return True

    def _accept(self, listener: Any, take: Callable[[bytes, int], None]) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError as exc:
                if exc.errno in (errno.EBADF, errno.EINVAL):
                    return  # closed
                log.warning("wsgi_sio: accepting a worker's link failed: %s", exc)
                gevent.sleep(0.1)
                continue
            if not same_user(conn):
                conn.close()
                counts.dropped += 1
                log.warning("wsgi_sio: refused a link from another user's process")
                continue
            gevent.spawn_raw(self._read, conn, take)

    def _read(self, conn: Any, take: Callable[[bytes, int], None]) -> None:
        size = MAX_MESSAGE + len(MAGIC)
        try:
            while True:
                try:
                    data, fds, flags, _ = socket.recv_fds(conn, size, 1, socket.MSG_CMSG_CLOEXEC)
                except OSError:
                    return
                if not data and not fds:
                    return  # the peer closed its link
                if len(fds) != 1 or flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) \
                        or not data.startswith(MAGIC):
                    for fd in fds:
                        os.close(fd)
                    counts.dropped += 1
                    log.warning("wsgi_sio: dropped a malformed message from a worker")
                    continue
                take(data[len(MAGIC):], fds[0])
        finally:
            conn.close()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        for link in self.links.values():
            link.close()
        self.links.clear()


_group: Group | None = None
_joined_key: str | None = None


def group_for(environ: dict[str, Any]) -> Group | None:
    """This process's group (made at first use), or None when it belongs to none."""
    global _group, _joined_key
    key = group_key(environ)
    if key is None:
        return None
    if _group is None or _joined_key != key or _group.tag != runtime_mod.worker_tag():
        if _group is not None:
            _group.close()
        _group = Group(key, runtime_mod.worker_tag())
        _joined_key = key
    return _group


def _after_fork() -> None:
    global _group, _joined_key
    _group = None  # a child inherits its parent's listener and links: none of them are its own
    _joined_key = None


os.register_at_fork(after_in_child=_after_fork)
