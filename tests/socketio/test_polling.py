"""Socket.IO v5 over Engine.IO long-polling, driven with WebTest (PROTOCOL-NOTES §2.2–2.5).

Handlers run in each connection's ordered worker thread, so a test learns that one ran by
waiting on a queue it writes to, and that one did *not* run by waiting for a later handler
of the same connection (the disconnect): the worker runs them in order.
"""

from __future__ import annotations

import json
import queue
import re
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():  # WebOb still imports the deprecated ``cgi`` module
    warnings.filterwarnings("ignore", "'cgi' is deprecated", DeprecationWarning)
    import webtest

import wsgi_sio
from tests.support.webtest import bounded_get

PATH = "/socket.io/"
WAIT = 5.0
SID = re.compile(r"[A-Za-z0-9_-]{20}")


class Client:
    """A Socket.IO client over polling, as far as these tests need one."""

    def __init__(self, app: webtest.TestApp) -> None:
        self.app = app
        res = app.get(PATH + "?EIO=4&transport=polling")
        assert res.text[0] == "0"
        self.sid = json.loads(res.text[1:])["sid"]
        self.url = f"{PATH}?EIO=4&transport=polling&sid={self.sid}"
        self.buffer: list[str] = []

    def post(self, *packets: str) -> None:
        res = self.app.post(self.url, "\x1e".join(packets), content_type="text/plain;charset=UTF-8")
        assert res.body == b"ok"

    def get(self, timeout: float = WAIT) -> webtest.TestResponse:
        """One GET, which may block, run in a thread bounded by ``timeout``."""
        return bounded_get(self.app, self.url, timeout, expect_errors=True)

    def receive(self, count: int = 1) -> list[str]:
        """The next ``count`` Engine.IO packets, over as many GETs as it takes."""
        while len(self.buffer) < count:
            res = self.get()
            assert res.status_int == 200, res.text
            self.buffer += res.text.split("\x1e")
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def receive_one(self) -> str:
        return self.receive(1)[0]

    def connect(self, nsp: str = "/", auth: Any = None) -> str:
        """CONNECT and return the Socket.IO sid from the reply."""
        prefix = "" if nsp == "/" else nsp + ","
        self.post("40" + prefix + (json.dumps(auth, separators=(",", ":")) if auth is not None else ""))
        reply = self.receive_one()
        assert reply.startswith("40" + prefix), reply
        body = json.loads(reply[len("40" + prefix):])
        assert list(body) == ["sid"]
        return body["sid"]

    def ended(self) -> bool:
        """True when the connection is over: GET gives the close packet or an unknown sid."""
        res = self.get()
        if res.status_int == 400:
            return json.loads(res.text) == {"code": 1, "message": "Session ID unknown"}
        return res.text.split("\x1e")[-1] == "1"


class Calls:
    """What the handlers saw, to wait on from the test thread."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[Any, ...]] = queue.Queue()

    def put(self, *item: Any) -> None:
        self.queue.put(item)

    def get(self) -> tuple[Any, ...]:
        return self.queue.get(timeout=WAIT)

    def rest(self) -> list[tuple[Any, ...]]:
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def sio(calls: Calls):
    server = wsgi_sio.Server(async_mode="threading")

    @server.on("connect")
    def connect(socket: wsgi_sio.Namespace, auth: Any) -> None:
        calls.put("connect", "/", socket.sid, auth)

    @server.on("disconnect")
    def disconnect(socket: wsgi_sio.Namespace, reason: str) -> None:
        calls.put("disconnect", "/", socket.sid, reason)

    @server.on("ping")
    def ping(socket: wsgi_sio.Namespace, n: int) -> Any:
        calls.put("ping", n)
        return {"pong": n + 1}

    @server.on("pair")
    def pair(socket: wsgi_sio.Namespace, a: Any, b: Any) -> Any:
        return b, a  # a tuple: several acknowledgement arguments

    @server.on("bin")
    def binary(socket: wsgi_sio.Namespace, data: Any) -> Any:
        calls.put("bin", data)
        return data + b"\x04"

    @server.on("boom")
    def boom(socket: wsgi_sio.Namespace) -> None:
        calls.put("boom")
        raise RuntimeError("handler failure (expected by the test)")

    @server.on("join")
    def join(socket: wsgi_sio.Namespace, room: str) -> str:
        socket.join(room)
        return room

    @server.on("*")
    def anything(socket: wsgi_sio.Namespace, event: Any, *args: Any) -> None:
        calls.put("catch-all", event, *args)

    @server.namespace("/chat")
    class Chat(wsgi_sio.Namespace):
        def on_connect(self, auth: Any) -> None:
            calls.put("connect", "/chat", self.sid, auth)
            if not isinstance(auth, dict) or auth.get("token") != "s3cret":
                raise wsgi_sio.ConnectionRefused("login first", {"code": 401})
            self.emit("welcome", {"user": auth["user"]})
            self.name = auth["user"]  # state on self belongs to this connection

        def on_hello(self, *args: Any) -> str:
            calls.put("hello", self.sid, *args)
            return f"hello {self.name}"

        def on_set(self, value: Any) -> None:
            self.value = value

        def on_get(self) -> Any:
            return getattr(self, "value", None)

        def on_disconnect(self, reason: str) -> None:
            calls.put("disconnect", "/chat", self.sid, reason)

    yield server
    server.shutdown()


@pytest.fixture
def app(sio: wsgi_sio.Server) -> webtest.TestApp:
    return webtest.TestApp(sio)


@pytest.fixture
def client(app: webtest.TestApp) -> Client:
    return Client(app)


# -- connecting ---------------------------------------------------------------------------------


def test_connect_to_main_namespace(client: Client, calls: Calls) -> None:
    client.post("40")
    reply = client.receive_one()
    match = re.fullmatch(r'40\{"sid":"([A-Za-z0-9_-]{20})"\}', reply)
    assert match is not None, reply
    sio_sid = match.group(1)
    assert sio_sid != client.sid  # the Socket.IO id is not the Engine.IO id
    assert calls.get() == ("connect", "/", sio_sid, None)


def test_connect_with_auth_reply_comes_before_what_on_connect_emits(client: Client, calls: Calls) -> None:
    client.post('40/chat,{"token":"s3cret","user":"ann"}')
    reply, welcome = client.receive(2)
    match = re.fullmatch(r'40/chat,\{"sid":"([A-Za-z0-9_-]{20})"\}', reply)
    assert match is not None, reply
    assert welcome == '42/chat,["welcome",{"user":"ann"}]'
    assert calls.get() == ("connect", "/chat", match.group(1), {"token": "s3cret", "user": "ann"})


def test_connect_refused_with_message_and_data(client: Client, calls: Calls) -> None:
    client.post('40/chat,{"token":"wrong","user":"eve"}')
    assert client.receive_one() == '44/chat,{"message":"login first","data":{"code":401}}'
    # The connection stays usable after a refusal.
    client.post('40/chat,{"token":"s3cret","user":"eve"}')
    reply, welcome = client.receive(2)
    assert reply.startswith('40/chat,{"sid":"')
    assert welcome == '42/chat,["welcome",{"user":"eve"}]'


def test_connect_without_auth_is_refused_and_on_connect_saw_none(client: Client, calls: Calls) -> None:
    client.post("40/chat,")
    assert client.receive_one() == '44/chat,{"message":"login first","data":{"code":401}}'
    kind, nsp, _sid, auth = calls.get()
    assert (kind, nsp, auth) == ("connect", "/chat", None)


def test_unknown_namespace_is_connect_error_and_connection_stays(client: Client) -> None:
    client.post("40/nope,")
    assert client.receive_one() == '44/nope,{"message":"Invalid namespace"}'
    assert SID.fullmatch(client.connect("/"))


def test_two_namespaces_on_one_connection(client: Client) -> None:
    main = client.connect("/")
    chat = client.connect("/chat", {"token": "s3cret", "user": "bob"})
    assert client.receive_one() == '42/chat,["welcome",{"user":"bob"}]'
    assert main != chat
    client.post('42/chat,1["hello"]', '421["ping",5]')
    assert client.receive(2) == ['43/chat,1["hello bob"]', '431[{"pong":6}]']


# -- events and acknowledgements ----------------------------------------------------------------


def test_event_with_ack(client: Client, calls: Calls) -> None:
    client.connect()
    calls.get()
    client.post('421["ping",1]')
    assert client.receive_one() == '431[{"pong":2}]'
    assert calls.get() == ("ping", 1)


def test_ack_with_several_arguments_and_large_id(client: Client) -> None:
    client.connect()
    client.post('4212345["pair","a",{"b":[1,true,null]}]')
    assert client.receive_one() == '4312345[{"b":[1,true,null]},"a"]'


def test_event_without_ack_id_gets_no_ack(client: Client, calls: Calls) -> None:
    client.connect()
    calls.get()
    client.post('42["ping",7]', '422["ping",8]')
    assert calls.get() == ("ping", 7)
    assert calls.get() == ("ping", 8)
    assert client.receive_one() == '432[{"pong":9}]'


def test_unicode_is_sent_unescaped(client: Client) -> None:
    client.connect("/chat", {"token": "s3cret", "user": "zoë ☃"})
    assert client.receive_one() == '42/chat,["welcome",{"user":"zoë ☃"}]'


def test_binary_event_reaches_the_handler_as_bytes(client: Client, calls: Calls) -> None:
    client.connect()
    calls.get()
    client.post('451-["bin",{"_placeholder":true,"num":0}]', "bAQID")
    assert calls.get() == ("bin", b"\x01\x02\x03")


def test_binary_ack(client: Client, calls: Calls) -> None:
    client.connect()
    client.post('451-7["bin",{"_placeholder":true,"num":0}]', "bAQID")
    assert client.receive(2) == ['461-7[{"_placeholder":true,"num":0}]', "bAQIDBA=="]


def test_catch_all_gets_unhandled_events_and_numeric_names(client: Client, calls: Calls) -> None:
    client.connect()
    calls.get()
    client.post('42["whatever",1,"two"]', "42[42]")
    assert calls.get() == ("catch-all", "whatever", 1, "two")
    assert calls.get() == ("catch-all", 42)


def test_a_handler_that_raises_keeps_the_connection(client: Client, calls: Calls) -> None:
    client.connect()
    calls.get()
    client.post('423["boom"]')
    assert calls.get() == ("boom",)
    client.post('424["ping",3]')
    assert client.receive_one() == '434[{"pong":4}]'  # no ack for the failed event first


def test_state_on_self_is_per_connection(app: webtest.TestApp) -> None:
    ann, bob = Client(app), Client(app)
    ann.connect("/chat", {"token": "s3cret", "user": "ann"})
    bob.connect("/chat", {"token": "s3cret", "user": "bob"})
    assert ann.receive_one() == '42/chat,["welcome",{"user":"ann"}]'
    assert bob.receive_one() == '42/chat,["welcome",{"user":"bob"}]'
    ann.post('42/chat,["set","A"]')
    bob.post('42/chat,1["set","B"]')
    ann.post('42/chat,2["get"]', '42/chat,3["hello"]')
    bob.post('42/chat,2["get"]', '42/chat,3["hello"]')
    assert ann.receive(2) == ['43/chat,2["A"]', '43/chat,3["hello ann"]']
    # A handler returning None still acknowledges, with no arguments.
    assert bob.receive(3) == ['43/chat,1[]', '43/chat,2["B"]', '43/chat,3["hello bob"]']


# -- invalid packets close the connection (§2.3) ------------------------------------------------


@pytest.mark.parametrize("packet", [
    "4abc",                  # unknown Socket.IO packet type
    "49",                    # unknown packet type digit
    "42{}",                  # EVENT payload not an array
    "42[]",                  # EVENT without a name
    '42["connect"]',         # reserved event name
    '42["disconnect","x"]',  # reserved event name
    "42abc[\"ping\",1]",     # bad JSON
    '42/chat,["hello"]',     # EVENT for a namespace not connected
    "41/chat,",              # DISCONNECT for a namespace not connected
    '44{"message":"x"}',     # CONNECT_ERROR from a client
    "40",                    # second CONNECT for /
    "bAQID",                 # binary message no attachment is expected for
])
def test_bad_packet_closes_the_connection(client: Client, calls: Calls, packet: str) -> None:
    sio_sid = client.connect()
    assert calls.get()[0] == "connect"
    client.post(packet)
    assert client.ended()
    # The disconnect runs after anything queued before it on this connection's worker, so
    # once it is seen, no handler for the bad packet can still come.
    assert calls.get() == ("disconnect", "/", sio_sid, "parse error")
    assert calls.rest() == []


def test_bad_packet_in_the_middle_of_a_payload_stops_there(client: Client, calls: Calls) -> None:
    sio_sid = client.connect()
    calls.get()
    client.post('42["ping",1]', "42{}", '42["ping",2]')
    assert client.ended()
    assert calls.get() == ("ping", 1)
    assert calls.get() == ("disconnect", "/", sio_sid, "parse error")
    assert calls.rest() == []


def test_event_before_any_connect_closes_the_connection(client: Client, calls: Calls) -> None:
    client.post('42["ping",1]')
    assert client.ended()
    assert calls.rest() == []


# -- disconnect (§2.5) ------------------------------------------------------------------------------


def test_client_disconnect_gets_no_reply_and_runs_on_disconnect(client: Client, calls: Calls,
                                                                 sio: wsgi_sio.Server) -> None:
    chat = client.connect("/chat", {"token": "s3cret", "user": "ann"})
    assert client.receive_one().startswith('42/chat,["welcome"')
    calls.get()
    client.post("41/chat,")
    assert calls.get() == ("disconnect", "/chat", chat, "client namespace disconnect")
    assert sio.get_socket(chat, "/chat") is None
    # The Engine.IO connection stays, and nothing was sent for the DISCONNECT: the next thing
    # the client receives is what the server sends now.
    sio.engine.sockets[client.sid].send("marker")
    assert client.receive_one() == "4marker"
    # It can connect again.
    client.post('40/chat,{"token":"s3cret","user":"ann"}')
    assert client.receive_one().startswith('40/chat,{"sid":"')


def test_main_namespace_disconnect(client: Client, calls: Calls, sio: wsgi_sio.Server) -> None:
    sio_sid = client.connect()
    calls.get()
    client.post("41")
    assert calls.get() == ("disconnect", "/", sio_sid, "client namespace disconnect")
    sio.engine.sockets[client.sid].send("marker")
    assert client.receive_one() == "4marker"


def test_engine_close_disconnects_every_namespace(client: Client, calls: Calls) -> None:
    main = client.connect()
    chat = client.connect("/chat", {"token": "s3cret", "user": "ann"})
    assert client.receive_one().startswith('42/chat,["welcome"')
    calls.get(), calls.get()
    client.post("1")
    seen = {calls.get(), calls.get()}
    assert seen == {("disconnect", "/", main, "transport close"),
                    ("disconnect", "/chat", chat, "transport close")}


def test_server_disconnect_sends_disconnect_packet(client: Client, calls: Calls,
                                                   sio: wsgi_sio.Server) -> None:
    sio_sid = client.connect()
    calls.get()
    sio.disconnect(sio_sid)
    assert client.receive_one() == "41"
    assert calls.get() == ("disconnect", "/", sio_sid, "server namespace disconnect")


# -- rooms and emitting from the server --------------------------------------------------------------


def test_emit_to_room_reaches_members_only_and_skip_sid_excludes(app: webtest.TestApp,
                                                                 sio: wsgi_sio.Server) -> None:
    ann, bob, cat = Client(app), Client(app), Client(app)
    sids = {c: c.connect() for c in (ann, bob, cat)}
    for c in (ann, bob):
        c.post('421["join","lobby"]')
        assert c.receive_one() == '431["lobby"]'

    sio.emit("news", "to the lobby", to="lobby")
    sio.emit("news", "not to ann", room="lobby", skip_sid=sids[ann])
    sio.emit("news", {"to": "cat"}, to=sids[cat])
    sio.emit("end")  # to everyone: marks the end of what each client should get
    assert ann.receive(2) == ['42["news","to the lobby"]', '42["end"]']
    assert bob.receive(3) == ['42["news","to the lobby"]', '42["news","not to ann"]', '42["end"]']
    assert cat.receive(2) == ['42["news",{"to":"cat"}]', '42["end"]']


def test_emit_to_namespace_and_binary_broadcast(app: webtest.TestApp, sio: wsgi_sio.Server) -> None:
    main_only, both = Client(app), Client(app)
    main_only.connect()
    both.connect()
    both.connect("/chat", {"token": "s3cret", "user": "bo"})
    assert both.receive_one().startswith('42/chat,["welcome"')
    sio.emit("file", b"\x00\xff", namespace="/chat")
    sio.emit("end")
    assert both.receive(3) == ['451-/chat,["file",{"_placeholder":true,"num":0}]', "bAP8=", '42["end"]']
    assert main_only.receive(1) == ['42["end"]']


def test_server_emit_with_callback_gets_the_client_ack(client: Client, sio: wsgi_sio.Server) -> None:
    sio_sid = client.connect()
    got: queue.Queue[tuple[Any, ...]] = queue.Queue()
    sio.emit("question", "why?", to=sio_sid, callback=lambda *a: got.put(a))
    assert client.receive_one() == '420["question","why?"]'
    client.post('430["because",42]')
    assert got.get(timeout=WAIT) == ("because", 42)
