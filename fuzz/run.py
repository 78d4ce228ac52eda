"""Atheris harness for wsgi_sio's decoders (issue 6, point 10); not part of CI.

    python fuzz/run.py [seconds per target, default 60]

installs atheris into the venv if missing, then fuzzes each target in its own process:
the WebSocket frame decoder, the Engine.IO packet and payload decoders, the Socket.IO
decoder, the HTTP query parser and the request-header parser. Anything raised other than
the protocol's own errors is a crash (atheris prints the input and exits non-zero).
"""

from __future__ import annotations

import io
import subprocess
import sys


def _target(name: str):
    from wsgi_sio.engine.http import parse_query
    from wsgi_sio.green import RequestHeaders
    from wsgi_sio.protocol import engineio
    from wsgi_sio.protocol.errors import EngineIOError, SocketIOError, WebSocketError
    from wsgi_sio.protocol.socketio import Decoder
    from wsgi_sio.protocol.websocket import FrameDecoder

    def frames(data: bytes) -> None:
        decoder = FrameDecoder(max_message_size=4096)
        try:
            for i in range(0, len(data), 7):
                decoder.feed(data[i:i + 7])
        except WebSocketError:
            pass

    def engine(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        for fn, arg in ((engineio.decode_payload, text), (engineio.decode_packet, text),
                        (engineio.decode_packet, data)):
            try:
                fn(arg)
            except EngineIOError:
                pass

    def socketio(data: bytes) -> None:
        decoder = Decoder(max_attachments=3)
        for part in data.split(b"\x1e"):
            message = part[1:] if part[:1] == b"b" else part.decode("utf-8", "replace")
            try:
                decoder.feed(message)
            except SocketIOError:
                pass

    def query(data: bytes) -> None:
        try:
            parse_query(data.decode("latin-1"))
        except ValueError:
            pass

    def headers(data: bytes) -> None:
        RequestHeaders(io.BytesIO(data))

    return {"frames": frames, "engineio": engine, "socketio": socketio, "query": query,
            "headers": headers}[name]


TARGETS = ["frames", "engineio", "socketio", "query", "headers"]


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--target":
        import atheris

        with atheris.instrument_imports():
            fn = _target(sys.argv[2])
        atheris.Setup([sys.argv[0], *sys.argv[3:]], fn)
        atheris.Fuzz()
        return 0
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    try:
        import atheris  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "atheris"], check=True)
    failed = []
    for name in TARGETS:
        print(f"== {name}: {seconds} s", flush=True)
        rc = subprocess.run([sys.executable, __file__, "--target", name, f"-max_total_time={seconds}",
                             "-max_len=4096", "-print_final_stats=1"]).returncode
        if rc:
            failed.append(name)
    print("crashes in: " + ", ".join(failed) if failed else "no crashes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
