"""Per-message Python cost of the WebSocket echo path, without sockets or the network.

One wsgi_sio connection of ``bench/apps/wsgi_sio_app.py`` is fed pre-masked client frames by
a fake raw connection; everything else (frame decoder, Engine.IO and Socket.IO codecs,
dispatch, the handler, encoding, the write queue) is the real code. ``PROF=1`` adds cProfile.

    .venv/bin/python bench/tools/inproc_echo.py 100000
    PROF=1 .venv/bin/python bench/tools/inproc_echo.py 100000
"""
from gevent import monkey; monkey.patch_all()
import os, sys, time, cProfile, pstats
import gevent
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from bench.apps.wsgi_sio_app import sio
from wsgi_sio.protocol import websocket as wsp
from wsgi_sio.engine.websocket import WebSocketTransport
N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
mask = os.urandom(4)
def frame(text):
    b = text.encode(); return bytes([0x81, 0x80 | len(b)]) + mask + wsp.unmask(b, mask)
msgs = [frame("40")] + [frame('42["echo","hello",{"a":1}]')] * N
class Conn:
    handshake_done = True
    def __init__(self): self.i = 0; self.out = 0
    def recv(self, n):
        if self.i >= len(msgs): return b""
        m = msgs[self.i]; self.i += 1
        if self.i % 64 == 0: gevent.sleep(0)
        return m
    def sendall(self, d): self.out += len(d)
    def send_nowait(self, d): self.out += len(d); return len(d)
    def close(self): pass
engine = sio.engine
rt = engine.runtime
conn = Conn()
ws = WebSocketTransport(conn, rt, 1_000_000)
sock = engine._new_socket("websocket", [], {})
engine.handle_connect(sock); engine._register(sock); sock.attach_websocket(ws)
prof = cProfile.Profile() if os.environ.get("PROF") else None
t0 = time.perf_counter()
if prof: prof.enable()
sock.serve_websocket(ws)
if prof: prof.disable()
dt = time.perf_counter() - t0
print(f"{dt/N*1e6:.2f} us per message, out {conn.out} bytes")
if prof: pstats.Stats(prof).sort_stats("tottime").print_stats(25)
