"""django-socketio's ``{% load socketio_tags %}{% socketio %}``.

While the server serves socket.io 0.9 clients (``WSGI_SIO["LEGACY_CLIENTS"]``, on under
``manage.py runserver_socketio``), the tag loads socket.io-client 0.9.16, so pages not yet
moved keep their JavaScript (``io.connect("/echo")``); otherwise socket.io-client 4.x, whose
``io.connect`` is ``io`` (``socket.on``/``socket.emit`` are the same; ``new io.Socket(...)``
is gone). Both files are installed from npm into static files by ``make setup``.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from ..server import get_server
from .wsgi_sio import socketio_client

register = template.Library()

#: socket.io-client 0.9.16's dist/socket.io.min.js (wsgi_sio/legacy09/js/package.json)
LEGACY_CLIENT = "wsgi_sio/socket.io-0.9.16.min.js"


@register.simple_tag
def socketio() -> str:
    if get_server().legacy is not None:
        return format_html('<script src="{}"></script>', static(LEGACY_CLIENT))
    return socketio_client()
