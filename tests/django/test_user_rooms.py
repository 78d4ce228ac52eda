"""A user's room: every socket a logged-in user opens joins ``user_room(user)``, so an emit
to it reaches all of that user's sockets and nobody else's (Redis and the Emitter:
tests/managers/test_django_user_rooms.py)."""

import pytest

from wsgi_sio.django import get_server, user_room
from wsgi_sio.django.rooms import USER_ROOM_PREFIX
from wsgi_sio.testing import SocketIOTestClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_room_name_needs_no_server_and_no_anonymous_user(django_user_model):
    from django.contrib.auth.models import AnonymousUser

    ann = django_user_model(pk=7, username="ann")
    assert user_room(ann) == user_room(7) == USER_ROOM_PREFIX + "7"
    with pytest.raises(ValueError, match="anonymous"):
        user_room(AnonymousUser())


def test_an_emit_to_a_user_room_reaches_exactly_that_users_sockets(application, django_user_model):
    ann = django_user_model.objects.create_user("ann", password="x")
    bob = django_user_model.objects.create_user("bob", password="x")
    with SocketIOTestClient(application, "/private", user=ann) as tab1, \
            SocketIOTestClient(application, "/private", user=ann) as tab2, \
            SocketIOTestClient(application, "/private", user=bob) as other:
        server = get_server()
        assert user_room(ann) in server.rooms(tab1.sid, "/private")
        server.emit("notice", {"for": "ann"}, to=user_room(ann), namespace="/private")
        # then one for bob: each socket gets its events in order, so bob's first notice
        # would be ann's if hers had reached him
        server.emit("notice", {"for": "bob"}, to=user_room(bob), namespace="/private")
        assert tab1.wait_for("notice") == [{"for": "ann"}]
        assert tab2.wait_for("notice") == [{"for": "ann"}]
        assert other.wait_for("notice") == [{"for": "bob"}]
        assert other.get_received() == []
        tab1.disconnect()
        server.emit("notice", "again", to=user_room(ann), namespace="/private")
        assert tab2.wait_for("notice") == ["again"]


def test_anonymous_sockets_join_no_user_room(application):
    with SocketIOTestClient(application, "/") as client:
        rooms = get_server().rooms(client.sid, "/")
    assert not [room for room in rooms if room.startswith(USER_ROOM_PREFIX)]
