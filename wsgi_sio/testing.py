"""A Socket.IO test client for your namespaces, in-process, through the real WSGI stack.

It speaks Engine.IO long-polling to your WSGI application with WebTest, as a browser would:
the handshake and every packet go through the middleware, the server and your handlers, so
ALLOWED_HOSTS / Origin checks, ``self.request`` and the session cookie are all exercised::

    from wsgi_sio.testing import SocketIOTestClient

    def test_chat(django_user_model):
        user = django_user_model.objects.create_user("ann", password="x")
        with SocketIOTestClient(application, "/chat", user=user) as client:
            assert client.call("say", "hi") == "ok"           # emit and wait for the ack
            client.emit("typing")                               # emit without an ack
            assert client.wait_for("message") == [{"from": "ann", "text": "hi"}]
            client.get_received()   # [{"name": ..., "args": [...], "namespace": "/chat"}]

A reader thread keeps a GET pending, as a real client does, and answers the server's pings;
what the server sends is kept until you read it. Events the server emits with a callback are
acknowledged at once, with no arguments. Wait for what you expect with ``call`` (the ack
comes after everything the handler emitted before returning) or ``wait_for`` (which takes
the event it returns: ``get_received`` will not return it again); ``get_received`` returns
what has arrived so far.

Where the handlers run. Inside a database transaction of the test's thread (Django's
``TestCase``, pytest-django's ``django_db`` without ``transaction=True``) they run on the
test's own thread, with its connection and transaction, in the order sent: each method that
talks to the server (``emit``, ``call``, ``connect``, ``disconnect``, ``wait_for``,
``get_received``) runs the handler work that is due before it returns. Otherwise (or with
``inline=False``) they run in the server's own workers, concurrently with the test, as in
production: then a test that uses the database needs ``TransactionTestCase``
(``django_db(transaction=True)``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from . import runtime
from .protocol import engineio
from .protocol.errors import ProtocolError
from .protocol.socketio import Decoder, Packet, PacketType, encode

if TYPE_CHECKING:  # Python 3.11 has typing.Self; 3.10 needs this, for type checkers only
    from typing_extensions import Self

with warnings.catch_warnings():  # WebOb still imports the deprecated ``cgi`` module
    warnings.filterwarnings("ignore", "'cgi' is deprecated", DeprecationWarning)
    import webtest

__all__ = ["ConnectError", "SocketIOTestClient"]

EIO = engineio.PacketType


class ConnectError(Exception):
    """The server refused the handshake (403 and the like) or the namespace (connect_error)."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class SocketIOTestClient:
    """One client connection to ``app`` (any WSGI app with wsgi_sio mounted).

    ``namespace``/``auth``: connect to it at once (``connect=False`` to do it yourself).
    ``headers``: extra request headers, e.g. ``{"Origin": "https://evil.example"}``.
    ``user``: a Django user to log in; its session cookie goes with every request.
    ``cookies``: more cookies. ``timeout``: how long the waiting methods wait, in seconds.
    ``inline``: run the handlers on this thread (see the module's doc); by default, when a
    Django database transaction is open on it (``TestCase``).
    """

    def __init__(self, app: Callable[..., Any], namespace: str = "/", *, auth: Any = None,
                 headers: dict[str, str] | None = None, user: Any = None,
                 cookies: dict[str, str] | None = None, path: str = "/socket.io/",
                 connect: bool = True, timeout: float = 5.0, inline: bool | None = None) -> None:
        self.app = app
        self.namespace = namespace
        self.path = "/" + path.strip("/") + "/"
        self.timeout = timeout
        self.environ = self._environ(headers or {}, dict(cookies or {}), user)
        self.eio_sid: str | None = None
        self.sids: dict[str, str] = {}
        self._cond = threading.Condition()
        self._writing = threading.Lock()  # one POST at a time, as a real client: no overlap
        self._received: list[dict[str, Any]] = []
        self._acks: dict[int, list[Any]] = {}
        self._connect_replies: dict[str, Packet] = {}
        self._next_ack = 0
        self._closed = False
        self._decoder = Decoder(max_attachments=1000)
        self._reader: threading.Thread | None = None
        self._pump: _Pump | None = None
        if inline if inline is not None else _django_in_transaction():
            self._pump = _Pump.join(self._cond)
        self._open()
        if connect:
            self.connect(namespace, auth)

    # -- connecting -----------------------------------------------------------------------------

    @staticmethod
    def _environ(headers: dict[str, str], cookies: dict[str, str], user: Any) -> dict[str, str]:
        environ = {"HTTP_HOST": "testserver"}  # Django's test host, in ALLOWED_HOSTS under tests
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
        if user is not None:
            cookies.update(_django_login_cookies(user))
        if cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return environ

    def _open(self) -> None:
        res = self._app().get(self.path, {"EIO": "4", "transport": "polling"}, expect_errors=True)
        if res.status_int != 200:
            raise ConnectError(f"handshake refused: {res.status}", _json_or_text(res.text))
        packets = engineio.decode_payload(res.text)
        if not packets or packets[0].type != EIO.OPEN:
            raise ConnectError(f"no open packet in {res.text!r}")
        self.eio_sid = json.loads(packets[0].data or "{}")["sid"]
        self._reader = threading.Thread(target=self._read, name=f"sio-test-{self.eio_sid}",
                                        daemon=True)
        self._reader.start()
        self._handle(packets[1:])

    def connect(self, namespace: str = "/", auth: Any = None) -> str:
        """Join ``namespace``; returns its Socket.IO sid or raises :class:`ConnectError`."""
        with self._cond:
            self._connect_replies.pop(namespace, None)
        self._post([Packet(PacketType.CONNECT, namespace, auth)])
        reply = self._wait(lambda: self._connect_replies.get(namespace), f"CONNECT to {namespace}")
        if reply.type == PacketType.CONNECT_ERROR:
            data = reply.data if isinstance(reply.data, dict) else {"message": reply.data}
            raise ConnectError(data.get("message", "refused"), data.get("data"))
        return self.sids[namespace]

    @property
    def sid(self) -> str | None:
        """The Socket.IO sid in the client's namespace."""
        return self.sids.get(self.namespace)

    def is_connected(self, namespace: str | None = None) -> bool:
        with self._cond:
            return not self._closed and (namespace or self.namespace) in self.sids

    def disconnect(self, namespace: str | None = None) -> None:
        """Leave ``namespace``, or with no argument close the whole connection."""
        if namespace is not None:
            if self.sids.pop(namespace, None) is not None:
                self._post([Packet(PacketType.DISCONNECT, namespace)])
            return
        if not self._closed:
            try:
                self._post_raw(engineio.encode_payload([engineio.Packet(EIO.CLOSE)]))
            except ConnectError:
                pass  # the server had already closed the connection
        if self._reader is not None:
            self._reader.join(self.timeout)
        self._run_pending()  # the disconnect handlers
        with self._cond:
            self._closed = True
            self.sids.clear()
            self._cond.notify_all()
        if self._pump is not None:
            self._pump.leave(self._cond)
            self._pump = None

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Wait for the server to end the connection; True once it has."""
        with self._cond:
            return self._cond.wait_for(lambda: self._closed, timeout or self.timeout)

    def wait_for_disconnect(self, namespace: str | None = None, timeout: float | None = None) -> bool:
        """Wait for the server to disconnect ``namespace`` (None: the client's); True once it has."""
        nsp = namespace or self.namespace
        with self._cond:
            return self._cond.wait_for(lambda: nsp not in self.sids, timeout or self.timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    # -- talking ------------------------------------------------------------------------------

    def emit(self, event: str, *args: Any, namespace: str | None = None,
             callback: bool = False) -> Any:
        """Send an event. With ``callback=True`` wait for the ack and return it (see ``call``)."""
        if callback:
            return self.call(event, *args, namespace=namespace)
        self._post([Packet(PacketType.EVENT, namespace or self.namespace, [event, *args])])
        return None

    def send(self, data: Any, namespace: str | None = None) -> None:
        self.emit("message", data, namespace=namespace)

    def call(self, event: str, *args: Any, namespace: str | None = None,
             timeout: float | None = None) -> Any:
        """Emit and wait for the acknowledgement: one argument comes back as itself, none as
        None, several as a tuple. Raises ``TimeoutError`` when none comes in time."""
        with self._cond:
            ack_id = self._next_ack
            self._next_ack += 1
        self._post([Packet(PacketType.EVENT, namespace or self.namespace, [event, *args], ack_id)])
        ack = self._wait(lambda: self._acks.pop(ack_id, None), f"the ack of {event!r}", timeout)
        return None if not ack else ack[0] if len(ack) == 1 else tuple(ack)

    def get_received(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """The events received so far in ``namespace`` (None: the client's), and forget them.

        Each is ``{"name": event, "args": [...], "namespace": namespace}``.
        """
        nsp = namespace or self.namespace
        self._run_pending()
        with self._cond:
            taken = [e for e in self._received if e["namespace"] == nsp]
            self._received = [e for e in self._received if e["namespace"] != nsp]
        return taken

    def wait_for(self, event: str, namespace: str | None = None,
                 timeout: float | None = None) -> list[Any]:
        """Wait for the next ``event`` in ``namespace`` and return its arguments.

        The event is consumed: ``get_received`` does not return it any more."""
        nsp = namespace or self.namespace

        def find() -> list[Any] | None:
            for i, item in enumerate(self._received):
                if item["name"] == event and item["namespace"] == nsp:
                    del self._received[i]
                    return item["args"]
            return None

        return self._wait(find, f"event {event!r} in {nsp}", timeout)

    # -- the wire -----------------------------------------------------------------------------

    def _app(self) -> webtest.TestApp:
        # One TestApp per request: the reader thread and the test thread never share one.
        return webtest.TestApp(self.app, extra_environ=self.environ)

    def _url(self) -> str:
        return f"{self.path}?EIO=4&transport=polling&sid={self.eio_sid}"

    def _post(self, packets: Iterable[Packet]) -> None:
        if self._closed:
            raise ConnectionError("the connection is closed")
        messages = [engineio.Packet(EIO.MESSAGE, part) for p in packets for part in encode(p)]
        self._post_raw(engineio.encode_payload(messages))

    def _post_raw(self, body: str) -> None:
        with self._writing:
            res = self._app().post(self._url(), body.encode(),
                                   content_type="text/plain;charset=UTF-8", expect_errors=True)
        self._run_pending()
        if res.status_int != 200:
            raise ConnectError(f"POST refused: {res.status}", _json_or_text(res.text))

    def _read(self) -> None:
        """The pending GET of a polling client, until the connection ends."""
        if self._pump is not None:  # an ack it posts may queue handler work: the test runs it
            runtime.send_handler_work_to(self._pump.put)
        try:
            while True:
                res = self._app().get(self._url(), expect_errors=True)
                if res.status_int != 200:
                    return
                if not self._handle(engineio.decode_payload(res.text)):
                    return
        except Exception:  # noqa: BLE001 - the app is gone (test over): nothing left to read
            return
        finally:
            with self._cond:
                self._closed = True
                self.sids.clear()
                self._cond.notify_all()

    def _handle(self, packets: list[engineio.Packet]) -> bool:
        """Take in packets from the server; False once it closed the connection."""
        for packet in packets:
            if packet.type == EIO.PING:
                self._post_raw(engineio.encode_payload([engineio.Packet(EIO.PONG)]))
            elif packet.type == EIO.CLOSE:
                return False
            elif packet.type == EIO.MESSAGE:
                try:
                    sio_packet = self._decoder.feed(packet.data if packet.data is not None else "")
                except ProtocolError as exc:
                    raise AssertionError(f"the server sent a bad packet: {exc}") from exc
                if sio_packet is not None:
                    ack = self._take(sio_packet)
                    if ack is not None:  # the server waits in call(): answer with no arguments
                        self._post([ack])
        return True

    def _take(self, packet: Packet) -> Packet | None:
        ack = None
        with self._cond:
            nsp = packet.namespace
            if packet.type == PacketType.CONNECT:
                self.sids[nsp] = packet.data["sid"]
                self._connect_replies[nsp] = packet
            elif packet.type == PacketType.CONNECT_ERROR:
                self._connect_replies[nsp] = packet
            elif packet.type in (PacketType.EVENT, PacketType.BINARY_EVENT):
                name, *args = packet.data
                if packet.id is not None:
                    ack = Packet(PacketType.ACK, nsp, [], packet.id)
                self._received.append({"name": name, "args": args, "namespace": nsp})
            elif packet.type in (PacketType.ACK, PacketType.BINARY_ACK):
                self._acks[packet.id] = packet.data  # type: ignore[index]
            elif packet.type == PacketType.DISCONNECT:
                self.sids.pop(nsp, None)
            self._cond.notify_all()
        return ack

    def _run_pending(self) -> None:
        """Inline: run the handler work that is due, here on the test's thread."""
        if self._pump is not None:
            self._pump.run()

    def _wait(self, find: Callable[[], Any], what: str, timeout: float | None = None) -> Any:
        limit = timeout or self.timeout
        deadline = time.monotonic() + limit
        found = None
        pump = self._pump

        def ready() -> bool:
            nonlocal found
            found = find()
            return found is not None or self._closed

        def due() -> bool:
            return ready() or (pump is not None and pump.has_work())

        while True:
            self._run_pending()
            with self._cond:
                if not self._cond.wait_for(due, max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"no {what} within {limit} s")
                if found is not None or self._closed:
                    break
        if found is None:
            raise ConnectionError(f"the connection closed before {what}")
        return found


class _Pump:
    """The handler work of the inline clients of one test thread, run on that thread.

    The server hands it over (``runtime.send_handler_work_to``) instead of starting a
    worker; the clients run it whenever the test calls them, and wake up for it while they
    wait."""

    _of_thread: ClassVar[dict[threading.Thread, _Pump]] = {}
    _registry: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, owner: threading.Thread) -> None:
        self.owner = owner
        self._lock = threading.Lock()
        self._work: list[Callable[[], Any]] = []
        self._listeners: list[threading.Condition] = []
        self._running = False

    @classmethod
    def join(cls, cond: threading.Condition) -> _Pump:
        owner = threading.current_thread()
        with cls._registry:
            pump = cls._of_thread.get(owner)
            if pump is None:
                pump = cls._of_thread[owner] = _Pump(owner)
                runtime.send_handler_work_to(pump.put)
            pump._listeners.append(cond)
        return pump

    def leave(self, cond: threading.Condition) -> None:
        with self._registry:
            self._listeners.remove(cond)
            if not self._listeners and self._of_thread.get(self.owner) is self:
                del self._of_thread[self.owner]
                if threading.current_thread() is self.owner:
                    runtime.send_handler_work_to(None)

    def put(self, work: Callable[[], Any]) -> None:
        """From any thread: queue ``work`` and wake the clients waiting on the owner thread."""
        with self._lock:
            self._work.append(work)
            listeners = list(self._listeners)
        for cond in listeners:
            with cond:
                cond.notify_all()

    def has_work(self) -> bool:
        return bool(self._work) and threading.current_thread() is self.owner

    def run(self) -> None:
        if threading.current_thread() is not self.owner or self._running:
            return  # the reader thread, or a handler that is running now
        self._running = True
        try:
            while True:
                with self._lock:
                    if not self._work:
                        return
                    work = self._work.pop(0)
                work()
        finally:
            self._running = False


def _django_in_transaction() -> bool:
    """Whether a Django database transaction is open on this thread (TestCase's)."""
    if "django.db" not in sys.modules:
        return False
    from django.conf import settings

    if not settings.configured:
        return False
    from django.db import connections

    return any(conn.in_atomic_block for conn in connections.all(initialized_only=True))


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _django_login_cookies(user: Any) -> dict[str, str]:
    """The session cookie of ``user`` logged in, made by Django's own test client."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
