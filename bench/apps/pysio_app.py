"""The benchmark's handlers on python-socketio (gevent + gevent-websocket), one process.

``python bench/apps/pysio_app.py [--port 0]`` prints ``pysio: serving on http://127.0.0.1:PORT/``.
The handlers are those of ``bench/apps/wsgi_sio_app.py``: ``echo`` emits back, ``echo_ack``
answers the ack, ``bcast`` emits ``b`` to room ``all`` (which every client joins on connect).
This is python-socketio's documented gevent deployment: ``async_mode="gevent"`` served by
gevent's pywsgi with gevent-websocket's ``WebSocketHandler``.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import signal  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402

# The same heartbeat and buffer settings as the wsgi_sio app; no per-packet logging.
sio = socketio.Server(async_mode="gevent", ping_interval=25, ping_timeout=20,
                      max_http_buffer_size=1_000_000, logger=False, engineio_logger=False)


def _spread(args):
    # python-socketio sends a tuple as several arguments, anything else as one
    return args[0] if len(args) == 1 else args


@sio.event
def connect(sid, environ, auth=None):
    sio.enter_room(sid, "all")


@sio.on("echo")
def echo(sid, *args):
    sio.emit("echo", _spread(args), to=sid)


@sio.on("echo_ack")
def echo_ack(sid, *args):
    return args


@sio.on("bcast")
def bcast(sid, *args):
    sio.emit("b", _spread(args), to="all")


def site(environ, start_response):
    body = b"python-socketio bench"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = socketio.WSGIApp(sio, site)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    # log=None: no access log line per request (wsgi_sio's server logs none either)
    server = pywsgi.WSGIServer(("127.0.0.1", args.port), application,
                               handler_class=WebSocketHandler, log=None)
    server.start()
    print(f"pysio: serving on http://127.0.0.1:{server.address[1]}/", flush=True)
    stopping = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stopping.set)
    gevent.signal_handler(signal.SIGINT, stopping.set)
    stopping.wait()
    server.stop(timeout=2)


if __name__ == "__main__":
    main()
