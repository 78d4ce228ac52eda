"""ALLOWED_HOSTS and Origin (own site, CSRF_TRUSTED_ORIGINS) on every Socket.IO request:
refused with 403 / code 4 before any handler runs."""

import json
import warnings

import pytest

from wsgi_sio.testing import ConnectError, SocketIOTestClient

from .sockapp.sockets import seen

with warnings.catch_warnings():  # WebOb still imports the deprecated ``cgi`` module
    warnings.filterwarnings("ignore", "'cgi' is deprecated", DeprecationWarning)
    import webtest

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


@pytest.fixture
def app(application):
    return application


def refusal(res):
    assert res.status_int == 403
    return json.loads(res.text)


@pytest.mark.parametrize("host", ["evil.example", "testserver.evil.example", ""])
def test_host_outside_allowed_hosts_is_refused(app, host):
    res = webtest.TestApp(app).get(HANDSHAKE, headers={"Host": host}, expect_errors=True)
    body = refusal(res)
    assert body["code"] == 4 and "ALLOWED_HOSTS" in body["message"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://testserver.evil.example",
                                    "null", "https://friends.example.evil.example"])
def test_foreign_origin_is_refused(app, origin):
    with pytest.raises(ConnectError) as info:
        SocketIOTestClient(app, "/private", headers={"Origin": origin})
    assert info.value.data["code"] == 4
    assert "CSRF_TRUSTED_ORIGINS" in info.value.data["message"]
    assert seen.empty()   # no handler ran


def test_websocket_upgrade_is_refused_before_the_101(app):
    res = webtest.TestApp(app).get("/socket.io/?EIO=4&transport=websocket", headers={
        "Host": "testserver", "Origin": "https://evil.example", "Connection": "Upgrade",
        "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, expect_errors=True)
    assert refusal(res)["code"] == 4


def test_polling_post_of_an_open_session_is_checked_too(app):
    test_app = webtest.TestApp(app, extra_environ={"HTTP_HOST": "testserver"})
    sid = json.loads(test_app.get(HANDSHAKE).text[1:])["sid"]
    res = test_app.post(f"{HANDSHAKE}&sid={sid}", b"40/private,", headers={"Origin": "https://evil.example"},
                        content_type="text/plain;charset=UTF-8", expect_errors=True)
    assert refusal(res)["code"] == 4
    assert seen.empty()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin", [None, "http://testserver", "https://trusted.example",
                                    "https://a.friends.example", "https://friends.example"])
def test_own_and_trusted_origins_and_no_origin_pass(app, origin, django_user_model):
    user = django_user_model.objects.create_user("ann", password="x")
    headers = {"Origin": origin} if origin else {}
    with SocketIOTestClient(app, "/private", headers=headers, user=user) as client:
        assert client.call("whoami")["user"] == "ann"
    assert seen.get(timeout=5) == ("connect", origin)


def test_https_site_behind_a_proxy(app, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    ok = webtest.TestApp(app).get(HANDSHAKE, headers={
        "Host": "site.example", "Origin": "https://site.example", "X-Forwarded-Proto": "https"})
    assert ok.text.startswith("0{")
    res = webtest.TestApp(app).get(HANDSHAKE, headers={
        "Host": "site.example", "Origin": "http://site.example", "X-Forwarded-Proto": "https"},
        expect_errors=True)
    assert refusal(res)["code"] == 4
