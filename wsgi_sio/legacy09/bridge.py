"""Socket.IO v5 packets to 0.9 frames and back: what lets one set of namespaces serve both.

Sans-IO. The Socket.IO layer writes v5 packets for every client; a 0.9 connection turns
each into frames here (:func:`frames_for`), and each frame it reads into the v5 packet that
the ordinary :class:`~wsgi_sio.socketio.client.Client` handles (:func:`packet_for`).

What maps to what (``PROTOCOL-NOTES-WAVE2`` §2, gevent-socketio ``socketio/packet.py``):

* namespace ``/`` is the 0.9 endpoint ``""``; any other namespace is its own endpoint;
* CONNECT ↔ ``1::<ep>``; DISCONNECT ↔ ``0::<ep>``; a CONNECT_ERROR is ``7::<ep>:2``
  (unauthorized: the client emits ``connect_failed``), except for a namespace that does not
  exist, which the 0.9 server leaves unanswered;
* an event ``message`` with one argument is a ``3`` (text) or ``4`` (JSON) frame, as
  gevent-socketio's ``send``; any other event is ``5:::{"name":..,"args":[..]}``;
* ids: a v5 id asks for a data ack (``id+``); the client's bare ids (``send`` with a
  callback) are answered by the transport (:func:`transport_ack`), not by handlers;
* ACK ↔ ``6::<ep>:<id>+[args]``.
"""

from __future__ import annotations

from ..protocol.legacy09 import ErrorReason, Frame, FrameType, Legacy09Error
from ..protocol.socketio import Packet, PacketType

#: the v5 CONNECT_ERROR message for a namespace nobody registered (socketio.client)
UNKNOWN_NAMESPACE = "Invalid namespace"


def endpoint_of(namespace: str) -> str:
    return "" if namespace == "/" else namespace


def namespace_of(endpoint: str) -> str:
    """The namespace of a 0.9 endpoint; a query (``/chat?x=1``) is not part of it."""
    path = endpoint.partition("?")[0]
    if path in ("", "/"):
        return "/"
    return path if path.startswith("/") else "/" + path


def frames_for(packet: Packet) -> list[Frame]:
    """The 0.9 frames that say what ``packet`` says (none for an unknown namespace's refusal).

    Raises ``TypeError``/``ValueError`` for data JSON cannot carry (binary attachments)."""
    ep = endpoint_of(packet.namespace)
    ptype = packet.type
    if ptype is PacketType.EVENT or ptype is PacketType.BINARY_EVENT:
        name, *args = packet.data
        if name == "message" and len(args) == 1:
            if isinstance(args[0], str):
                return [Frame(FrameType.MESSAGE, packet.id, packet.id is not None, ep, args[0])]
            return [Frame.json(args[0], ep, packet.id)]
        return [Frame.event(name, args, ep, packet.id)]
    if ptype is PacketType.ACK or ptype is PacketType.BINARY_ACK:
        return [Frame.ack(packet.id or 0, list(packet.data or []), ep)]
    if ptype is PacketType.CONNECT:
        return [Frame(FrameType.CONNECT, endpoint=ep)]
    if ptype is PacketType.DISCONNECT:
        return [Frame(FrameType.DISCONNECT, endpoint=ep)]
    # CONNECT_ERROR
    data = packet.data
    if isinstance(data, dict) and data.get("message") == UNKNOWN_NAMESPACE:
        return []
    return [Frame.error(ErrorReason.UNAUTHORIZED, endpoint=ep)]


def packet_for(frame: Frame) -> Packet | None:
    """The v5 packet a client frame stands for; None for frames the 0.9 transport answers
    itself (heartbeat, noop, error) or that are dropped (an event named ``disconnect``).

    Raises :class:`Legacy09Error` for a frame whose data does not fit its type."""
    ftype = frame.type
    nsp = namespace_of(frame.endpoint)
    ack_id = frame.id if frame.ack_data else None
    if ftype is FrameType.EVENT:
        name, args = frame.event_body()
        if name == "disconnect":  # reserved, as the 0.9 server drops it
            return None
        return Packet(PacketType.EVENT, nsp, [name, *args], ack_id)
    if ftype is FrameType.MESSAGE:
        return Packet(PacketType.EVENT, nsp, ["message", frame.data or ""], ack_id)
    if ftype is FrameType.JSON:
        return Packet(PacketType.EVENT, nsp, ["message", frame.json_body()], ack_id)
    if ftype is FrameType.ACK:
        ident, ack_args = frame.ack_body()
        return Packet(PacketType.ACK, nsp, ack_args or [], ident)
    if ftype is FrameType.CONNECT:
        return Packet(PacketType.CONNECT, nsp)
    if ftype is FrameType.DISCONNECT:
        return Packet(PacketType.DISCONNECT, nsp)
    return None


def transport_ack(frame: Frame) -> Frame | None:
    """The transport's own ack of a frame with a bare id (``3:7::hi`` → ``6::<ep>:7``)."""
    if frame.id is not None and not frame.ack_data and frame.type in (
            FrameType.MESSAGE, FrameType.JSON, FrameType.EVENT):
        return Frame.ack(frame.id, None, frame.endpoint)
    return None


__all__ = ["Legacy09Error", "endpoint_of", "frames_for", "namespace_of", "packet_for", "transport_ack"]
