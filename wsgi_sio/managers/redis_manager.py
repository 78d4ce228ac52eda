"""Rooms and broadcasts across processes and hosts, through Redis pub/sub.

``RedisManager`` has an in-process manager (``local``, for the sockets of this process) and a
Redis link: every operation is applied to the local sockets at once, and published for the
other processes, which apply it to theirs. It wraps the local manager rather than inheriting
from it, so what arrives from Redis is applied with ``self.local`` and never published again. The messages are those of Node's ``@socket.io/redis-adapter`` 8.x (see :mod:`.wire`),
so wsgi_sio processes, Node socket.io servers with that adapter, and ``@socket.io/redis-emitter``
(or :class:`wsgi_sio.Emitter`) all share rooms and broadcasts.

One listener (a greenlet under gevent, a thread otherwise: ``server.runtime.spawn``) reads one
pub/sub connection: a pattern subscription to the broadcasts of every namespace, and the
request and response channels of each namespace in use. Subscribing to the request channel is
what makes Node peers count us (``PUBSUB NUMSUB``), so every request type a peer may send is
answered.

Hostile input: every message is checked field by field by :mod:`.wire` before anything is
delivered, applied or answered; a bad one is dropped, counted by reason (``malformed``,
``oversized``, ``unknown_type``) and logged without a traceback, rate-limited (:class:`.remote.DropLog`):
a flood of them costs a line every ``drop_log_interval`` seconds, not one per message.

Faults: when Redis goes away, local clients are served as before; publishing is skipped
(counted, nothing queued) and the listener reconnects with exponential backoff. The outage is
logged once when it starts and once when it ends. What other processes publish while we are
disconnected is lost: Redis pub/sub keeps nothing for absent subscribers.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..protocol.errors import LocalProtocolError
from ..protocol.socketio import Packet, PacketType
from ..socketio.server import Server
from . import wire
from .in_process import InProcessManager, as_set
from .peers import Relaying
from .recovery import RecoveryOptions, Restored, SessionRecord
from .remote import DropLog, LocalMembership, RemoteSocket, clip, quietly, safe_url

log = logging.getLogger("wsgi_sio.redis")

_TICK = 1.0  # seconds the listener waits for a message before looking at its to-do list


class _Pending:
    """A request of ours waiting for ``expected`` answers; ``check`` turns a response into the
    answer (raising :class:`wire.WireError` for a malformed one, which then does not count)."""

    def __init__(self, expected: int, done: Any, check: Callable[[wire.Response], Any]) -> None:
        self.expected = expected
        self.answers: list[Any] = []
        self.done = done
        self.check = check

    def add(self, response: wire.Response) -> None:
        self.answers.append(self.check(response))
        if len(self.answers) >= self.expected:
            self.done.set()


class _Link:
    """Whether Redis answers; logs each outage once, when it starts and when it ends."""

    def __init__(self, url: str, counters: Counter[str]) -> None:
        self.url = url
        self.counters = counters
        self.down_since: float | None = None
        self.ready: Any = None  # an event, set while subscribed

    @property
    def up(self) -> bool:
        return self.down_since is None

    def lost(self, exc: BaseException) -> None:
        if self.ready is not None:
            self.ready.clear()
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.counters["outages"] += 1
            log.error("Redis at %s is unreachable (%s): serving local clients only; messages to "
                      "and from other processes are lost until it is back; retrying", self.url, exc)

    def back(self) -> None:
        """Called by the listener once its subscriptions are in place."""
        if self.ready is not None:
            self.ready.set()
        if self.down_since is not None:
            lasted = time.monotonic() - self.down_since
            self.down_since = None
            log.warning("Redis at %s is back after %.1f s; resubscribed", self.url, lasted)


class RedisManager(LocalMembership):
    """``wsgi_sio.Server(manager=wsgi_sio.RedisManager("redis://host:6379/0"))``.

    ``key``: channel prefix, as the Node adapter's ``key`` option (default ``"socket.io"``).
    ``requests_timeout``: seconds to wait for other servers' answers (``fetch_sockets``).
    ``max_message_size``: larger messages from Redis are dropped. ``retry_max_delay``: the
    longest pause between reconnection attempts. ``drop_log_interval``: dropped messages are
    logged once, then summarised at most once per this many seconds. ``redis_options`` go to
    ``redis.Redis``.

    Sessions across hosts (a load balancer sending a session's requests to any host): each
    process registers where it listens, and a request for another host's session is relayed
    there (:mod:`.peers`). ``advertise``: the ``host[:port]`` other hosts reach this one at,
    when its server listens on 0.0.0.0 (or ``WSGI_SIO_ADVERTISE``). ``relay_secret``: the key
    relays are signed with (or ``WSGI_SIO_RELAY_SECRET``; by default one kept in Redis).
    ``relay=False`` turns it off.
    """

    _log = log

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, key: str = "socket.io",
                 requests_timeout: float = 5.0, max_message_size: int = 1_000_000,
                 retry_max_delay: float = 5.0, drop_log_interval: float = 10.0,
                 redis_options: dict[str, Any] | None = None, relay: bool = True,
                 advertise: str | None = None, relay_secret: str | bytes | None = None) -> None:
        #: the sockets and rooms of this process
        self.local = InProcessManager()
        self.url = url
        self.key = key
        self.requests_timeout = requests_timeout
        self.max_message_size = max_message_size
        self.retry_max_delay = retry_max_delay
        self.uid = secrets.token_hex(8)
        #: what happened to messages; read it with :meth:`stats`
        self.counters: Counter[str] = Counter()
        options = {"socket_connect_timeout": 2.0, "socket_timeout": 5.0, "health_check_interval": 0,
                   "retry": Retry(NoBackoff(), 0), **(redis_options or {})}
        self._pub = redis.Redis.from_url(url, **options)
        self._sub_client = redis.Redis.from_url(url, **{**options, "socket_timeout": None})
        self._link = _Link(safe_url(url), self.counters)
        self._drops = DropLog(drop_log_interval, log)
        #: the server this manager serves, set by :meth:`attach`
        self.server: Server | None = None
        self._namespaces = set()  # whose request/response channels we want
        self._listening = set()   # whose request channel the live connection has
        self._channel_kind: dict[bytes, tuple[str, str]] = {}
        self._pending: dict[wire.RequestId, _Pending] = {}
        self._server_handlers = {}
        self._own_prefix = wire.pack([self.uid])[1:]  # the uid as the array's first element
        self._closed = False
        self._ready: Any = None
        #: sessions across hosts: the directory of processes and the relay's options
        self.relaying = Relaying(relay, advertise, relay_secret)

    # -- lifecycle ----------------------------------------------------------------------------

    def attach(self, server: Server) -> None:
        if self.server is not None:
            raise RuntimeError("a RedisManager serves one Server")
        self.server = server
        for name in server.namespace_paths():
            self._want(name)
        self._ready = self._link.ready = server.runtime.event()
        server.runtime.spawn(self._listen)
        self.relaying.attach(self._pub, self.key, server)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the listener is subscribed (for scripts and tests; servers need not).

        After an outage, until it is subscribed again."""
        return bool(self._ready and self._ready.wait(timeout))

    def close(self) -> None:
        """Stop listening (within a second) and close the Redis connections."""
        self._closed = True
        self.relaying.close()
        self._pub.close()

    def stats(self) -> dict[str, int]:
        """Counters: received, delivered, own, oversized, malformed, unknown_type, published,
        publish_skipped, publish_failed, outages, errors, ..."""
        return dict(self.counters)

    # -- membership: delegated to ``local`` (:class:`.remote.LocalMembership`) ---------------

    def _want(self, namespace: str) -> None:
        channels = wire.Channels(self.key, namespace)
        self._channel_kind[channels.request.encode()] = ("request", namespace)
        self._channel_kind[channels.response.encode()] = ("response", namespace)
        self._channel_kind[channels.specific_response(self.uid).encode()] = ("response", namespace)
        self._namespaces.add(namespace)

    def _channels_of(self, namespaces: set[str]) -> list[bytes]:
        return [ch for ch, (_, nsp) in list(self._channel_kind.items()) if nsp in namespaces]

    # -- connection state recovery: this process only -------------------------------------------

    def enable_recovery(self, options: RecoveryOptions) -> None:
        """Connection state recovery for the sockets of this process (kept by ``local``): a
        client recovers only if it comes back to the process it left. What other processes
        broadcast is stamped here when it arrives; the offsets never cross processes."""
        self.local.enable_recovery(options)

    def persist_session(self, namespace: str, record: SessionRecord) -> None:
        self.local.persist_session(namespace, record)

    def restore_session(self, namespace: str, pid: str, offset: str) -> Restored | None:
        return self.local.restore_session(namespace, pid, offset)

    # -- operations: here at once, elsewhere through Redis --------------------------------------

    def emit(self, packet: Packet, rooms: str | Iterable[str] | None = None,
             skip: str | Iterable[str] | None = None, *, volatile: bool = False) -> int:
        count = self.local.emit(packet, rooms, skip, volatile=volatile)
        nsp = packet.namespace
        if isinstance(rooms, str) and self.local.get(nsp, rooms) is not None:
            return count  # one sid, and it is ours: nobody else has it
        room_list = None if rooms is None else sorted(as_set(rooms))
        if room_list == [] or packet.id is not None:
            return count
        try:
            payload = wire.broadcast_message(self.uid, nsp, list(packet.data), room_list or [],
                                             sorted(as_set(skip)),
                                             {"volatile": True} if volatile else None)
        except (TypeError, ValueError, OverflowError) as exc:
            log.error("cannot send this broadcast to other processes: %s", exc)
            return count
        self._publish(wire.broadcast_channel(wire.Channels(self.key, nsp), room_list or []), payload)
        return count

    def close_room(self, namespace: str, room: str) -> None:
        self.local.close_room(namespace, room)
        self._request(namespace, {"type": wire.REMOTE_LEAVE, "opts": {"rooms": [room], "except": []},
                                  "rooms": [room]})

    def disconnect(self, namespace: str, rooms: str | Iterable[str] | None = None,
                   skip: str | Iterable[str] | None = None) -> None:
        self.local.disconnect(namespace, rooms, skip)
        self._request(namespace, {"type": wire.REMOTE_DISCONNECT, "opts": _opts(rooms, skip),
                                  "close": False})

    def join_many(self, namespace: str, room: str, rooms: str | Iterable[str] | None = None,
                  skip: str | Iterable[str] | None = None) -> None:
        self.local.join_many(namespace, room, rooms, skip)
        self._request(namespace, {"type": wire.REMOTE_JOIN, "opts": _opts(rooms, skip), "rooms": [room]})

    def leave_many(self, namespace: str, room: str, rooms: str | Iterable[str] | None = None,
                   skip: str | Iterable[str] | None = None) -> None:
        self.local.leave_many(namespace, room, rooms, skip)
        self._request(namespace, {"type": wire.REMOTE_LEAVE, "opts": _opts(rooms, skip), "rooms": [room]})

    def join_remote(self, namespace: str, sid: str, room: str) -> None:
        self._request(namespace, {"type": wire.REMOTE_JOIN, "opts": _opts(sid, None), "rooms": [room]})

    def leave_remote(self, namespace: str, sid: str, room: str) -> None:
        self._request(namespace, {"type": wire.REMOTE_LEAVE, "opts": _opts(sid, None), "rooms": [room]})

    def disconnect_remote(self, namespace: str, sid: str) -> None:
        self._request(namespace, {"type": wire.REMOTE_DISCONNECT, "opts": _opts(sid, None),
                                  "close": False})

    def server_side_emit(self, event: str, *args: Any, namespace: str = "/") -> None:
        """Emit ``event`` to the *other servers* (Node: ``io.serverSideEmit``); JSON arguments."""
        self._request(namespace, {"type": wire.SERVER_SIDE_EMIT, "data": [event, *args]})

    # -- cluster-wide queries -----------------------------------------------------------------

    def fetch_sockets(self, namespace: str, rooms: str | Iterable[str] | None = None,
                      skip: str | Iterable[str] | None = None,
                      timeout: float | None = None) -> list[RemoteSocket]:
        """The sockets in ``rooms`` minus ``skip`` on every server (Node: ``fetchSockets``).

        Waits for every other server subscribed to the namespace, up to ``timeout``
        (``requests_timeout``); a server that does not answer in time is left out, with a
        warning. While Redis is down, only this process's sockets are returned.
        """
        here = self._here(namespace, rooms, skip)
        answers = self._ask(namespace, {"type": wire.REMOTE_FETCH, "opts": _opts(rooms, skip)},
                            timeout, wire.fetch_answer)
        for sockets in answers:
            here.extend(RemoteSocket(info.sid, namespace, set(info.rooms), info.handshake, info.data)
                        for info in sockets)
        return here

    def all_rooms(self, namespace: str, timeout: float | None = None) -> set[str]:
        """Every room of the namespace on every server (sid rooms included, as in Node)."""
        found = self.room_names(namespace)
        for rooms in self._ask(namespace, {"type": wire.ALL_ROOMS}, timeout, wire.all_rooms_answer):
            found.update(rooms)
        return found

    def _ask(self, namespace: str, request: dict[str, Any], timeout: float | None,
             check: Callable[[wire.Response], Any]) -> list[Any]:
        """Publish ``request``; the answers of the other servers, each checked by ``check``."""
        assert self.server is not None, "attach the manager to a Server first"
        if not self._link.up:
            return []
        channels = wire.Channels(self.key, namespace)
        try:
            subscribers = int(self._pub.pubsub_numsub(channels.request)[0][1])
            expected = subscribers - (1 if namespace in self._listening else 0)
            if expected <= 0:
                return []
            request_id = secrets.token_hex(8)
            pending = self._pending[request_id] = _Pending(expected, self.server.runtime.event(),
                                                           check)
            self._pub.publish(channels.request, wire.dump_json(
                {"uid": self.uid, "requestId": request_id, **request}))
        except redis.RedisError as exc:
            self._link.lost(exc)
            return []
        try:
            wait = self.requests_timeout if timeout is None else timeout
            if not pending.done.wait(wait):
                self.counters["request_timeouts"] += 1
                log.warning("only %d of %d servers answered within %s s", len(pending.answers),
                            expected, wait)
            return list(pending.answers)
        finally:
            self._pending.pop(request_id, None)

    # -- publishing ---------------------------------------------------------------------------

    def _request(self, namespace: str, request: dict[str, Any]) -> None:
        self._publish(wire.Channels(self.key, namespace).request,
                      wire.dump_json({"uid": self.uid, **request}))

    def _publish(self, channel: str, payload: bytes) -> bool:
        if not self._link.up:
            self.counters["publish_skipped"] += 1
            return False
        try:
            self._pub.publish(channel, payload)
        except redis.RedisError as exc:
            self.counters["publish_failed"] += 1
            self._link.lost(exc)
            return False
        self.counters["published"] += 1
        return True

    # -- the listener -------------------------------------------------------------------------

    def _listen(self) -> None:
        assert self.server is not None
        delay = 0.05
        while not self._closed:
            pubsub = self._sub_client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(wire.broadcast_pattern(self.key))
                self._listening = set()
                self._subscribe_wanted(pubsub)
                self._pub.ping()
                delay = 0.05
                self._link.back()
                self._pump(pubsub)
            except redis.RedisError as exc:
                self._link.lost(exc)
            except Exception:  # a bug of ours must not end the listener
                self.counters["errors"] += 1
                log.exception("Redis listener failed; restarting it")
            finally:
                self._listening = set()
                quietly(pubsub.close)
            if not self._closed:
                self.server.runtime.sleep(delay)
                delay = min(delay * 2, self.retry_max_delay)

    def _pump(self, pubsub: Any) -> None:
        drops = self._drops
        while not self._closed:
            self._subscribe_wanted(pubsub)
            message = pubsub.get_message(timeout=_TICK)
            if message is None:
                if not self._link.up:  # publishing failed while we kept listening: try again
                    self._pub.ping()
                    self._link.back()
                drops.tick(time.monotonic())
                continue
            try:
                self._dispatch(message)
            except wire.WireError as exc:
                self._drop(exc, message.get("channel"))
            except Exception:  # a bug of ours: bad input is a WireError
                self.counters["errors"] += 1
                log.exception("error handling a Redis message on %r", message.get("channel"))
            if drops.window_end is not None:  # only after a drop: the hot path skips the clock
                drops.tick(time.monotonic())

    def _drop(self, exc: wire.WireError, channel: Any) -> None:
        self.counters[exc.reason] += 1
        self.counters["dropped"] += 1
        name = channel.decode("utf-8", "replace") if isinstance(channel, bytes) else repr(channel)
        self._drops.drop(exc.reason, clip(name), exc.detail, time.monotonic())

    def _dispatch(self, message: dict[str, Any]) -> None:
        self.counters["received"] += 1
        data = message.get("data")
        channel = message.get("channel")
        if not isinstance(data, bytes) or not isinstance(channel, bytes):
            raise wire.WireError("malformed", "not a bytes message")
        if message["type"] == "pmessage":
            self._on_broadcast(channel, data)
            return
        kind, namespace = self._channel_kind.get(channel, ("?", ""))
        if kind == "request":
            self._on_request(namespace, data)
        elif kind == "response":
            self._on_response(data)

    def _on_broadcast(self, channel: bytes, payload: bytes) -> None:
        if payload[1:1 + len(self._own_prefix)] == self._own_prefix:
            self.counters["own"] += 1  # our own broadcast coming back (or someone posing as us)
            return
        message = wire.decode_broadcast(payload, self.max_message_size)
        if message.uid == self.uid:
            self.counters["own"] += 1
            return
        prefix = wire.Channels(self.key, message.namespace).broadcast.encode()
        if not channel.startswith(prefix) or not channel.endswith(b"#"):
            raise wire.WireError("malformed", "namespace does not match the channel")
        room = channel[len(prefix):-1].decode("utf-8", "replace")
        namespace = message.namespace
        local = self.local
        if not local.sockets.get(namespace) or (room and not local.has_room(namespace, room)):
            return  # no socket here for it
        packet = Packet(PacketType.EVENT, message.namespace, message.data)
        try:
            local.emit(packet, message.rooms or None, message.except_ or None,
                                  volatile=message.flags.get("volatile") is True)
        except LocalProtocolError as exc:  # our encoder refused what the checks let through
            raise wire.WireError("malformed", f"cannot deliver: {exc}") from None
        self.counters["delivered"] += 1

    def _on_request(self, namespace: str, payload: bytes) -> None:
        request = wire.decode_request(payload, self.max_message_size)  # checked in full
        if request.uid == self.uid:
            self.counters["own"] += 1  # applied here when sent
            return
        match request:
            case wire.RoomChange():
                self._change_rooms(namespace, request.join, request.names, request.rooms,
                                   request.except_)
            case wire.Disconnect():
                self._disconnect_members(namespace, request.rooms, request.except_, request.close)
            case wire.Single():
                self._single(namespace, request)
            case wire.Sockets():
                sids = [s.sid for s in self.members(namespace, request.rooms or None)]
                self._respond(namespace, {"requestId": request.request_id, "sockets": sids})
            case wire.AllRooms():
                self._respond(namespace, {"requestId": request.request_id,
                                          "rooms": sorted(self.room_names(namespace))})
            case wire.Fetch():
                sockets = self._fetch_answer(namespace, request.rooms, request.except_)
                self._respond(namespace, {"requestId": request.request_id, "sockets": sockets})
            case wire.ServerSideEmit():
                self._server_side_event(namespace, request.data,
                                        self._server_event_answer(namespace, request.request_id))
            case wire.BroadcastWithAck():
                self._broadcast_with_ack(namespace, request)

    def _single(self, namespace: str, request: wire.Single) -> None:
        """Requests of adapters before 7.x: one ``sid``, one ``room``, answered by its owner."""
        socket = self.get(namespace, request.sid)
        if socket is None:
            return
        if request.type == wire.REMOTE_DISCONNECT:
            socket.disconnect()
            if request.close:
                socket.client.sock.close()
        else:
            (self.local.join if request.type == wire.REMOTE_JOIN
             else self.local.leave)(socket, request.room)
        self._respond(namespace, {"requestId": request.request_id})

    def _server_event_answer(self, namespace: str, request_id: Any) -> Callable[[Any], None] | None:
        """How a server-side event handler's return value answers a Node
        ``serverSideEmitWithAck`` (None: the sender wants no answer)."""
        if request_id is None:
            return None

        def answer(result: Any) -> None:
            self._respond(namespace, {"type": wire.SERVER_SIDE_EMIT, "requestId": request_id,
                                      "data": result})
        return answer

    def _broadcast_with_ack(self, namespace: str, request: wire.BroadcastWithAck) -> None:
        """A Node ``io.timeout(ms).emit(ev, ..., ack)``: tell how many clients, relay each ack.

        As socket.io-adapter's ``broadcastWithAck``: the clients first, then the count; so if
        our encoder refused the packet (the checks of :mod:`.wire` should have), nothing was
        delivered nor answered."""
        data, request_id = request.data, request.request_id
        recipients = self.members(namespace, request.rooms or None, request.except_ or None)
        channel = wire.Channels(self.key, namespace).response

        def relay(*args: Any) -> None:
            try:
                payload = wire.pack({"type": wire.BROADCAST_ACK, "requestId": request_id,
                                     "packet": args[0] if args else None})
            except (TypeError, ValueError, OverflowError) as exc:  # e.g. an int past 64 bits
                log.error("cannot relay a client's acknowledgement to Redis: %s", exc)
                return
            self._publish(channel, payload)

        try:
            for socket in recipients:
                socket.emit(data[0], *data[1:], callback=relay)
        except LocalProtocolError as exc:
            raise wire.WireError("malformed", f"cannot deliver: {exc}") from None
        self._respond(namespace, {"type": wire.BROADCAST_CLIENT_COUNT, "requestId": request_id,
                                  "clientCount": len(recipients)})

    def _respond(self, namespace: str, response: dict[str, Any]) -> None:
        # Always the common response channel: Node requesters subscribe to it too (§5.1).
        try:
            payload = wire.dump_json(response)
        except (TypeError, ValueError) as exc:
            log.error("cannot answer a Redis request: %s", exc)
            return
        self._publish(wire.Channels(self.key, namespace).response, payload)

    def _on_response(self, payload: bytes) -> None:
        response = wire.decode_response(payload, self.max_message_size)
        pending = self._pending.get(response.request_id)
        if pending is not None:  # else an answer to another server: checked as far as it can be
            pending.add(response)


def _opts(rooms: str | Iterable[str] | None, skip: str | Iterable[str] | None) -> dict[str, list[str]]:
    return {"rooms": sorted(as_set(rooms)), "except": sorted(as_set(skip))}
