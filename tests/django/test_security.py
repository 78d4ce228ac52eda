"""ALLOWED_HOSTS and Origin (own site, CSRF_TRUSTED_ORIGINS) on every Socket.IO request:
refused with 403 / code 4 before any handler runs."""

import io
import json
import warnings

import pytest

from wsgi_sio.django.security import origin_trusted
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


# -- the Origin rules themselves, form by form -------------------------------------------------
#
# Each row: one CSRF_TRUSTED_ORIGINS entry, an Origin, and whether it is trusted. The site
# itself is another host, so only the entry can let the Origin in. Django compares exact
# entries as strings and wildcard entries by scheme plus ``is_same_domain`` on host:port, so
# a port spelled out (even the default one, which browsers never send) is another origin.

TRUSTED_CASES = [
    # exact origin
    ("https://trusted.example", "https://trusted.example", True),
    ("https://trusted.example", "http://trusted.example", False),            # scheme downgrade
    ("https://trusted.example", "https://trusted.example.evil.example", False),  # prefix spoof
    ("https://trusted.example", "https://trusted.example.", False),
    ("https://trusted.example", "https://trusted.example/", False),
    ("https://trusted.example", "https://trusted.exampl", False),            # a prefix of it
    ("https://trusted.example", "https://eviltrusted.example", False),       # suffix spoof
    ("https://trusted.example", "https://a.trusted.example", False),         # no wildcard
    ("https://trusted.example", "https://trusted.example:443", False),       # default port
    ("https://trusted.example", "https://trusted.example:8443", False),
    # exact origin with an explicit port
    ("https://trusted.example:8443", "https://trusted.example:8443", True),
    ("https://trusted.example:8443", "http://trusted.example:8443", False),
    ("https://trusted.example:8443", "https://trusted.example", False),
    ("https://trusted.example:8443", "https://trusted.example:443", False),
    ("https://trusted.example:8443", "https://trusted.example:84430", False),
    ("https://trusted.example:8443", "https://trusted.example:844", False),
    # plain http, default port 80
    ("http://plain.example", "http://plain.example", True),
    ("http://plain.example", "https://plain.example", False),                # scheme differs
    ("http://plain.example", "http://plain.example:80", False),
    ("http://plain.example", "http://plain.example:8080", False),
    ("http://plain.example", "http://plain.example.evil.example", False),
    # wildcard subdomains
    ("https://*.friends.example", "https://a.friends.example", True),
    ("https://*.friends.example", "https://a.b.friends.example", True),
    ("https://*.friends.example", "https://friends.example", True),          # as is_same_domain
    ("https://*.friends.example", "http://a.friends.example", False),        # scheme downgrade
    ("https://*.friends.example", "http://friends.example", False),
    ("https://*.friends.example", "https://evilfriends.example", False),     # suffix spoof
    ("https://*.friends.example", "https://friends.example.evil.example", False),
    ("https://*.friends.example", "https://a.friends.example.evil.example", False),  # prefix spoof
    ("https://*.friends.example", "https://a.friends.example:443", False),   # default port
    ("https://*.friends.example", "https://a.friends.example:8443", False),
    # wildcard subdomains with an explicit port
    ("https://*.friends.example:8443", "https://a.friends.example:8443", True),
    ("https://*.friends.example:8443", "https://friends.example:8443", True),
    ("https://*.friends.example:8443", "http://a.friends.example:8443", False),
    ("https://*.friends.example:8443", "https://a.friends.example", False),
    ("https://*.friends.example:8443", "https://a.friends.example:443", False),
    ("https://*.friends.example:8443", "https://a.friends.example:18443", False),
    ("https://*.friends.example:8443", "https://a.friends.example:84430", False),
    ("https://*.friends.example:8443", "https://evilfriends.example:8443", False),
    # wildcard subdomains over plain http, default port 80
    ("http://*.plain.example", "http://a.plain.example", True),
    ("http://*.plain.example", "https://a.plain.example", False),
    ("http://*.plain.example", "http://a.plain.example:80", False),
    ("http://*.plain.example", "http://evilplain.example", False),
]

# Each row: how the request reached us, an Origin, and whether it is the site's own origin
# (no CSRF_TRUSTED_ORIGINS at all).
PLAIN = {"wsgi.url_scheme": "http"}
TLS = {"wsgi.url_scheme": "https"}
OWN_CASES = [
    ({**PLAIN, "HTTP_HOST": "site.example"}, "http://site.example", True),
    ({**PLAIN, "HTTP_HOST": "site.example"}, "https://site.example", False),
    ({**PLAIN, "HTTP_HOST": "site.example"}, "http://site.example:80", False),
    ({**PLAIN, "HTTP_HOST": "site.example"}, "http://site.example.evil.example", False),
    ({**PLAIN, "HTTP_HOST": "site.example"}, "http://a.site.example", False),
    ({**PLAIN, "HTTP_HOST": "site.example:8000"}, "http://site.example:8000", True),
    ({**PLAIN, "HTTP_HOST": "site.example:8000"}, "https://site.example:8000", False),
    ({**PLAIN, "HTTP_HOST": "site.example:8000"}, "http://site.example", False),
    ({**PLAIN, "HTTP_HOST": "site.example:8000"}, "http://site.example:80001", False),
    ({**PLAIN, "HTTP_HOST": "site.example:8000"}, "http://site.example:8000.evil.example", False),
    ({**TLS, "HTTP_HOST": "site.example"}, "https://site.example", True),
    ({**TLS, "HTTP_HOST": "site.example"}, "http://site.example", False),    # scheme downgrade
    ({**TLS, "HTTP_HOST": "site.example"}, "https://site.example:443", False),
    ({**TLS, "HTTP_HOST": "site.example"}, "https://site.example.evil.example", False),
    # no Host header: the host as PEP 3333 rebuilds it, the default port left out
    ({**TLS, "SERVER_NAME": "site.example", "SERVER_PORT": "443"}, "https://site.example", True),
    ({**TLS, "SERVER_NAME": "site.example", "SERVER_PORT": "443"}, "https://site.example:443", False),
    ({**TLS, "SERVER_NAME": "site.example", "SERVER_PORT": "8443"}, "https://site.example:8443", True),
    ({**TLS, "SERVER_NAME": "site.example", "SERVER_PORT": "8443"}, "https://site.example", False),
    ({**PLAIN, "SERVER_NAME": "site.example", "SERVER_PORT": "80"}, "http://site.example", True),
    ({**PLAIN, "SERVER_NAME": "site.example", "SERVER_PORT": "80"}, "http://site.example:80", False),
    ({**PLAIN, "SERVER_NAME": "site.example", "SERVER_PORT": "443"}, "http://site.example:443", True),
    ({**PLAIN, "SERVER_NAME": "site.example", "SERVER_PORT": "443"}, "https://site.example", False),
]


def djangos_verdict(origin, environ):
    """What Django's own CsrfViewMiddleware decides for the same request, as a cross-check."""
    from django.core.handlers.wsgi import WSGIRequest
    from django.middleware.csrf import CsrfViewMiddleware

    request = WSGIRequest({"REQUEST_METHOD": "POST", "PATH_INFO": "/", "SERVER_NAME": "",
                           "SERVER_PORT": "80", "wsgi.input": io.BytesIO(), **environ,
                           "HTTP_ORIGIN": origin})
    return CsrfViewMiddleware(lambda request: None)._origin_verified(request)


@pytest.mark.parametrize("entry, origin, trusted", TRUSTED_CASES)
def test_csrf_trusted_origins_entry(settings, entry, origin, trusted):
    settings.CSRF_TRUSTED_ORIGINS = [entry]
    settings.ALLOWED_HOSTS = ["*"]
    environ = {"wsgi.url_scheme": "https", "HTTP_HOST": "site.example"}
    assert origin_trusted(origin, environ) is trusted
    assert djangos_verdict(origin, environ) is trusted


@pytest.mark.parametrize("environ, origin, trusted", OWN_CASES)
def test_the_sites_own_origin(settings, environ, origin, trusted):
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.ALLOWED_HOSTS = ["*"]
    assert origin_trusted(origin, environ) is trusted
    assert djangos_verdict(origin, environ) is trusted


@pytest.mark.parametrize("origin, trusted", [
    ("https://site.example", True), ("http://site.example", False),
    ("https://site.example:443", False)])
def test_the_sites_own_origin_behind_a_tls_proxy(settings, origin, trusted):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.ALLOWED_HOSTS = ["*"]
    for environ in ({**PLAIN, "HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "site.example"},
                    {**PLAIN, "HTTP_X_FORWARDED_PROTO": "https", "SERVER_NAME": "site.example",
                     "SERVER_PORT": "443"}):
        assert origin_trusted(origin, environ) is trusted, environ
        assert djangos_verdict(origin, environ) is trusted, environ


@pytest.mark.parametrize("use_forwarded_port, origin, trusted", [
    (True, "https://site.example", True), (True, "https://site.example:8000", False),
    (False, "https://site.example:8000", True), (False, "https://site.example", False)])
def test_the_sites_own_origin_with_a_forwarded_port(settings, use_forwarded_port, origin, trusted):
    """Without a Host header the port is X-Forwarded-Port where USE_X_FORWARDED_PORT says so."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_PORT = use_forwarded_port
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.ALLOWED_HOSTS = ["*"]
    environ = {**PLAIN, "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_PORT": "443",
               "SERVER_NAME": "site.example", "SERVER_PORT": "8000"}
    assert origin_trusted(origin, environ) is trusted
    assert djangos_verdict(origin, environ) is trusted


@pytest.mark.parametrize("origin", [
    "http://a.friends.example", "http://friends.example", "http://trusted.example",
    "https://trusted.example.evil.example", "https://a.friends.example.evil.example",
    "https://evilfriends.example", "https://trusted.example:443", "https://a.friends.example:443",
    "http://testserver:80", "https://testserver"])
def test_scheme_port_and_spoofed_origins_are_refused_over_http(app, origin):
    """The same rules where they matter: the polling handshake of the test project, whose
    CSRF_TRUSTED_ORIGINS are ``https://trusted.example`` and ``https://*.friends.example``."""
    res = webtest.TestApp(app).get(HANDSHAKE, headers={"Host": "testserver", "Origin": origin},
                                   expect_errors=True)
    body = refusal(res)
    assert body["code"] == 4 and "CSRF_TRUSTED_ORIGINS" in body["message"]
    assert seen.empty()
