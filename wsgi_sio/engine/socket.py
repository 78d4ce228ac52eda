"""One Engine.IO connection on the I/O side: the protocol session plus what it is attached to.

An ``EngineSocket`` owns a :class:`~wsgi_sio.protocol.session.Session`, wakes the pending
long-poll or writes to the WebSocket when packets are queued, runs the heartbeat on the
server's scheduler, probes a WebSocket for the upgrade, and runs the application's work for
the connection in order (``run_in_order``, see :mod:`.ordered`).

Over WebSocket the socket decides when to write and what: queued packets leave from a deferred
callback, so a burst (a loop of broadcasts) leaves in one write per client, encoded once for
all recipients (``Packet.wire``); the CONNECT reply may be written alone and what follows held
back (``write_alone``). The transport under it is a byte pipe (:mod:`.websocket`): it writes
without blocking, says whether a write goes straight out, and reports its breakage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from ..protocol import engineio3
from ..protocol import session as states
from ..protocol import websocket as wsproto
from ..protocol.engineio import Packet, PacketType, decode_payload, encode_packet
from ..protocol.errors import EngineIOError, WebSocketError
from ..protocol.session import ProbeReply, Session, Upgraded
from ..protocol.websocket import CloseCode
from ..runtime import Runtime
from .ordered import InOrder
from .scheduler import Scheduler, Timer
from .websocket import ConnectionGone, WebSocketTransport


class Host(Protocol):
    """What a socket asks of the server that made it (an ``EngineServer``), typed here so
    that this module need not import the server, which imports it."""

    close_grace: float

    @property
    def runtime(self) -> Runtime: ...
    @property
    def scheduler(self) -> Scheduler: ...
    def forget(self, sock: EngineSocket) -> None: ...
    def handle_message(self, sock: EngineSocket, data: str | bytes) -> None: ...
    def handle_close(self, sock: EngineSocket) -> None: ...
    def handle_disconnect(self, sock: EngineSocket, reason: str) -> None: ...

log = logging.getLogger("wsgi_sio")

#: packets of one polling payload applied between two yields to the other greenlets
YIELD_EVERY = 256

_encode_message = wsproto.encode_message


def _frame(packet: Packet) -> bytes:
    """The packet as a WebSocket frame, encoded once however many clients it goes to."""
    wire = packet.wire
    if wire is None:
        wire = packet.wire = _encode_message(encode_packet(packet))
    return wire


def _frame_v3(packet: Packet) -> bytes:
    """For an Engine.IO v3 client: text as v4 (shared), a binary message as ``0x04`` + data."""
    if type(packet.data) is str or packet.data is None:
        return _frame(packet)
    return _encode_message(engineio3.encode_frame(packet))


def _frame_v3_base64(packet: Packet) -> bytes:
    """For an Engine.IO v3 client that asked for ``b64=1``: binary as ``b4<base64>`` text."""
    if type(packet.data) is str or packet.data is None:
        return _frame(packet)
    return _encode_message(engineio3.encode_frame(packet, binary=False))


class EngineSocket:
    """A connected Engine.IO client. ``sid``, ``environ`` and ``transport`` are public."""

    # thousands of these live at once: no per-instance __dict__
    __slots__ = (
        "_alarm",
        "_flush_due",
        "_framer",
        "_holding",
        "_lock",
        "_noop_pending",
        "_order",
        "_poll_event",
        "_poll_waiting",
        "_post_active",
        "_rx",
        "_rx_pos",
        "_timer",
        "binary",
        "closed",
        "context",
        "environ",
        "probing",
        "runtime",
        "server",
        "session",
        "sid",
        "ws",
    )

    def __init__(self, server: Host, session: Session, environ: dict[str, Any]) -> None:
        self.server = server
        self.session = session
        self.sid = session.sid
        self.environ = environ
        self.runtime = server.runtime
        self.ws: WebSocketTransport | None = None
        self.closed = False
        self._lock = self.runtime.guard()
        # only polling sessions ever wait for a poll: WebSocket ones skip the event
        self._poll_event: Any = self.runtime.event() if session.transport == "polling" else None
        self._poll_waiting = False
        self._post_active = False
        self._noop_pending = False
        self._timer: Timer | None = None
        self._order = InOrder(self.runtime, self._lock, self.sid)
        #: the WebSocket being probed during an upgrade, closed if the probe times out
        self.probing: WebSocketTransport | None = None
        #: a deferred write is on its way: queueing more needs no other (read on the
        #: per-recipient path of every broadcast, so an attribute rather than a method)
        self._flush_due = False
        #: ``write_alone`` holds back what is queued until its pause is over
        self._holding = False
        self._alarm: tuple[float, Callable[..., Any], Any] | None = None
        self._rx: list[Packet] | None = None  # the batch being applied (see _apply_received)
        self._rx_pos = 0
        #: free for the layer above (the Socket.IO server keeps its client state here)
        self.context: Any = None
        #: how a packet becomes a WebSocket frame (v3 clients frame binary differently)
        self._framer: Callable[[Packet], bytes] = _frame
        #: v3 only: the current transport takes raw binary (the client did not ask ``b64=1``)
        self.binary = True

    @property
    def protocol(self) -> int:
        """The Engine.IO revision of the client: 4, or 3 (socket.io-client 1.x/2.x)."""
        return self.session.protocol

    @property
    def transport(self) -> str:
        return self.session.transport

    # -- sending ----------------------------------------------------------------------------

    def send(self, data: str | bytes) -> bool:
        """Queue one message for the client. False when the connection is gone."""
        return self.send_packets((Packet(PacketType.MESSAGE, data),))

    def send_packets(self, packets: list[Packet] | tuple[Packet, ...]) -> bool:
        """Queue packets for the client. False when the connection is gone.

        This runs once per recipient of every broadcast; the session's ``queue`` keeps the
        common case short and closes a slow consumer whose queue is full.
        """
        session = self.session
        with self._lock:
            queued = session.queue(packets)
        if not queued:
            if session.state is states.CLOSED:
                self._log_slow_queue()
                self._on_closed()
            return False
        # ``flush()``, inline: a method call per recipient is measurable on a broadcast
        if self.ws is not None:
            if not self._flush_due:
                self._flush_due = True
                self.runtime.defer(self._write_queued)
        elif self._poll_waiting:
            self._poll_event.set()
        return True

    def _log_slow_queue(self) -> None:
        """Say why a session whose queue just overflowed is closed (a message, or the
        heartbeat's ping, found it full)."""
        session = self.session
        if session.close_reason == states.SLOW_CONSUMER and not self.closed:
            log.warning("closing Engine.IO session %s: slow consumer (%d packets unsent, "
                        "%d bytes)", self.sid, len(session.outgoing), session.queued_bytes)

    def ready_to_write(self) -> bool:
        """Whether packets queued now leave at once: a WebSocket with nothing unsent, or a
        long-poll GET waiting. A volatile emit is dropped when this is False."""
        ws = self.ws
        if ws is not None:
            return ws.idle()
        return self._poll_waiting and not self.closed

    def flush(self) -> None:
        """Packets were queued: write them soon (WebSocket) or wake the waiting GET."""
        if self.ws is not None:
            if not self._flush_due:
                self._flush_due = True
                self.runtime.defer(self._write_queued)
        elif self._poll_waiting:
            self._poll_event.set()

    def write_alone(self, pause: float = 0.0) -> None:
        """Over WebSocket, write what is queued now, in a write of its own, and hold what is
        queued next for ``pause`` seconds.

        For the CONNECT reply: clients that await one frame at a time, registering the next
        listener only once the first frame is handled, lose every frame that arrived in the
        same read as it (the official test-suite does this, and so do many hand-written
        clients). A separate write is not enough when the client is slower to read than we
        are to write the next frame; a pause, once per namespace connection and only when
        something follows, is.
        """
        ws = self.ws
        if ws is None:
            return
        self._write_now()
        if pause > 0 and ws.writable():
            self._holding = True
            self.server.scheduler.call_later(pause, self._write_now)

    def _write_now(self) -> None:
        """Write what is queued at once, ending a hold (the close packet before the Close
        frame, the answers before a failed connection's Close)."""
        self._holding = False
        self._write_queued()

    def _write_queued(self) -> None:
        # Deferred (see ``send_packets``): everything queued by then leaves in one write.
        if self._holding:
            return  # _write_now writes it all; meanwhile no other deferred write is needed
        self._flush_due = False
        ws = self.ws
        if ws is None:
            return
        with self._lock:
            packets = self.session.drain()
        if packets:
            frame = self._framer
            if len(packets) == 1:
                ws.write(frame(packets[0]))
            else:
                ws.write(b"".join([frame(p) for p in packets]))

    def take_outgoing(self) -> list[Packet]:
        with self._lock:
            return self.session.drain()

    # -- receiving --------------------------------------------------------------------------

    def receive(self, packets: list[Packet]) -> None:
        """Apply packets from the client's current transport."""
        self._rx = packets
        self._rx_pos = 0
        self._apply_received()

    def receive_payload(self, body: bytes, max_packets: int, binary: bool = False) -> None:
        """Apply a polling POST's body. A body that is not a valid payload closes the session
        (a parse error: the client is not told) and raises ``EngineIOError`` saying why.

        ``binary``: a v3 client's XHR2 binary payload (``application/octet-stream``)."""
        try:
            if self.session.protocol == 3:
                packets = (engineio3.decode_binary_payload(body, max_packets) if binary
                           else engineio3.decode_payload(body.decode("utf-8"), max_packets))
            else:
                packets = decode_payload(body.decode("utf-8"), max_packets)
        except (UnicodeDecodeError, EngineIOError) as exc:
            log.info("closing Engine.IO session %s: %s", self.sid, exc)
            self.close(states.PARSE_ERROR, notify_client=False)
            if isinstance(exc, EngineIOError):
                raise
            raise EngineIOError(str(exc)) from exc
        self.receive(packets)

    def _apply_received(self) -> None:
        """Apply the current batch from where it stands.

        The batch lives on the socket, not in a local variable: when a handler run by the
        reader blocks and a substitute reader takes over, the substitute first finishes this
        batch (queueing its events behind the blocked one) before it reads newer frames, so
        one client's events keep their order.
        """
        now = self.runtime.monotonic()
        while self._rx is not None and self._rx_pos < len(self._rx):
            packet = self._rx[self._rx_pos]
            self._rx_pos += 1
            if not self._rx_pos % YIELD_EVERY and self.ws is None:
                # A polling POST may carry thousands of packets; let other clients run
                # between slices of it (a WebSocket batch is one 64 KiB read at most).
                self.runtime.sleep(0)
                now = self.runtime.monotonic()
            with self._lock:
                data = self.session.receive(packet, now)
                closed = self.session.state is states.CLOSED
            if data is not None:
                try:
                    self.server.handle_message(self, data)
                except Exception:
                    log.exception("error handling a message of Engine.IO session %s", self.sid)
            if closed:
                self._rx = None
                self._on_closed()
                return
            if packet.type is PacketType.PONG:
                self._arm()
            elif packet.type is PacketType.PING:
                self.flush()  # a v3 client's ping: the session queued the pong
        self._rx = None

    def run_in_order(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` after everything queued before it for this connection: at once
        when the WebSocket reader calls it with nothing queued, else queued (see
        :mod:`.ordered`)."""
        self._order.run(fn, args)

    def wait(self, event: Any, timeout: float | None) -> bool:
        """Wait for ``event``; from a handler running in the reader, let a substitute read.

        This is how a handler can wait for this very client's acknowledgement.
        """
        return self._order.wait(event, timeout)

    # -- reading a WebSocket ------------------------------------------------------------------

    def serve_websocket(self, ws: WebSocketTransport) -> None:
        """Read until the client or the session goes; runs in the request's greenlet, which
        also runs the handlers (see :mod:`.ordered`)."""
        self._order.begin_reading(self._read_substitute)
        try:
            self._read(ws)
        finally:
            self._order.end_reading()
            ws.close(CloseCode.NORMAL)

    def _read_substitute(self) -> None:
        ws = self.ws
        if ws is not None:
            self._read(ws)

    def _read(self, ws: WebSocketTransport) -> None:
        try:
            self._apply_received()  # a substitute first finishes the batch the reader was in
            while not self.closed:
                self.receive(ws.read_packets())
        except ConnectionGone:
            self.close(states.TRANSPORT_CLOSE, notify_client=False)
        except WebSocketError as exc:
            log.info("closing WebSocket of session %s: %s (%d)", self.sid, exc.reason, exc.code)
            self._write_now()  # answers to the messages before the bad frame go first
            ws.close(exc.code, exc.reason)
            self.close(states.TRANSPORT_ERROR, notify_client=False)
        except EngineIOError as exc:
            log.info("closing Engine.IO session %s: %s", self.sid, exc)
            self.close(states.PARSE_ERROR, notify_client=False)

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self, reason: str = states.FORCED_CLOSE, notify_client: bool = True) -> None:
        """Server-side close; the client gets a ``close`` packet where it can still be sent."""
        with self._lock:
            first = self.session.close(reason, notify_client=notify_client)
        if first:
            self._on_closed()

    def _on_closed(self) -> None:
        """Runs once when the session reaches CLOSED, whoever closed it."""
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        ws = self.ws
        if ws is not None:
            self._write_now()  # the close packet goes before the Close frame
            if self.session.close_reason == states.SERVER_SHUTTING_DOWN:
                ws.close(CloseCode.GOING_AWAY, "going away")  # RFC 6455 §7.4.1
            else:
                ws.close(CloseCode.NORMAL)
            self.server.forget(self)
        elif (self.session.close_reason == states.TRANSPORT_CLOSE and not self._poll_waiting
              and self._poll_event is not None):
            # The client POSTed its close: a GET it sent at the same moment, on another
            # connection, may arrive just after. It gets a noop, as it would have had it come
            # first, not "Session ID unknown"; nothing queued is for a client that left.
            self.session.drain()
            self.server.scheduler.call_later(self.server.close_grace, lambda: self.server.forget(self))
        elif (self._poll_waiting or not self.session.outgoing
              or self.session.outgoing[-1].type is not PacketType.CLOSE):
            # Nothing for the client to learn (a ping timeout, a transport error): its next
            # request finds the sid unknown, rather than a stale ping of a dead session.
            if self._poll_event is not None:  # None: a WebSocket session closed before attaching
                self._poll_event.set()
            self.server.forget(self)
        else:
            # A close packet waits for the client's next poll; keep the sid known until then.
            self.server.scheduler.call_later(self.server.close_grace, lambda: self.server.forget(self))
        if self.probing is not None:
            self.probing.close(CloseCode.NORMAL)
        # Said at once, so that a handler waiting for this client's acknowledgement stops
        # waiting now; the disconnect handlers themselves run in order, after the queued work.
        self.server.handle_close(self)
        self.run_in_order(self.server.handle_disconnect, self, self.session.close_reason or "")

    def abandon(self) -> None:
        """The handshake was refused: stop its timers; it never connected, so nothing is
        reported to the layer above."""
        self.closed = True
        self._alarm = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def start(self) -> None:
        self._arm()

    def set_alarm(self, when: float, callback: Callable[[Any], Any], arg: Any) -> None:
        """Call ``callback(arg)`` at ``when`` (monotonic), unless cancelled or closed first.

        For the layer above (the Socket.IO connect timeout). It shares the connection's one
        timer with the heartbeat instead of adding a timer per connection.
        """
        self._alarm = (when, callback, arg)
        self._arm()

    def cancel_alarm(self) -> None:
        self._alarm = None

    def _arm(self) -> None:
        deadline = self.session.next_deadline()
        if deadline is None:
            return
        if self._alarm is not None and self._alarm[0] < deadline:
            deadline = self._alarm[0]
        timer = self._timer
        if timer is not None and not timer.cancelled and timer.when <= deadline:
            return  # an earlier timer will fire and re-arm
        if timer is not None:
            timer.cancel()
        self._timer = self.server.scheduler.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        now = self.runtime.monotonic()
        alarm = self._alarm
        if alarm is not None and now >= alarm[0]:
            self._alarm = None
            alarm[1](alarm[2])
            if self.closed:
                return
        if self._order.reader_blocked and self.session.pong_overdue(now):
            # The pong may be sitting unread behind a long handler: read it before judging.
            self.session.wait_for_pong(now)
            self._order.start_substitute()
            self._arm()
            return
        with self._lock:
            before = len(self.session.outgoing)
            self.session.tick(self.runtime.monotonic())
            closed = self.session.state is states.CLOSED
            queued = len(self.session.outgoing) > before
        if closed:
            self._log_slow_queue()
            self._on_closed()
            return
        if queued:
            self.flush()
        probe = self.probing
        if probe is not None and self.session.upgrade_deadline is None and self.ws is not probe:
            self.probing = None  # the upgrade timed out: polling goes on
            probe.close(CloseCode.NORMAL)
        self._arm()

    # -- long-polling -----------------------------------------------------------------------

    def poll(self) -> list[Packet] | None:
        """Serve one polling GET: wait for packets and take them all. None: overlapping GET."""
        with self._lock:
            if self._poll_waiting:
                overlap = True
            else:
                overlap = False
                self._poll_waiting = True
        if overlap:
            # Spec: one GET at a time. The second is refused and the session ends; the first
            # is answered with the close packet.
            self.close(states.TRANSPORT_ERROR)
            return None
        try:
            limit = self.session.ping_interval + self.session.ping_timeout + 5
            while True:
                with self._lock:
                    packets = self.session.drain()
                    self._poll_event.clear()
                    if packets:
                        if self.session.state is states.CLOSED:
                            self.server.forget(self)
                        return packets
                    if self.session.state is states.CLOSED or self._noop_pending or self.ws is not None:
                        self._noop_pending = False
                        return [Session.noop()]
                if not self._poll_event.wait(limit):
                    return [Session.noop()]
        finally:
            self._poll_waiting = False

    def end_poll_with_noop(self) -> None:
        """Upgrade step: let the client's outstanding GET return so it can pause polling."""
        self._noop_pending = True
        self._poll_event.set()

    def begin_post(self) -> bool:
        with self._lock:
            if self._post_active:
                return False
            self._post_active = True
            return True

    def end_post(self) -> None:
        self._post_active = False

    def upgrade_to(self, ws: WebSocketTransport, binary: bool = True) -> None:
        """Probe ``ws`` (the upgrade of the spec) and, once the client sends ``5``, serve the
        session over it until it ends; runs in the upgrade request's greenlet.

        Polling goes on meanwhile. The probe ends with the client's ``5``, anything else on
        ``ws`` (abandoned: polling goes on, ``ws`` is closed), the connection's end, or
        ``upgrade_timeout`` (see ``_on_timer``). ``binary``: as for ``attach_websocket``.
        """
        if self.session.protocol == 3:
            ws.decode_packet = engineio3.decode_frame
        self.session.begin_upgrade(self.runtime.monotonic())
        self.probing = ws
        self._arm()
        try:
            rest = self._probe(ws, binary)
        except (ConnectionGone, WebSocketError, EngineIOError) as exc:
            self.session.abort_upgrade()
            if isinstance(exc, WebSocketError):
                ws.close(exc.code, exc.reason)
            else:
                ws.close(CloseCode.NORMAL)
            return
        if rest is None:
            ws.close(CloseCode.NORMAL)
            return
        if rest:
            self.receive(rest)  # what came in the same read as the ``5`` is the session's now
        self.serve_websocket(ws)

    def _probe(self, ws: WebSocketTransport, binary: bool) -> list[Packet] | None:
        """Read the probing transport until the upgrade completes: the packets read after the
        ``5``, or None when the probe was abandoned."""
        while True:
            packets = ws.read_packets()
            for i, packet in enumerate(packets):
                outcome = self.session.probe(packet)
                if type(outcome) is ProbeReply:
                    ws.write(_frame(outcome.packet))
                    self.end_poll_with_noop()
                elif type(outcome) is Upgraded:
                    self.attach_websocket(ws, binary)
                    return packets[i + 1:]
                else:
                    return None

    def attach_websocket(self, ws: WebSocketTransport, binary: bool = True) -> None:
        """Make ``ws`` the transport (a direct WebSocket session, or a completed upgrade).

        ``binary``: for a v3 client, whether it takes binary frames (False: it asked
        ``b64=1`` on this WebSocket's URL)."""
        if self.session.protocol == 3:
            ws.decode_packet = engineio3.decode_frame
            self.binary = binary
            self._framer = _frame_v3 if binary else _frame_v3_base64
        self.ws = ws
        ws.on_broken = self._transport_broken
        self.probing = None
        if self._poll_waiting:
            self._poll_event.set()
        self.flush()

    def _transport_broken(self, reason: str) -> None:
        """The WebSocket under the session failed: a write failed, or the client stopped
        reading (``reason`` is then ``slow consumer``)."""
        ws = self.ws
        if reason == states.SLOW_CONSUMER and ws is not None and not self.closed:
            log.warning("closing Engine.IO session %s: slow consumer (%d bytes unsent)",
                        self.sid, ws.unsent)
        self.close(reason, notify_client=False)

