"""The cluster's directory of processes, kept in the Redis the manager already uses.

Each process that has made a session registers its tag (the part of its sids that names it),
the address its server listens on and its locality (host and group), under a key that expires
unless renewed, so a dead process drops out by itself without any clock agreement. A worker
that gets a request for another host's session looks the tag up here and relays the request
there (:mod:`wsgi_sio.engine.routing`).

Lookups read a local snapshot, refreshed every ``REFRESH`` seconds. A tag the snapshot lacks
(a process that made its first session since) is read on its own, one GET, within a budget of
``MISS_BUDGET`` a second: a flood of forged sids costs Redis that much at most. While Redis is
down the snapshot stays.

The relays are signed with a secret shared by the cluster: ``relay_secret`` if given (then a
registry entry must carry its MAC too), otherwise one made once in Redis (``SET NX``): having
Redis access already means being part of the cluster, as it does for emits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from typing import Any

import redis

from ..engine.routing import Peer
from ..protocol.routing import valid_tag

log = logging.getLogger("wsgi_sio")

#: seconds a registration lives unless renewed; renewed every TTL / 3
TTL = 30
#: a snapshot of the directory is at most this old (seconds)
REFRESH = 10.0
#: tags missing from the snapshot read from Redis one by one, at most this many a second
MISS_BUDGET = 50
#: most entries read into a snapshot
MAX_PEERS = 10_000


class RedisPeerDirectory:
    """A :class:`wsgi_sio.engine.routing.PeerDirectory` in Redis (see the module)."""

    def __init__(self, client: redis.Redis, key: str, runtime: Any, *,
                 secret: bytes | None = None) -> None:
        self.client = client
        self.prefix = f"{key}#wsgi_sio#"
        self.runtime = runtime
        self._explicit_secret = secret
        self._secret = secret
        self._snapshot: dict[str, Peer] = {}
        self._read_at = float("-inf")
        self._misses = 0  # tags read one by one in the current second
        self._miss_second = 0
        self._mine: tuple[str, str] | None = None  # (tag, entry), renewed while we live
        self._closed = False

    # -- the secret ----------------------------------------------------------------------------

    def relay_secret(self) -> bytes | None:
        if self._secret is None:
            try:
                key = self.prefix + "relay-secret"
                self.client.set(key, secrets.token_hex(32), nx=True)
                value = self.client.get(key)
            except redis.RedisError as exc:
                log.warning("wsgi_sio: no relay secret from Redis (%s): requests for other "
                            "hosts' sessions get 'Session ID unknown' until it answers", exc)
                return None
            if value:
                self._secret = value if isinstance(value, bytes) else str(value).encode()
        return self._secret

    # -- registering ---------------------------------------------------------------------------

    def announce(self, tag: str, peer: Peer) -> None:
        entry = {"a": [peer.address[0], peer.address[1]], "l": peer.locality}
        if self._explicit_secret is not None:
            entry["m"] = self._entry_mac(tag, peer)
        self._mine = (tag, json.dumps(entry, separators=(",", ":")))
        self._renew()
        self.runtime.spawn(self._keep)

    def _renew(self) -> None:
        if self._mine is None:
            return
        tag, entry = self._mine
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.set(self.prefix + "peer#" + tag, entry, ex=TTL)
                pipe.sadd(self.prefix + "tags", tag)
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("wsgi_sio: could not register this worker in Redis: %s", exc)

    def _keep(self) -> None:
        while not self._closed:
            self.runtime.sleep(TTL / 3)
            self._renew()

    def close(self) -> None:
        self._closed = True
        if self._mine is not None:
            try:
                self.client.delete(self.prefix + "peer#" + self._mine[0])
                self.client.srem(self.prefix + "tags", self._mine[0])
            except redis.RedisError:
                pass

    # -- looking up ------------------------------------------------------------------------------

    def lookup(self, tag: str) -> Peer | None:
        now = time.monotonic()
        if now - self._read_at > REFRESH:
            self._read(now)
        peer = self._snapshot.get(tag)
        if peer is None and self._may_miss(now):
            peer = self._read_one(tag)
        return peer

    def _may_miss(self, now: float) -> bool:
        second = int(now)
        if second != self._miss_second:
            self._miss_second, self._misses = second, 0
        self._misses += 1
        return self._misses <= MISS_BUDGET

    def _read_one(self, tag: str) -> Peer | None:
        try:
            value: Any = self.client.get(self.prefix + "peer#" + tag)
        except redis.RedisError as exc:
            log.debug("wsgi_sio: directory entry %s not read: %s", tag, exc)
            return None
        peer = self._parse(tag, value) if value is not None else None
        if peer is not None:
            self._snapshot = {**self._snapshot, tag: peer}
        return peer

    def _read(self, now: float) -> None:
        self._read_at = now
        try:
            members: Any = self.client.srandmember(self.prefix + "tags", MAX_PEERS) or ()
            tags = [t.decode("latin-1") for t in members if valid_tag(t.decode("latin-1"))]
            values: Any = self.client.mget([self.prefix + "peer#" + t for t in tags]) if tags else []
        except redis.RedisError as exc:
            log.debug("wsgi_sio: directory not refreshed: %s", exc)
            return
        snapshot: dict[str, Peer] = {}
        expired = []
        for tag, value in zip(tags, values):
            if value is None:
                expired.append(tag)
                continue
            peer = self._parse(tag, value)
            if peer is not None:
                snapshot[tag] = peer
        self._snapshot = snapshot
        if expired:
            try:
                self.client.srem(self.prefix + "tags", *expired)
            except redis.RedisError:
                pass

    def _parse(self, tag: str, value: bytes) -> Peer | None:
        try:
            entry = json.loads(value)
            host, port = entry["a"]
            peer = Peer((str(host), int(port)), str(entry["l"]))
        except (ValueError, KeyError, TypeError):
            return None
        if not 0 < peer.address[1] < 65536:
            return None  # gevent would take 65536 + p for p
        if self._explicit_secret is not None and not hmac.compare_digest(
                str(entry.get("m", "")), self._entry_mac(tag, peer)):
            return None  # not written by a holder of the secret
        return peer

    def _entry_mac(self, tag: str, peer: Peer) -> str:
        assert self._explicit_secret is not None
        text = f"{tag}|{peer.address[0]}|{peer.address[1]}|{peer.locality}".encode()
        return hmac.new(self._explicit_secret, text, hashlib.sha256).hexdigest()


class Relaying:
    """A Redis manager's part in sessions across hosts: its options, and the directory it
    installs on the server's engine (``RedisManager`` and ``RedisStreamsManager`` alike).

    ``advertise``: the ``host[:port]`` other hosts reach this process at, when its server
    listens on 0.0.0.0 (or ``WSGI_SIO_ADVERTISE``); ``relay_secret``: the key relays are signed
    with (or ``WSGI_SIO_RELAY_SECRET``; by default one kept in Redis); ``enabled=False``: none.
    """

    def __init__(self, enabled: bool, advertise: str | None, relay_secret: str | bytes | None) -> None:
        self.enabled = enabled
        self.advertise = advertise or os.environ.get("WSGI_SIO_ADVERTISE") or None
        secret = relay_secret or os.environ.get("WSGI_SIO_RELAY_SECRET") or None
        self.secret = secret.encode() if isinstance(secret, str) else secret
        #: the cluster's directory of processes, once attached
        self.directory: RedisPeerDirectory | None = None

    def attach(self, client: redis.Redis, key: str, server: Any) -> None:
        if not self.enabled:
            return
        self.directory = RedisPeerDirectory(client, key, server.runtime, secret=self.secret)
        router = server.engine.router
        router.directory = self.directory
        router.advertise = self.advertise

    def close(self) -> None:
        if self.directory is not None:
            self.directory.close()
