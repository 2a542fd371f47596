"""POSTing to an address a client chose, without becoming a proxy into our own network.

Threat: a client registers a webhook URL that makes the service connect to something only it
can reach (its database, Redis, a cloud metadata endpoint, an admin port on loopback), and
reads the answer back through ``last_status_code``. Ways in, each closed here:

- a URL two parsers read differently (``http://127.0.0.1:8799\\@1.1.1.1/x``: urlsplit sees
  host 1.1.1.1, the HTTP client connects to 127.0.0.1): a receiver URL is refused if it has
  a backslash, user-info, whitespace or a control character, a scheme other than http(s), or
  if the standard library and the HTTP client (urllib3) disagree on its host or port
  (``parse_receiver_url``);
- a name that resolved to a public address when it was registered and to an internal one
  later (DNS rebinding): the address is checked on the socket itself, after it connected and
  before a byte is sent, for every attempt (``post``);
- a redirect to an internal address: redirects are never followed;
- a proxy from the environment: ignored (the peer would be the proxy, not the receiver).

Internal means anything but a public unicast address (``is_internal``): loopback, private,
link-local, shared (100.64/10), multicast, reserved, unspecified, and IPv4-mapped IPv6 forms
of those. ``NOTIFIER_WEBHOOK_ALLOW_PRIVATE`` lifts the address rule (development, tests) but
not the URL rules.
"""

from __future__ import annotations

import ipaddress
import socket
import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import parse_url

MAX_URL_LENGTH = 2000
SCHEMES = ("http", "https")
# Characters that make parsers disagree or that no well-formed URL carries unencoded.
FORBIDDEN_CHARACTERS = frozenset("\\") | frozenset(string.whitespace) | frozenset(map(chr, range(32)))


class AddressNotAllowed(Exception):
    """The receiver's address is internal; nothing was sent to it.

    Not an OSError on purpose: urllib3 would take it for a network fault and retry.
    """


@dataclass(frozen=True)
class ReceiverUrl:
    url: str
    scheme: str
    host: str
    port: int


def parse_receiver_url(url: str) -> ReceiverUrl:
    """Parse ``url`` the way the sending client will; ValueError says why it is refused."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"longer than {MAX_URL_LENGTH} characters")
    if FORBIDDEN_CHARACTERS.intersection(url) or "\x7f" in url:
        raise ValueError("must not contain backslashes, spaces or control characters")
    ours = urlsplit(url)
    theirs = parse_url(url)  # what requests (urllib3) will connect to
    if ours.scheme not in SCHEMES or theirs.scheme not in SCHEMES:
        raise ValueError("must be an http or https URL")
    if (
        ours.username is not None
        or ours.password is not None
        or theirs.auth is not None
        or "@" in ours.netloc
    ):
        raise ValueError("must not contain a user name or password")
    host = ours.hostname
    if not host:
        raise ValueError("names no host")
    port = ours.port if ours.port is not None else (443 if ours.scheme == "https" else 80)
    if not 1 <= port <= 65535:
        raise ValueError("names no usable port")
    their_host = (theirs.host or "").strip("[]").lower()
    if their_host != host.lower() or (theirs.port or port) != port:
        raise ValueError("is read differently by different URL parsers")
    return ReceiverUrl(url=url, scheme=ours.scheme, host=host, port=port)


def is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` is anything but a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global  # e.g. 100.64.0.0/10, shared by carriers
    )


def peer_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone


def internal_address(receiver: ReceiverUrl) -> str | None:
    """The first internal address the receiver's host resolves to, if any; OSError if none."""
    for *_, sockaddr in socket.getaddrinfo(receiver.host, receiver.port, type=socket.SOCK_STREAM):
        address = peer_address(str(sockaddr[0]))
        if is_internal(address):
            return str(address)
    return None


def _checked(sock: socket.socket) -> socket.socket:
    address = peer_address(str(sock.getpeername()[0]))
    if is_internal(address):
        sock.close()
        raise AddressNotAllowed(f"the receiver's address {address} is not a public address")
    return sock


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn())


class _PublicHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn())


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


def post(
    receiver: ReceiverUrl, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
) -> requests.Response:
    """POST once, never following a redirect; AddressNotAllowed if the peer is internal."""
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: the peer must be the receiver
        if not allow_private:
            session.mount("http://", _PublicOnlyAdapter())
            session.mount("https://", _PublicOnlyAdapter())
        return session.post(receiver.url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
