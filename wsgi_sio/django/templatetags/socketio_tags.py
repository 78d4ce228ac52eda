"""django-socketio's ``{% load socketio_tags %}{% socketio %}``, now socket.io-client 4.x.

Pages keep their template tag; their JavaScript moves to the 4.x client API
(``io("/echo")`` instead of ``new io.Socket(...)``).
"""

from __future__ import annotations

from django import template

from .wsgi_sio import socketio_client

register = template.Library()


@register.simple_tag
def socketio() -> str:
    return socketio_client()
