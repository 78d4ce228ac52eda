"""One socket.io 0.9 connection, shown to the Socket.IO layer as an Engine.IO socket.

The Socket.IO layer (:class:`~wsgi_sio.socketio.client.Client`, the managers, namespaces)
talks to a connection through a few methods of ``EngineSocket``: ``send_packets`` (Engine.IO
messages holding v5-encoded packets), ``ready_to_write``, ``write_alone``, ``close``,
``run_in_order``, ``wait``, ``set_alarm``/``cancel_alarm`` and the attributes ``sid``,
``environ``, ``runtime``, ``closed``, ``context``. :class:`LegacySocket` has the same, so
that one set of namespaces, rooms and managers serves 0.9 clients too. Its outgoing path
decodes each v5 packet again and writes the 0.9 frames that say the same (the cost falls on
0.9 clients only); the frames it reads become v5 packets for the ordinary ``Client``.

Timers (socket.io 0.9 ``lib/transport.js``, gevent-socketio ``socketio/virtsocket.py``):
over WebSocket the server sends ``2::`` every ``heartbeat_interval`` and ends the session
when nothing came from the client for ``heartbeat_timeout``; over long-polling there are no
heartbeats, and a session whose client sends no GET for ``close_timeout`` ends. All of them,
and the connect timeout the Socket.IO layer sets, share one scheduler timer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from ..engine.ordered import InOrder
from ..engine.scheduler import Scheduler, Timer
from ..engine.websocket import ConnectionGone, WebSocketTransport
from ..protocol import engineio
from ..protocol import session as states
from ..protocol.errors import SocketIOError, WebSocketError
from ..protocol.legacy09 import Frame, FrameType, Legacy09Error, encode_frame, encode_payload
from ..protocol.socketio import Decoder, Packet, PacketType, encode_text
from ..protocol.websocket import CloseCode
from ..runtime import Runtime
from . import bridge

log = logging.getLogger("wsgi_sio")

HEARTBEAT = encode_frame(Frame(FrameType.HEARTBEAT))
NOOP = encode_frame(Frame(FrameType.NOOP))
BYE = encode_frame(Frame(FrameType.DISCONNECT))


class Host(Protocol):
    """What a 0.9 socket asks of the server that made it (``LegacyServer``)."""

    heartbeat_interval: float
    heartbeat_timeout: float
    close_timeout: float

    @property
    def runtime(self) -> Runtime: ...
    @property
    def scheduler(self) -> Scheduler: ...
    def forget(self, sock: LegacySocket) -> None: ...


class LegacySocket:
    """A socket.io 0.9 client's session (``sid`` from its handshake)."""

    #: the Engine.IO revision whose behaviour the Socket.IO layer keeps for this connection:
    #: 4 (v5 packets, which are re-encoded here)
    protocol = 4

    def __init__(self, server: Host, sid: str, environ: dict[str, Any]) -> None:
        self.server = server
        self.sid = sid
        self.environ = environ
        self.runtime = server.runtime
        self.closed = False
        #: the Socket.IO layer's state for this connection (its ``Client``)
        self.context: Any = None
        #: "" until the first transport request, then "websocket" or "xhr-polling"
        self.transport = ""
        self.ws: WebSocketTransport | None = None
        self._lock = self.runtime.guard()
        self._order = InOrder(self.runtime, self._lock, sid)
        self._out: list[str] = []
        self._outgoing = Decoder()  # re-reads the v5 packets the Socket.IO layer writes
        self._poll_event: Any = self.runtime.event()
        self._poll_waiting = 0  # generation of the GET waiting now; 0: none
        self._poll_count = 0
        self._flush_due = False
        self._joined: set[str] = set()  # endpoints the client asked to join
        self._alarm: tuple[float, Callable[[Any], Any], Any] | None = None
        self._timer: Timer | None = None
        now = self.runtime.monotonic()
        self._heard = now  # when the client last sent anything
        self._beat_due: float | None = None
        # A handshake unused for close_timeout is dropped.
        self._idle_since: float | None = now

    # -- the EngineSocket face (for the Socket.IO layer and the managers) -----------------------

    def send_packets(self, packets: list[engineio.Packet] | tuple[engineio.Packet, ...]) -> bool:
        if self.closed:
            return False
        frames: list[str] = []
        bye = False
        for message in packets:
            try:
                packet = self._outgoing.feed(message.data)  # type: ignore[arg-type]
            except SocketIOError as exc:
                log.warning("0.9 session %s: cannot re-read an outgoing packet: %s", self.sid, exc)
                continue
            if packet is None:
                continue  # a binary attachment follows
            try:
                frames += [encode_frame(f) for f in bridge.frames_for(packet)]
            except (TypeError, ValueError):
                log.info("0.9 session %s: a packet with binary data cannot go to a 0.9 client "
                         "(dropped)", self.sid)
                continue
            if packet.type is PacketType.CONNECT_ERROR or packet.type is PacketType.DISCONNECT:
                self._joined.discard(packet.namespace)  # the client may ask again
                bye = bye or packet.namespace == "/"
        if frames:
            self._queue(frames)
        if bye:
            self.close(states.FORCED_CLOSE, notify_client=False)  # its 0:: is queued already
        return True

    def ready_to_write(self) -> bool:
        ws = self.ws
        if ws is not None:
            return ws.idle()
        return bool(self._poll_waiting) and not self.closed

    def flush(self) -> None:
        if self.ws is not None:
            if not self._flush_due:
                self._flush_due = True
                self.runtime.defer(self._write_queued)
        elif self._poll_waiting:
            self._poll_event.set()

    def write_alone(self, pause: float = 0.0) -> None:
        # 0.9 clients read frame by frame: no need to hold anything back.
        if self.ws is not None:
            self._write_queued()

    def run_in_order(self, fn: Callable[..., Any], *args: Any) -> None:
        self._order.run(fn, args)

    def wait(self, event: Any, timeout: float | None) -> bool:
        return self._order.wait(event, timeout)

    def set_alarm(self, when: float, callback: Callable[[Any], Any], arg: Any) -> None:
        self._alarm = (when, callback, arg)
        self._arm()

    def cancel_alarm(self) -> None:
        self._alarm = None

    def close(self, reason: str = states.FORCED_CLOSE, notify_client: bool = True) -> None:
        """End the session; the client gets ``0::`` where it can still be sent."""
        with self._lock:
            if self.closed:
                return
            if notify_client:
                self._out.append(BYE)
            self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        ws = self.ws
        if ws is not None:
            self._write_queued()
            ws.close(CloseCode.NORMAL)
            self.server.forget(self)
        elif self._poll_waiting or not self._out:
            self._poll_event.set()
            self.server.forget(self)
        else:
            # the 0:: waits for the client's next GET
            self.server.scheduler.call_later(5.0, lambda: self.server.forget(self))
        client = self.context
        if client is not None:
            client.closing()
            self.run_in_order(client.closed, reason)

    def start(self) -> None:
        self._arm()

    # -- frames out -------------------------------------------------------------------------------

    def _queue(self, frames: list[str]) -> None:
        with self._lock:
            if self.closed:
                return
            self._out.extend(frames)
        self.flush()

    def send_frame(self, frame: Frame) -> None:
        self._queue([encode_frame(frame)])

    def _write_queued(self) -> None:
        self._flush_due = False
        ws = self.ws
        if ws is None:
            return
        with self._lock:
            frames, self._out = self._out, []
        for text in frames:  # one WebSocket message per frame
            ws.send_message(text)

    # -- frames in ---------------------------------------------------------------------------------

    def receive(self, frames: list[Frame]) -> None:
        """Apply frames the client sent, in order."""
        self._heard = self.runtime.monotonic()
        client = self.context
        for frame in frames:
            if self.closed:
                return
            ftype = frame.type
            if ftype is FrameType.HEARTBEAT or ftype is FrameType.NOOP:
                continue
            if ftype is FrameType.ERROR:
                log.info("0.9 session %s: the client reports an error: %r", self.sid, frame.data)
                continue
            if ftype is FrameType.DISCONNECT and not frame.endpoint:
                self._queue([BYE])  # echoed, then the whole session ends (0.9's "booted")
                self.close("client namespace disconnect", notify_client=False)
                return
            nsp = bridge.namespace_of(frame.endpoint)
            if ftype is FrameType.CONNECT:
                if nsp == "/" or nsp in self._joined:
                    continue
                self._joined.add(nsp)
            elif nsp not in self._joined:
                # the 0.9 server ignores what comes for a namespace the client did not join
                log.info("0.9 session %s: %s frame for %s, which it did not join (ignored)",
                         self.sid, ftype.name, nsp)
                continue
            elif ftype is FrameType.DISCONNECT:
                self._joined.discard(nsp)
            try:
                packet = bridge.packet_for(frame)
            except Legacy09Error as exc:
                log.info("0.9 session %s: %s", self.sid, exc)
                self.send_frame(Frame.error(None, endpoint=frame.endpoint))
                continue
            reply = bridge.transport_ack(frame)
            if reply is not None:
                self.send_frame(reply)
            if packet is not None and client is not None:
                client.receive(encode_text(packet))

    def join_root(self) -> None:
        """The first transport is open: the root namespace connects (its reply is ``1::``)."""
        if "/" in self._joined:
            return
        self._joined.add("/")
        client = self.context
        if client is not None:
            client.receive(encode_text(Packet(PacketType.CONNECT, "/")))

    # -- long-polling --------------------------------------------------------------------------------

    def poll(self, duration: float) -> list[str]:
        """Serve one xhr-polling GET: the frames queued, waiting up to ``duration`` seconds for
        some (then ``8::``). A newer GET ends a waiting one with ``8::``."""
        self.transport = self.transport or "xhr-polling"
        self._poll_count += 1
        me = self._poll_count
        if self._poll_waiting:
            self._poll_event.set()
        self._idle_since = None
        self._poll_waiting = me
        self.join_root()
        try:
            deadline = self.runtime.monotonic() + duration
            while True:
                with self._lock:
                    self._poll_event.clear()
                    if self._out:
                        frames, self._out = self._out, []
                        return frames
                    if self.closed or self._poll_waiting != me:
                        return [NOOP]
                left = deadline - self.runtime.monotonic()
                if left <= 0 or not self._poll_event.wait(left):
                    return [NOOP]
        finally:
            if self._poll_waiting == me:
                self._poll_waiting = 0
                self._idle_since = self.runtime.monotonic()
                if self.closed:
                    self.server.forget(self)
                else:
                    self._arm()

    # -- WebSocket -----------------------------------------------------------------------------------

    def serve_websocket(self, ws: WebSocketTransport, decode: Callable[[str], list[Frame]]) -> None:
        """Serve the session over ``ws`` until either ends; runs in the request's greenlet."""
        self.transport = "websocket"
        self.ws = ws
        self._idle_since = None
        ws.on_broken = lambda reason: self.close(reason, notify_client=False)
        self._beat_due = self.runtime.monotonic() + self.server.heartbeat_interval
        self.join_root()
        self._write_queued()
        self._arm()
        self._order.begin_reading(lambda: self._read(ws, decode))
        try:
            self._read(ws, decode)
        finally:
            self._order.end_reading()
            self.close(states.TRANSPORT_CLOSE, notify_client=False)

    def _read(self, ws: WebSocketTransport, decode: Callable[[str], list[Frame]]) -> None:
        try:
            while not self.closed:
                for message in ws.read_messages():
                    if self.closed:
                        return
                    if not isinstance(message, str):
                        self._heard = self.runtime.monotonic()
                        self.send_frame(Frame.error(None))
                        continue
                    try:
                        frames = decode(message)
                    except Legacy09Error as exc:
                        log.info("0.9 session %s: %s", self.sid, exc)
                        self.send_frame(Frame.error(None))
                        continue
                    self.receive(frames)
        except ConnectionGone:
            self.close(states.TRANSPORT_CLOSE, notify_client=False)
        except WebSocketError as exc:
            log.info("closing the WebSocket of 0.9 session %s: %s", self.sid, exc.reason)
            ws.close(exc.code, exc.reason)
            self.close(states.TRANSPORT_ERROR, notify_client=False)

    # -- timers --------------------------------------------------------------------------------------

    def _deadline(self) -> float | None:
        server = self.server
        times = []
        if self._alarm is not None:
            times.append(self._alarm[0])
        if self.ws is not None:
            times.append(self._heard + server.heartbeat_timeout)
            if self._beat_due is not None:
                times.append(self._beat_due)
        elif self._idle_since is not None:
            times.append(self._idle_since + server.close_timeout)
        return min(times) if times else None

    def _arm(self) -> None:
        if self.closed:
            return
        deadline = self._deadline()
        if deadline is None:
            return
        timer = self._timer
        if timer is not None and not timer.cancelled and timer.when <= deadline:
            return
        if timer is not None:
            timer.cancel()
        self._timer = self.server.scheduler.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self.closed:
            return
        now = self.runtime.monotonic()
        alarm = self._alarm
        if alarm is not None and now >= alarm[0]:
            self._alarm = None
            alarm[1](alarm[2])
            if self.closed:
                return
        server = self.server
        if self.ws is not None:
            if now >= self._heard + server.heartbeat_timeout:
                log.info("0.9 session %s: heartbeat timeout", self.sid)
                self.close(states.PING_TIMEOUT, notify_client=False)
                return
            if self._beat_due is not None and now >= self._beat_due:
                self._beat_due = now + server.heartbeat_interval
                self._queue([HEARTBEAT])
        elif self._idle_since is not None and now >= self._idle_since + server.close_timeout:
            log.info("0.9 session %s: close timeout (no request for %s s)", self.sid,
                     server.close_timeout)
            self.close(states.TRANSPORT_CLOSE, notify_client=False)
            return
        self._arm()


def encode_polling_body(frames: list[str]) -> bytes:
    return encode_payload(frames).encode("utf-8")


__all__ = ["Host", "LegacySocket", "encode_polling_body"]
