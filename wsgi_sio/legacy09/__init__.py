"""socket.io 0.9 clients (gevent-socketio's protocol) served beside v4/v5 ones.

Turned on with ``wsgi_sio.Server(allow_legacy_09=True)`` (Django: ``WSGI_SIO["LEGACY_CLIENTS"]``,
on by default under ``manage.py runserver_socketio``). :mod:`.server` routes ``<path>1/...``
and serves the handshake and the transports; :mod:`.socket` is one connection, shown to the
Socket.IO layer as an Engine.IO socket; :mod:`.bridge` maps v5 packets to 0.9 frames and back.
The codec is :mod:`wsgi_sio.protocol.legacy09`.
"""
