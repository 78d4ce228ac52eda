"""Helpers the tests share: plain classes and functions, imported by test modules and conftest
files alike. No tests and no fixtures here (fixtures live in the conftest.py files, which
pytest finds); a test module never imports another test module or a conftest.

``wire``          a raw HTTP/WebSocket client on a TCP socket (``Wire``, ``client_frame``, ...)
``raw_http``      one-off HTTP requests and responses read off a socket
``live``          real server processes (``LiveServer``, ``django_server``), ``ROOT``
``webtest``       what the WebTest-driven tests share (``bounded_get``)
``checks``        the hardening app's "still healthy, ran no handler" checks
``lifecycle``     the lifecycle app's ``Monitor`` and ``wait_until``
``python_client`` python-socketio's client with a recorder of events (interop tests)
``redis_peers``   redis-server processes, recording clients and the Node peer (Redis tests)
"""
