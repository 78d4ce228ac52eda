"""``{% load wsgi_sio %}{% socketio_client %}``: the socket.io-client script, from static files.

The file is ``wsgi_sio/socket.io.min.js`` in Django's staticfiles (socket.io-client 4.x, in
the wheel and sdist; fetched from npm by ``make setup`` in a checkout; the system check
``wsgi_sio.W001`` says when it is missing), so ``{% static "wsgi_sio/socket.io.min.js" %}``
works too.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()

CLIENT = "wsgi_sio/socket.io.min.js"


@register.simple_tag
def socketio_client() -> str:
    """A ``<script>`` tag loading socket.io-client (global ``io``)."""
    return format_html('<script src="{}"></script>', static(CLIENT))


@register.simple_tag
def socketio_client_url() -> str:
    return static(CLIENT)
