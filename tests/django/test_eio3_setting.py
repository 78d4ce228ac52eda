"""WSGI_SIO["ALLOW_EIO3"]: off by default, and it reaches the engine."""

from django.test import override_settings

from wsgi_sio.django import build_server


def test_eio3_is_off_by_default():
    assert build_server().engine.allow_eio3 is False


@override_settings(WSGI_SIO={"ALLOW_EIO3": True})
def test_allow_eio3_reaches_the_engine():
    assert build_server().engine.allow_eio3 is True
