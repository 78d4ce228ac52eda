"""The Engine.IO v4 session state machine, with no I/O and no clock of its own.

A transport feeds it the packets it decoded and the current time; it answers with what
happened (a message, or the end of the session) and keeps the packets waiting to be written
in ``outgoing``. Timers are deadlines the caller asks for (``deadline``) and reports back
(``tick``). The rules, from the engine.io-protocol v4 specification:

* The session opens on its first transport; the ``open`` packet is the first thing written
  ("Handshake").
* Heartbeat ("Heartbeat"): ``ping_interval`` after the open, and after every pong, the server
  queues a ``ping`` and waits ``ping_timeout`` for the ``pong``. The wait starts when the ping
  is queued, not when a poll carries it. A missing pong ends the session (``ping timeout``).
  A pong counts only once the ping has left the queue (``drain``): a client cannot answer a
  ping it never fetched, so a polling client that POSTs but never GETs times out after
  ``ping_interval + ping_timeout`` however many pongs it sends blindly.
  A ``ping`` from the client is the v3 direction and ends the session (``transport error``).
* Engine.IO v3 sessions (``protocol=3``, PROTOCOL-NOTES-WAVE2 §1) reverse the heartbeat: the
  client pings and the server answers ``pong`` at once; the server never pings, and ends the
  session (``ping timeout``) when no ping came within ``ping_interval + ping_timeout`` of the
  open or of the last ping. A ``pong`` from a v3 client ends it (``transport error``).
* ``close`` from the client ends the session (``transport close``); a ``message`` is delivered;
  ``upgrade`` and ``noop`` are only valid on a probing transport (see ``probe``).
* Upgrade ("Upgrade"): only a polling session that is not already upgrading may start one.
  On the new transport the client sends ``2probe``, the server answers ``3probe``, and the
  client's ``5`` completes the switch. Anything else on the probing transport, or
  ``upgrade_timeout`` without ``5``, abandons the probe; the session stays on polling.
* Once closed, a session accepts nothing and queues nothing more; the ``close`` packet it
  queued when the server ended it stays in ``outgoing`` for the transport to deliver.
* ``outgoing`` is bounded in packets (``max_queue``) and in bytes of packet data
  (``max_queue_bytes``; one packet larger than that may still wait alone): a client that does
  not fetch what is queued for it is closed as a slow consumer (``slow consumer``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass

from .engineio import Packet, PacketType


class State(enum.Enum):
    """Where a session stands; compared with ``is``."""

    OPEN = "open"
    UPGRADING = "upgrading"
    CLOSED = "closed"


OPEN = State.OPEN
UPGRADING = State.UPGRADING
CLOSED = State.CLOSED

# Close reasons, as the reference server names them (socket.io DisconnectReason).
PING_TIMEOUT = "ping timeout"
TRANSPORT_CLOSE = "transport close"
TRANSPORT_ERROR = "transport error"
PARSE_ERROR = "parse error"
FORCED_CLOSE = "forced close"
SERVER_SHUTTING_DOWN = "server shutting down"
SLOW_CONSUMER = "slow consumer"

# -- what a packet on the probing transport did (``Session.probe``) --------------------------


@dataclass(frozen=True, slots=True)
class ProbeReply:
    """The probe ping: send ``packet`` (``3probe``) on the probing transport, and end the
    pending poll with a noop so that the client can pause polling."""

    packet: Packet


@dataclass(frozen=True, slots=True)
class Upgraded:
    """The client's ``5``: the probing transport is now the session's transport."""


@dataclass(frozen=True, slots=True)
class ProbeAborted:
    """Anything else: the probe is abandoned, the session stays on polling."""


ProbeOutcome = ProbeReply | Upgraded | ProbeAborted

_PING = Packet(PacketType.PING)
_PONG = Packet(PacketType.PONG)
_PONG_PROBE = Packet(PacketType.PONG, "probe")
_NOOP = Packet(PacketType.NOOP)
_CLOSE = Packet(PacketType.CLOSE)
_REPLY = ProbeReply(_PONG_PROBE)
_UPGRADED = Upgraded()
_ABORTED = ProbeAborted()


class Session:
    """One Engine.IO session.

    ``transport`` is ``"polling"`` or ``"websocket"``. ``max_queue`` bounds ``outgoing``: a
    client that does not read while packets keep coming is closed as a slow consumer rather
    than allowed to grow the server's memory.
    """

    __slots__ = (
        "_awaiting_pong",
        "_ping_fetched",
        "close_reason",
        "deadline",
        "max_payload",
        "max_queue",
        "max_queue_bytes",
        "outgoing",
        "ping_interval",
        "ping_timeout",
        "protocol",
        "queued_bytes",
        "sid",
        "state",
        "transport",
        "upgrade_deadline",
        "upgrade_timeout",
        "upgrades",
    )

    def __init__(self, sid: str, transport: str, now: float, *, ping_interval: float = 25.0,
                 ping_timeout: float = 20.0, max_payload: int = 1_000_000,
                 upgrades: Iterable[str] = (), max_queue: int = 10_000,
                 max_queue_bytes: int = 4_000_000, upgrade_timeout: float = 10.0,
                 protocol: int = 4) -> None:
        self.sid = sid
        #: the Engine.IO revision the client speaks: 4, or 3 for socket.io-client 1.x/2.x
        self.protocol = protocol
        self.transport = transport
        self.state = OPEN
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_payload = max_payload
        self.upgrades: tuple[str, ...] = tuple(upgrades)
        self.max_queue = max_queue
        self.max_queue_bytes = max_queue_bytes
        #: bytes of packet data in ``outgoing`` (text length; binary is counted unencoded)
        self.queued_bytes = 0
        self.upgrade_timeout = upgrade_timeout
        self.upgrade_deadline: float | None = None
        self.close_reason: str | None = None
        self.outgoing: list[Packet] = []
        self._awaiting_pong = False
        self._ping_fetched = False
        # v4: when to ping; v3: by when the client's first ping must come
        self.deadline = now + ping_interval + (ping_timeout if protocol == 3 else 0)
        self.outgoing.append(Packet(PacketType.OPEN, self.handshake()))

    # -- what the server says ---------------------------------------------------------------

    def handshake(self) -> str:
        """The ``open`` packet's JSON, keys in the reference server's order."""
        return json.dumps({
            "sid": self.sid,
            "upgrades": self.upgrades,
            "pingInterval": int(self.ping_interval * 1000),
            "pingTimeout": int(self.ping_timeout * 1000),
            "maxPayload": self.max_payload,
        }, separators=(",", ":"))

    def send(self, packet: Packet) -> bool:
        """Queue a packet. False if the session is closed, or was just closed as a slow consumer."""
        return self.queue((packet,))

    def queue(self, packets: tuple[Packet, ...] | list[Packet]) -> bool:
        """Queue packets, all or none. False if the session is closed, or was just closed as
        a slow consumer because they would take the queue past ``max_queue`` packets or
        ``max_queue_bytes`` bytes.

        This runs once per recipient of every broadcast, so it is kept to a few operations.
        """
        if self.state is CLOSED:
            return False
        outgoing = self.outgoing
        size = self.queued_bytes
        if len(packets) == 1:  # nearly always: one text message
            data = packets[0].data
            if data is not None:
                size += len(data)
        else:
            for packet in packets:
                data = packet.data
                if data is not None:
                    size += len(data)
        if (size <= self.max_queue_bytes or not outgoing) and (
                len(outgoing) + len(packets) <= self.max_queue):
            outgoing.extend(packets)
            self.queued_bytes = size
            return True
        self.close(SLOW_CONSUMER)
        return False

    def drain(self) -> list[Packet]:
        """Everything queued, in order; the queue is left empty."""
        packets, self.outgoing = self.outgoing, []
        self.queued_bytes = 0
        if self._awaiting_pong:
            self._ping_fetched = True  # the ping is on its way: its pong may now count
        return packets

    def close(self, reason: str, *, notify_client: bool = True) -> bool:
        """End the session. True the first time (the caller then reports the disconnect)."""
        if self.state is CLOSED:
            return False
        self.state = CLOSED
        self.close_reason = reason
        self.deadline = None  # type: ignore[assignment]
        if notify_client:
            self.outgoing.append(_CLOSE)
        return True

    # -- what the client says ---------------------------------------------------------------

    def receive(self, packet: Packet, now: float) -> str | bytes | None:
        """Apply one packet from the current transport; returns a message's data, else None.

        When the packet ends the session, ``state`` is ``CLOSED`` afterwards and
        ``close_reason`` says why.
        """
        if self.state is CLOSED:
            return None
        ptype = packet.type
        if ptype is PacketType.MESSAGE:
            return packet.data if packet.data is not None else ""
        if self.protocol == 3:
            self._receive_v3(ptype, now)
            return None
        if ptype is PacketType.PONG:
            if self._awaiting_pong and self._ping_fetched:
                self._awaiting_pong = False
                self.deadline = now + self.ping_interval
            return None
        if ptype is PacketType.CLOSE:
            self.close(TRANSPORT_CLOSE, notify_client=False)
            return None
        # PING is the v3 heartbeat direction; OPEN, UPGRADE and NOOP are never valid here.
        self.close(TRANSPORT_ERROR, notify_client=False)
        return None

    def _receive_v3(self, ptype: PacketType, now: float) -> None:
        if ptype is PacketType.PING:
            self.deadline = now + self.ping_interval + self.ping_timeout
            self.send(_PONG)
        elif ptype is PacketType.CLOSE:
            self.close(TRANSPORT_CLOSE, notify_client=False)
        else:  # PONG is the v4 direction; OPEN, UPGRADE and NOOP are never valid here
            self.close(TRANSPORT_ERROR, notify_client=False)

    # -- timers -----------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Act on every deadline that has passed: queue a ping, or time the session out."""
        if self.state is CLOSED:
            return
        if self.upgrade_deadline is not None and now >= self.upgrade_deadline:
            self.abort_upgrade()
        if self.deadline is None or now < self.deadline:
            return
        if self._awaiting_pong or self.protocol == 3:
            self.close(PING_TIMEOUT, notify_client=False)
            return
        self._awaiting_pong = True
        self._ping_fetched = False
        self.deadline = now + self.ping_timeout
        self.send(_PING)

    def pong_overdue(self, now: float) -> bool:
        """A ping went unanswered for ``ping_timeout`` (v3: the client's ping is late): the
        next ``tick`` ends the session."""
        return (self.state is not CLOSED and (self._awaiting_pong or self.protocol == 3)
                and now >= self.deadline)

    def wait_for_pong(self, now: float) -> None:
        """Give the client one more ``ping_timeout`` for the pong (v3: for its ping).

        For a server that could not read the pong in time because it was busy: the client is
        not to blame, and is timed out only if the pong still does not come.
        """
        if self._awaiting_pong or self.protocol == 3:
            self.deadline = now + self.ping_timeout

    def next_deadline(self) -> float | None:
        if self.state is CLOSED:
            return None
        if self.upgrade_deadline is not None:
            return min(self.deadline, self.upgrade_deadline)
        return self.deadline

    # -- upgrade ----------------------------------------------------------------------------

    def can_upgrade(self) -> bool:
        return self.state is OPEN and self.transport == "polling" and "websocket" in self.upgrades

    def begin_upgrade(self, now: float) -> None:
        self.state = UPGRADING
        self.upgrade_deadline = now + self.upgrade_timeout

    def probe(self, packet: Packet) -> ProbeOutcome:
        """Apply a packet received on the probing transport: see the ``Probe*`` events."""
        if self.state is not UPGRADING:
            return _ABORTED
        if packet.type is PacketType.PING and packet.data == "probe":
            return _REPLY
        if packet.type is PacketType.UPGRADE:
            self.state = OPEN
            self.transport = "websocket"
            self.upgrades = ()
            self.upgrade_deadline = None
            return _UPGRADED
        self.abort_upgrade()
        return _ABORTED

    def abort_upgrade(self) -> None:
        if self.state is UPGRADING:
            self.state = OPEN
        self.upgrade_deadline = None

    @staticmethod
    def noop() -> Packet:
        return _NOOP
