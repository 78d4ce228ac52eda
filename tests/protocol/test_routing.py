"""Sids that name their owner, and the signed header of relayed requests (protocol/routing.py):
round trips, the grammar's edges, and garbage that must come back as None, never as an
exception (both functions read what a client sent)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsgi_sio.protocol.routing import (
    MAX_HOST_LENGTH,
    MAX_SID_LENGTH,
    RELAY_WINDOW,
    TAG_LENGTH,
    TOKEN_LENGTH,
    Route,
    compose_sid,
    new_tag,
    new_token,
    parse_sid,
    sign_relay,
    verify_relay,
)

HYPOTHESIS = settings(max_examples=300, deadline=None)

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
ALNUM = B64[:62]
tags = st.text(B64, min_size=TAG_LENGTH, max_size=TAG_LENGTH)
tokens = st.text(B64, min_size=TOKEN_LENGTH, max_size=TOKEN_LENGTH)
hosts = st.none() | st.text(ALNUM, min_size=1, max_size=MAX_HOST_LENGTH)
routes = st.builds(Route, hosts, tags)
GRAMMAR = re.compile(rf"(?:[A-Za-z0-9]{{1,{MAX_HOST_LENGTH}}}\.)?[A-Za-z0-9_-]{{{TAG_LENGTH}}}"
                     rf"\.[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


# -- sids --------------------------------------------------------------------------------------


@HYPOTHESIS
@given(routes, tokens)
def test_a_composed_sid_parses_back_to_its_route(route: Route, token: str) -> None:
    sid = compose_sid(route, token)
    assert parse_sid(sid) == route
    assert sid.endswith("." + token) and len(sid) <= MAX_SID_LENGTH


@HYPOTHESIS
@given(routes)
def test_fresh_tokens_fit_the_grammar(route: Route) -> None:
    sid = compose_sid(route)
    assert GRAMMAR.fullmatch(sid) and parse_sid(sid) == route
    assert len(new_token()) == TOKEN_LENGTH and Route(None, new_tag()).tag


@HYPOTHESIS
@given(st.text(max_size=100) | st.text(B64 + ".", max_size=70))
def test_parse_sid_never_crashes_and_accepts_only_the_grammar(text: str) -> None:
    route = parse_sid(text)
    if GRAMMAR.fullmatch(text) is None:
        assert route is None
    else:
        assert route is not None and compose_sid(route, text[-TOKEN_LENGTH:]) == text


@pytest.mark.parametrize("sid", [
    "",
    "AAAAAAAA",  # no token
    "AAAAAAAA.",  # empty token
    "AAAAAAAA.BBBBBBBBBBBBBBBBBBB",  # token one short
    "AAAAAAAA.BBBBBBBBBBBBBBBBBBBBB",  # token one long
    "AAAAAAA.BBBBBBBBBBBBBBBBBBBB",  # tag one short
    "AAAAAAAAA.BBBBBBBBBBBBBBBBBBBB",  # tag one long
    "AAAAAAAA.BBBBBBBBBBBBBBBBBBB=",  # base64 padding
    "A/AAAAAA.BBBBBBBBBBBBBBBBBBBB",  # a path separator in the tag
    "..%2Ftmp.BBBBBBBBBBBBBBBBBBBB",
    "127.0.0.1.AAAAAAAA.BBBBBBBBBBBBBBBBBBBB",  # an address where the host goes
    "web_2.AAAAAAAA.BBBBBBBBBBBBBBBBBBBB",  # '_' is not for hosts
    "abcdefghijklm.AAAAAAAA.BBBBBBBBBBBBBBBBBBBB",  # a host of 13
    ".AAAAAAAA.BBBBBBBBBBBBBBBBBBBB",  # an empty host
    "AAAAAAAA.BBBBBBBBBBBBBBBBBBBB\n",  # a trailing newline ($ would take it)
    "AAAAAAAA.BBBBBBBBBBBBBBBBBB\u0661\u0662",  # non-ASCII digits
    "x" * 20,  # an old-format sid
    "x" * 10_000,
])
def test_sids_outside_the_grammar_are_none(sid: str) -> None:
    assert parse_sid(sid) is None


def test_sids_at_the_grammars_edges() -> None:
    assert parse_sid("AAAAAAAA.BBBBBBBBBBBBBBBBBBBB") == Route(None, "AAAAAAAA")
    longest = "h" * MAX_HOST_LENGTH + ".-_-_-_-_.BBBBBBBBBBBBBBBBBBBB"
    assert len(longest) == MAX_SID_LENGTH
    assert parse_sid(longest) == Route("h" * MAX_HOST_LENGTH, "-_-_-_-_")


@pytest.mark.parametrize(("host", "tag"), [
    (None, "short"), (None, "AAAAAAA/"), ("", "AAAAAAAA"), ("a.b", "AAAAAAAA"),
    ("h" * 13, "AAAAAAAA"), ("web-2", "AAAAAAAA"),
])
def test_a_route_refuses_what_a_sid_cannot_carry(host: str | None, tag: str) -> None:
    with pytest.raises(ValueError):
        Route(host, tag)


# -- relay headers -----------------------------------------------------------------------------

SECRET = b"s" * 32
NOW = 1_800_000_000.0
methods = st.sampled_from(["GET", "POST", "OPTIONS"])
targets = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), min_size=1, max_size=80)
clients = st.sampled_from(["127.0.0.1", "10.1.2.3", "::1", "fc00::5", "[::1]", "-"])


@HYPOTHESIS
@given(methods, targets, clients, st.floats(-RELAY_WINDOW + 1, RELAY_WINDOW - 1))
def test_a_signed_header_verifies_within_the_window(method: str, target: str, client: str,
                                                    skew: float) -> None:
    value = sign_relay(SECRET, NOW, method, target, client)
    assert verify_relay(SECRET, value, NOW + skew, method, target) == client


def test_a_client_address_that_is_not_one_is_signed_as_unknown() -> None:
    value = sign_relay(SECRET, NOW, "GET", "/", "evil host|x")
    assert value.split(" ")[3] == "-"
    assert verify_relay(SECRET, value, NOW, "GET", "/") == "-"


@pytest.mark.parametrize("late", [RELAY_WINDOW + 1, -(RELAY_WINDOW + 1), 86_400, -NOW])
def test_a_header_outside_the_window_fails(late: float) -> None:
    value = sign_relay(SECRET, NOW, "GET", "/x?sid=a", "127.0.0.1")
    assert verify_relay(SECRET, value, NOW + late, "GET", "/x?sid=a") is None


@HYPOTHESIS
@given(methods, targets, clients, st.data())
def test_any_single_field_changed_fails(method: str, target: str, client: str,
                                        data: st.DataObject) -> None:
    value = sign_relay(SECRET, NOW, method, target, client)
    assert verify_relay(SECRET, value, NOW, method, target) == client
    # what the MAC covers but the header does not carry: secret, method, target
    other_method = data.draw(methods.filter(lambda m: m != method))
    other_target = data.draw(targets.filter(lambda t: t != target))
    assert verify_relay(b"t" * 32, value, NOW, method, target) is None
    assert verify_relay(SECRET, value, NOW, other_method, target) is None
    assert verify_relay(SECRET, value, NOW, method, other_target) is None
    # each field the header carries
    parts = value.split(" ")
    index = data.draw(st.integers(0, 4))
    replacement = {
        0: st.sampled_from(["0", "2", "v1"]),
        1: st.integers(int(NOW) - 30, int(NOW) + 30).map(str),
        2: st.text("0123456789abcdef", min_size=16, max_size=16),
        3: clients,
        4: st.text("0123456789abcdef", min_size=64, max_size=64),
    }[index]
    changed = data.draw(replacement.filter(lambda v: v != parts[index]))
    forged = " ".join([*parts[:index], changed, *parts[index + 1:]])
    assert verify_relay(SECRET, forged, NOW, method, target) is None


@HYPOTHESIS
@given(st.text(max_size=200) | st.text(st.characters(max_codepoint=0xFF), max_size=200)
       | st.lists(st.text(st.characters(max_codepoint=0xFF), max_size=70), min_size=5,
                  max_size=5).map(" ".join))
def test_verify_relay_never_crashes_on_garbage(value: str) -> None:
    # hypothesis cannot forge an HMAC: anything but None would be a bug
    assert verify_relay(SECRET, value, NOW, "GET", "/") is None


@pytest.mark.parametrize("stamp", [
    "\u00b2",  # '²': str.isdigit() says yes, int() says no (a latin-1 header byte, 0xB2)
    "\u0661\u0662",  # Arabic-Indic digits: int() takes them
    "9" * 400,  # an int too large for a float
    "9" * 5000,  # more digits than int() converts
])
def test_verify_relay_survives_hostile_timestamps(stamp: str) -> None:
    value = f"1 {stamp} 0123456789abcdef - {'0' * 64}"
    assert verify_relay(SECRET, value, NOW, "GET", "/") is None
