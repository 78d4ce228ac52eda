"""``manage.py notify_user USERNAME TEXT``: a notice to every page one user has open.

A management command runs no Socket.IO server of its own, so it cannot emit to clients
itself: with REDIS_URL set (the multi-worker setup of gunicorn.conf.py) it publishes through
``wsgi_sio.Emitter``, and every server process delivers it to that user's sockets, which all
joined ``user_room(user)`` when they connected. Without Redis the clients live in the
``runserver_sio`` process: use the page's "Notify one user" form (the ``notify`` view)."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

import wsgi_sio
from wsgi_sio.django import user_room


class Command(BaseCommand):
    help = "Send a notice to every open chat page of one user (needs REDIS_URL)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("text")

    def handle(self, username, text, **options):
        url = os.environ.get("REDIS_URL")
        if not url:
            raise CommandError("set REDIS_URL (the servers' Redis); without it, use the chat "
                               "page's 'Notify one user' form")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        # the key the servers use (sample_site/settings.py)
        emitter = wsgi_sio.Emitter(url, key=os.environ.get("WSGI_SIO_REDIS_KEY", "socket.io"))
        try:
            emitter.of("/chat").to(user_room(user)).emit("notice", {"from": "admin", "text": text})
        finally:
            emitter.close()
        self.stdout.write(f"notice published for {username}")
