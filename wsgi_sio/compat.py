"""gevent-socketio / django-socketio namespaces on wsgi_sio, by changing imports.

Old code keeps its shape; only the imports change::

    from socketio.namespace import BaseNamespace      ->  from wsgi_sio.compat import BaseNamespace
    from socketio.mixins import BroadcastMixin        ->  from wsgi_sio.compat import BroadcastMixin
    from django_socketio.events import Namespace      ->  from wsgi_sio.compat import Namespace

What maps to what:

* ``initialize()`` runs when the namespace object is made (once per client connection);
  ``recv_connect()`` when the client joins the namespace; ``recv_disconnect()`` when the
  connection ends for any reason but the server's own ``disconnect()``, as gevent-socketio
  called it when a socket was killed.
* ``on_<event>(*args)``: its return value answers the client's acknowledgement (a tuple
  spreads into several arguments). ``recv_message(data)`` gets ``send()``-style messages when
  there is no ``on_message``.
* ``emit``, ``send``, ``disconnect(silent=True)`` (no DISCONNECT packet to the client),
  ``error``, ``log``, ``spawn`` (greenlets killed at disconnect), ``request`` (the Django
  ``HttpRequest`` of the handshake when Django is configured), ``session`` (a dict),
  ``environ``, ``ns_name``.
* ``BroadcastMixin.broadcast_event`` goes to everyone in the namespace, this client included;
  ``broadcast_event_not_me`` to everyone else. ``RoomsMixin.join/leave/emit_to_room`` use
  wsgi_sio's rooms; ``emit_to_room`` skips this client, as it always did.

Differences that old code may notice: the protocol is Socket.IO v5; socket.io 0.9 clients
are served only when enabled (``Server(allow_legacy_09=True)``, Django's
``WSGI_SIO["LEGACY_CLIENTS"]``, on under ``runserver_socketio``); there is no ``self.socket`` object (use
``self.sid``, ``self.session``, ``self.server``); ``session`` is per namespace.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from .namespaces import Namespace as _Namespace
from .protocol.socketio import Packet, PacketType

log = logging.getLogger("wsgi_sio.compat")

__all__ = ["BaseNamespace", "BroadcastMixin", "Namespace", "RoomsMixin"]

_SERVER_DISCONNECT = "server namespace disconnect"


class BaseNamespace(_Namespace):
    """gevent-socketio's ``BaseNamespace`` API over :class:`wsgi_sio.Namespace`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs: list[Any] = []
        self.initialize()

    # -- the old hooks ------------------------------------------------------------------------

    def initialize(self) -> None:
        """Called once, when this namespace object is created for a client."""

    def recv_connect(self) -> Any:
        """The client joined this namespace. Return False to refuse it."""
        return None

    def recv_disconnect(self) -> Any:
        """The connection is over; the old default cleans up with ``disconnect(silent=True)``."""
        self.disconnect(silent=True)
        return None

    def recv_message(self, data: Any) -> Any:
        """A ``send()``-style message, when there is no ``on_message``."""
        return None

    # -- how the new server calls them --------------------------------------------------------

    def on_connect(self, auth: Any) -> Any:
        return self.recv_connect()

    def on_disconnect(self, reason: str) -> None:
        try:
            if reason != _SERVER_DISCONNECT:
                self.recv_disconnect()
        finally:
            self._kill_jobs()

    def catch_all(self, event: str, *args: Any) -> Any:
        if event == "message" and args:
            return self.recv_message(*args)
        self.error("no_such_method", f"The method {event!r} was not found", quiet=True)
        return None

    # -- the old API --------------------------------------------------------------------------

    @property
    def ns_name(self) -> str:
        return self.namespace

    @property
    def request(self) -> Any:
        """The Django ``HttpRequest`` of the handshake (with session and user), if Django is set up."""
        try:
            from django.conf import settings
        except ImportError:
            return None
        if not settings.configured:
            return None
        from .django.request import request_of

        return request_of(self)

    # gevent-socketio's signature, not the base class's: old code calls it with these names
    def send(self, message: Any, json: bool = False,  # type: ignore[override]
             callback: Callable[..., Any] | None = None) -> None:
        super().send(message, callback=callback)

    def disconnect(self, silent: bool = False) -> None:  # type: ignore[override]
        """Leave this namespace; ``silent``: without telling the client (no DISCONNECT packet)."""
        if self.connected and not silent:
            self.send_packet(Packet(PacketType.DISCONNECT, self.namespace))
        self.client.close_namespace(self, _SERVER_DISCONNECT)

    def error(self, error_name: str, error_message: str, msg_id: Any = None,
              quiet: bool = False) -> None:
        """Log an error and, unless ``quiet``, tell the client with an ``error`` event."""
        log.warning("%s: %s: %s", self.namespace, error_name, error_message)
        if not quiet:
            self.emit("error", {"name": error_name, "message": error_message})

    def log(self, message: str) -> None:
        log.info("[%s] %s", self.namespace, message)

    def spawn(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` concurrently; under gevent the greenlet is killed when the client goes."""
        job = self.server.runtime.spawn_task(functools.partial(fn, *args, **kwargs))
        self.jobs.append(job)
        return job

    def _kill_jobs(self) -> None:
        jobs, self.jobs = self.jobs, []
        for job in jobs:
            kill = getattr(job, "kill", None)
            if kill is not None:
                kill(block=False)


class BroadcastMixin:
    """``broadcast_event`` (everyone in the namespace) and ``broadcast_event_not_me``."""

    def broadcast_event(self, event: str, *args: Any) -> None:
        self.server.emit(event, *args, namespace=self.namespace)  # type: ignore[attr-defined]

    def broadcast_event_not_me(self, event: str, *args: Any) -> None:
        self.server.emit(event, *args, namespace=self.namespace,  # type: ignore[attr-defined]
                         skip_sid=self.sid)  # type: ignore[attr-defined]


class RoomsMixin:
    """``join``/``leave`` rooms and ``emit_to_room`` (everyone in it but this client)."""

    def emit_to_room(self, room: str, event: str, *args: Any) -> None:
        self.server.emit(event, *args, to=room, namespace=self.namespace,  # type: ignore[attr-defined]
                         skip_sid=self.sid)  # type: ignore[attr-defined]


def Namespace(name: str) -> Callable[[type], type]:
    """django-socketio's class decorator: ``@Namespace('/echo')`` registers the class.

    With Django configured it registers with the project's server (``wsgi_sio.django``);
    modules named ``events.py`` or ``sockets.py`` in installed apps are imported at start-up.
    """
    def register(cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(cls, _Namespace)):
            raise TypeError("@Namespace needs a BaseNamespace subclass")
        from .django.server import register_namespace

        register_namespace(cls, name)
        return cls
    return register
