"""The events.py of the old django-socketio tutorial; only the three imports changed."""

from wsgi_sio.compat import BaseNamespace
from wsgi_sio.compat import Namespace
from wsgi_sio.compat import BroadcastMixin


@Namespace('/echo')
class EchoNamespace(BaseNamespace, BroadcastMixin):
    nicknames = []

    def initialize(self):
        pass

    def on_echo(self, echo):
        self.broadcast_event('echo', echo)

    def recv_disconnect(self):
        self.log('Disconnected')
        self.disconnect(silent=True)
        return True
