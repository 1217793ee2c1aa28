"""Outbound HTTP to customers' URLs, safely: the one way webhooks leave the platform.

A webhook URL is chosen by a customer, so a careless sender is a way into our own
network (server-side request forgery). Here:

- HTTPS only, to public addresses only: every address the host resolves to must be
  globally routable (no loopback, private, link-local, cloud metadata, shared, reserved
  or multicast address), checked when the URL is saved and again at every delivery.
- The connection goes to the very address that was checked (the Host header and TLS
  name stay the URL's host), so a DNS answer that changes between check and connect
  (DNS rebinding) cannot redirect a delivery inwards.
- Connect and read timeouts (WEBHOOKS_TIMEOUT_SECONDS); redirects are not followed (a
  3xx is a failed attempt); at most WEBHOOKS_RESPONSE_MAX_BYTES of a reply are read.

WEBHOOKS_ALLOW_PRIVATE (development and tests only; production refuses to start with
it) admits http:// and private addresses, for a receiver on this machine.

The standard library's http.client does all of it: no redirect handling to switch off,
and connecting to a given address is one overridden method.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(Exception):
    """The URL may not be called; the message says why."""


def address_problem(address: IPAddress) -> str | None:
    """Why this address may not be called, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for test, name in (
        (address.is_loopback, "a loopback"),
        (address.is_link_local, "a link-local (cloud metadata)"),
        (address.is_private, "a private"),
        (address.is_multicast, "a multicast"),
        (address.is_unspecified, "an unspecified"),
        (address.is_reserved, "a reserved"),
        (not address.is_global, "a non-public"),
    ):
        if test:
            return f"{address} is {name} address."
    return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def target_parse(url: str) -> Target:
    """The URL's parts, or UnsafeURL for one that cannot be a webhook URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"Not a valid URL: {exc}.") from exc
    allowed = ("https", "http") if settings.WEBHOOKS_ALLOW_PRIVATE else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeURL("Webhook URLs must use https.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("Credentials in the URL are not allowed; the signature authenticates deliveries.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def addresses_check(target: Target) -> list[IPAddress]:
    """Resolve the host now and return its addresses, all allowed; UnsafeURL if one is
    not (or the host does not resolve)."""
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"{target.host} does not resolve.") from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found))
    if not settings.WEBHOOKS_ALLOW_PRIVATE:
        for address in addresses:
            problem = address_problem(address)
            if problem:
                raise UnsafeURL(f"{target.host} resolves to {address}: {problem} Webhooks go to public addresses.")
    return addresses


def url_check(url: str) -> None:
    """For saving a URL: UnsafeURL unless it would be called now. An address literal is
    judged as it is; a name that does not resolve (yet) is accepted, as every delivery
    checks again anyway."""
    target = target_parse(url)
    try:
        literal = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        problem = None if settings.WEBHOOKS_ALLOW_PRIVATE else address_problem(literal)
        if problem:
            raise UnsafeURL(f"{problem} Webhooks go to public addresses.")
        return
    try:
        addresses_check(target)
    except UnsafeURL as exc:
        if "does not resolve" not in str(exc):
            raise


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked `address`; everything else (Host header) is the URL's."""

    def __init__(self, host: str, port: int, *, address: IPAddress, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: IPAddress, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        # The certificate is checked against the URL's host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Reply:
    status: int | None
    duration_ms: int
    error: str = ""
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Reply:
    """POST `body` to `url` under the rules above. Never raises for the receiver's
    faults: a refused URL, a timeout or a refusal is a Reply with `error`."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = target_parse(url)
        address = addresses_check(target)[0]
    except UnsafeURL as exc:
        return Reply(None, elapsed(), f"refused: {exc}")
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, address=address, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS)
    try:
        connection.request("POST", target.path, body=body, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        content = response.read(settings.WEBHOOKS_RESPONSE_MAX_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return Reply(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()
    error = (
        ""
        if 200 <= status < 300
        else f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    )
    return Reply(status, elapsed(), error, content)
