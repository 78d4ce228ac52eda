"""The room of each user: every socket a logged-in user opens joins it.

So a view, a signal, a Celery task or a management command reaches a *user*, all of their
tabs and devices on every worker, rather than one socket::

    from wsgi_sio.django import get_server, user_room
    get_server().emit("notice", data, to=user_room(request.user), namespace="/chat")

    wsgi_sio.Emitter(REDIS_URL).of("/chat").to(user_room(user)).emit("notice", data)

This module imports neither Django nor a server: a process that runs no server (with the
Emitter) names the room the same way. ``DjangoServer`` joins an authenticated socket to its
user's room before its connect handler runs (rooms are per namespace, so in each namespace
the user opens), and the socket leaves it as it leaves all its rooms.
"""

from __future__ import annotations

from typing import Any

#: what every user room's name starts with; the rest is the user's primary key
USER_ROOM_PREFIX = "wsgi_sio.user:"


def user_room(user: Any) -> str:
    """The room of ``user`` (a user object, or its primary key)."""
    pk = getattr(user, "pk", user)
    if pk is None or isinstance(pk, bool) or getattr(user, "is_anonymous", False) is True:
        raise ValueError("an anonymous user has no room")
    return f"{USER_ROOM_PREFIX}{pk}"


__all__ = ["USER_ROOM_PREFIX", "user_room"]
