"""The app the cluster tests run in several worker processes (gunicorn ``-w N``, several
gunicorns behind nginx): every answer says which process gave it, so a test can see that the
requests of one session reached different workers and that the session still worked.

* ``echo_ack(*args)`` answers ``{"args": args, "pid": pid}``; ``whoami`` the pid; ``stats``
  the engine's counters (``sio.engine.stats()``) and the pid, answered by the session's owner.
* ``join(room)`` and ``to(room, event, *args)``: rooms and broadcasts, across processes with
  the Redis manager.
* Every HTTP answer, Socket.IO's included, carries ``X-Worker-Pid``; any other path answers
  the pid as text.

The Redis manager is used when ``REDIS_URL`` is set (channel prefix ``WSGI_SIO_REDIS_KEY``, so
tests sharing a Redis never hear each other); otherwise each process has its own rooms.
"""

from __future__ import annotations

import os

import wsgi_sio

if os.environ.get("REDIS_URL"):
    manager = wsgi_sio.RedisManager(os.environ["REDIS_URL"],
                                    key=os.environ.get("WSGI_SIO_REDIS_KEY", "socket.io"),
                                    requests_timeout=5)
else:
    manager = None
sio = wsgi_sio.Server(cors_allowed_origins="*", ping_interval=5, ping_timeout=5, manager=manager)


class Cluster(wsgi_sio.Namespace):
    def on_echo_ack(self, *args):
        return {"args": list(args), "pid": os.getpid()}

    def on_whoami(self):
        return os.getpid()

    def on_stats(self):
        return {**sio.engine.stats(), "pid": os.getpid()}

    def on_ready(self):
        """With the Redis manager: waits until this process listens on Redis (a broadcast
        sent before that would not reach the process's clients)."""
        ready = manager.wait_ready(10) if manager is not None else True
        return {"ready": ready, "pid": os.getpid()}

    def on_join(self, room):
        self.join(room)
        return {"rooms": sorted(self.rooms - {self.sid}), "pid": os.getpid()}

    def on_to(self, room, event, *args):
        self.server.emit(event, *args, to=room, namespace=self.namespace)
        return os.getpid()


sio.register_namespace(Cluster, "/")


def site(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class WithWorkerPid:
    """Adds ``X-Worker-Pid`` to every answer that goes through ``start_response``.

    The wrapper keeps ``__self__``, the pywsgi handler that ``start_response`` is bound to:
    wsgi_sio finds the connection through it (the WebSocket upgrade, handing a request to its
    owner), as gevent-websocket's ``start_response`` and wsgi_sio's own wrappers keep it. And
    it keeps the application it wraps as ``app``, the way ``python -m wsgi_sio`` finds the
    Engine.IO server to close gracefully on SIGTERM."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)

        if hasattr(start_response, "__self__"):
            start.__self__ = start_response.__self__
        return self.app(environ, start)


application = WithWorkerPid(wsgi_sio.SocketIOMiddleware(site, sio))
