"""``manage.py runserver_sio`` on SIGTERM (issue 6, point 8), as a real process with real
clients: a WebSocket client gets the close packet and a Close frame 1001 "going away", a
handshake on an already open connection gets 503 while it drains, and it exits with 0."""

from __future__ import annotations

import http.client
import json
import signal
from urllib.parse import urlsplit

from tests.support.live import django_server
from tests.support.wire import Wire


def test_runserver_sio_closes_every_client_and_exits_0_on_sigterm():
    server = django_server("runserver_sio", "127.0.0.1:0", "--noreload")
    parts = urlsplit(server.url)
    spare = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    ws = Wire(server.url)
    try:
        assert ws.upgrade() == 101
        assert ws.recv_text().startswith('0{"sid":')
        ws.send_text("40")
        assert ws.recv_text().startswith("40{")
        # A long-polling session between two polls keeps the server draining until it polls.
        spare.request("GET", "/socket.io/?EIO=4&transport=polling")
        sid = json.loads(spare.getresponse().read()[1:])["sid"]
        server.proc.send_signal(signal.SIGTERM)
        texts = []
        while (frame := ws.recv_frame()).opcode != 0x8:
            texts.append(frame.text)
        assert texts[-1:] == ["1"], texts
        assert frame.close_code == 1001 and frame.payload[2:] == b"going away"
        ws.assert_eof()
        spare.request("GET", "/socket.io/?EIO=4&transport=polling")
        response = spare.getresponse()
        assert response.status == 503, response.read()
        response.read()
        # The idle poller has not fetched its close yet, so the server is still draining (for
        # up to close_grace, 5 s) and still accepts connections: its next GET gets the close.
        assert server.proc.poll() is None, "exited before the idle poller had its close"
        poll = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
        try:
            poll.request("GET", f"/socket.io/?EIO=4&transport=polling&sid={sid}")
            response = poll.getresponse()
            assert (response.status, response.read()) == (200, b"1")
        finally:
            poll.close()
        assert server.proc.wait(timeout=60) == 0
    finally:
        ws.close()
        spare.close()
        output = server.stop()
    assert "Traceback" not in output, output
