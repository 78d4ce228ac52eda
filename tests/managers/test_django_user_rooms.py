"""A user's room across processes: a Django server with the Redis manager joins each
logged-in user's sockets to ``user_room(user)``, and an Emitter in a process with no server
reaches exactly those sockets (the room's name needs no server to be made)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import wsgi_sio
from wsgi_sio.django import build_server, user_room
from wsgi_sio.testing import SocketIOTestClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


@pytest.fixture
def redis_app(redis_url: str, key: str, settings: Any) -> Iterator[Any]:
    from django.core.wsgi import get_wsgi_application

    manager = wsgi_sio.RedisManager(redis_url, key=key)
    settings.WSGI_SIO = {"MANAGER": manager, "ASYNC_MODE": "threading"}
    server = build_server()  # the test project's namespaces (tests/django/sockapp)
    app = wsgi_sio.SocketIOMiddleware(get_wsgi_application(), server)
    try:
        yield app, manager
    finally:
        manager.close()


def test_the_emitter_reaches_every_socket_of_one_user(redis_app, redis_url, key, django_user_model):
    app, manager = redis_app
    ann = django_user_model.objects.create_user("ann", password="x")
    bob = django_user_model.objects.create_user("bob", password="x")
    emitter = wsgi_sio.Emitter(redis_url, key=key).of("/private")
    try:
        with SocketIOTestClient(app, "/private", user=ann) as tab1, \
                SocketIOTestClient(app, "/private", user=ann) as tab2, \
                SocketIOTestClient(app, "/private", user=bob) as other:
            assert manager.wait_ready(10)
            emitter.to(user_room(ann)).emit("notice", {"for": "ann"}, b"\x01")
            emitter.to(user_room(bob.pk)).emit("notice", {"for": "bob"})
            assert tab1.wait_for("notice") == [{"for": "ann"}, b"\x01"]
            assert tab2.wait_for("notice") == [{"for": "ann"}, b"\x01"]
            # one Redis channel per room, read by one listener: bob's in the order published
            assert other.wait_for("notice") == [{"for": "bob"}]
            assert other.get_received() == []
    finally:
        emitter.close()
