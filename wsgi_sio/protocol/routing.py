"""Engine.IO session ids that name the process owning the session.

Several processes answer one port (gunicorn ``-w N``, ``python -m wsgi_sio --workers N``), and
a load balancer may spread one client's requests across hosts. A request that reaches a process
which does not hold its session has to find the one that does; the sid says which:

    sid   = [ host "." ] tag "." token
    host  = 1*12 ( ALPHA / DIGIT )    chosen by the operator, for a load balancer's routing
    tag   = 8 base64url characters    random, one for each process (48 bits)
    token = 20 base64url characters   random, for each session (120 bits, as before)

The token keeps its full strength: knowing a worker's tag does not help anyone guess a
session. Only characters that need no escaping in a query string or a cookie are used, since
clients append the sid to URLs as is (python-engineio does not encode it), and no client reads
anything into its length or shape.

Sans-IO: strings in, strings out; the randomness comes from ``secrets``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TAG_LENGTH = 8
TOKEN_LENGTH = 20
MAX_HOST_LENGTH = 12
#: longest sid that can be ours; a longer one is refused before any pattern is tried
MAX_SID_LENGTH = MAX_HOST_LENGTH + 1 + TAG_LENGTH + 1 + TOKEN_LENGTH

_B64 = "[A-Za-z0-9_-]"
_SID = re.compile(rf"(?:([A-Za-z0-9]{{1,{MAX_HOST_LENGTH}}})\.)?({_B64}{{{TAG_LENGTH}}})\.{_B64}{{{TOKEN_LENGTH}}}")
_HOST = re.compile(rf"[A-Za-z0-9]{{1,{MAX_HOST_LENGTH}}}")
_TAG = re.compile(rf"{_B64}{{{TAG_LENGTH}}}")


@dataclass(frozen=True)
class Route:
    """Where a session lives: the process ``tag``, on the host the operator named ``host``
    (None when no host id is configured)."""

    host: str | None
    tag: str

    def __post_init__(self) -> None:
        if not valid_tag(self.tag):
            raise ValueError(f"not a process tag: {self.tag!r}")
        if self.host is not None and not _HOST.fullmatch(self.host):
            raise ValueError(f"a host id is 1 to {MAX_HOST_LENGTH} letters and digits: {self.host!r}")


def new_tag() -> str:
    """A process's tag: 48 random bits, 8 characters."""
    return secrets.token_urlsafe(6)


def new_token() -> str:
    """A session's own part: 120 random bits, 20 characters (the length of Node's sids)."""
    return secrets.token_urlsafe(15)


def valid_tag(tag: str) -> bool:
    return _TAG.fullmatch(tag) is not None


def valid_host(host: str) -> bool:
    return _HOST.fullmatch(host) is not None


def compose_sid(route: Route, token: str | None = None) -> str:
    token = new_token() if token is None else token
    if route.host is None:
        return f"{route.tag}.{token}"
    return f"{route.host}.{route.tag}.{token}"


def parse_sid(sid: str) -> Route | None:
    """The owner a sid names, or None for a sid that is not in this format (which no process
    of ours made: the request gets "Session ID unknown" where it landed)."""
    if len(sid) > MAX_SID_LENGTH:
        return None
    match = _SID.fullmatch(sid)
    if match is None:
        return None
    return Route(match.group(1), match.group(2))


# -- relays between hosts ------------------------------------------------------------------------
#
# A request relayed from a worker of one host to the host owning its session carries
#
#     Wsgi-Sio-Relay: 1 <unix time> <nonce> <client address> <mac>
#
# where mac = HMAC-SHA256(secret, "1|time|nonce|METHOD|target|client address"), hex. A valid one
# tells the receiving host that a peer relayed the request (so it is never relayed again, and
# the client's address is the one the relaying worker saw); anything else is dropped, and the
# request is an ordinary one. Within RELAY_WINDOW seconds of its time only: a captured header is
# of use only for that request line, briefly, and grants nothing but those two facts.

RELAY_HEADER = "Wsgi-Sio-Relay"
RELAY_WINDOW = 60.0
_CLIENT = re.compile(r"[0-9A-Fa-f.:\[\]]{1,64}")
# ASCII digits, and few of them: str.isdigit() also takes '²' (int() refuses it), and int()
# refuses more than 4,300 digits, or gives an int too large to subtract from a float
_STAMP = re.compile(r"[0-9]{1,12}")


def _relay_mac(secret: bytes, stamp: int, nonce: str, method: str, target: str, client: str) -> str:
    text = f"1|{stamp}|{nonce}|{method}|{target}|{client}".encode("latin-1", "replace")
    return hmac.new(secret, text, hashlib.sha256).hexdigest()


def sign_relay(secret: bytes, now: float, method: str, target: str, client: str) -> str:
    """The value of :data:`RELAY_HEADER` for a request relayed at ``now`` (unix time)."""
    if not _CLIENT.fullmatch(client):
        client = "-"
    stamp = int(now)
    nonce = secrets.token_hex(8)
    return f"1 {stamp} {nonce} {client} {_relay_mac(secret, stamp, nonce, method, target, client)}"


def verify_relay(secret: bytes, value: str, now: float, method: str, target: str) -> str | None:
    """The client address a valid relay header vouches for ("-" if none), else None."""
    parts = value.split(" ")
    if len(parts) != 5 or parts[0] != "1" or not _STAMP.fullmatch(parts[1]) or len(parts[4]) != 64:
        return None
    _, stamp, nonce, client, mac = parts
    if abs(now - int(stamp)) > RELAY_WINDOW or len(nonce) > 32:
        return None
    if not (client == "-" or _CLIENT.fullmatch(client)):
        return None
    expected = _relay_mac(secret, int(stamp), nonce, method, target, client)
    return client if hmac.compare_digest(expected, mac) else None
