"""The interop server with Engine.IO v3 allowed: socket.io-client 2.x and 4.x side by side.

The namespaces and handlers are those of tests/apps/interop.py; ``/refuse`` refuses every
client with data, ``/refuse-plain`` with a message only.
"""

from __future__ import annotations

import wsgi_sio
from tests.apps.interop import Base, Bounce, site

sio = wsgi_sio.Server(cors_allowed_origins="*", ping_interval=5, ping_timeout=5, allow_eio3=True)
sio.register_namespace(Base, "/")
sio.register_namespace(Base, "/chat")
sio.register_namespace(Bounce, "/bounce")


@sio.namespace("/refuse")
class Refuse(wsgi_sio.Namespace):
    def on_connect(self, auth):
        raise wsgi_sio.ConnectionRefused("Not authorized", {"code": 42})


@sio.namespace("/refuse-plain")
class RefusePlain(wsgi_sio.Namespace):
    def on_connect(self, auth):
        raise wsgi_sio.ConnectionRefused("Not authorized")


application = wsgi_sio.SocketIOMiddleware(site, sio)
