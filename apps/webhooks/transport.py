"""The one way the portal calls a company's webhook receiver.

A receiver's address is chosen by a company, so every call is a possible request into
the portal's own network (server-side request forgery). Here:
- the host is resolved once, every address it resolves to is checked, and the
  connection goes to a checked address: a DNS answer that changes between the check and
  the call (DNS rebinding) cannot redirect it;
- private, loopback, link-local, shared and reserved addresses are refused, and so are
  the IPv6 forms that carry one inside (IPv4-mapped, NAT64, 6to4, Teredo);
- redirects are never followed: a 3xx is a failed delivery;
- what the delivery log keeps is coarse (no socket errors), so it cannot map a network.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

TIMEOUT_S = 10
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The URL is unusable or leads to an address the portal must not call."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the connection goes to


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries inside, where it is a transition form."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in network for network in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in SIX_TO_FOUR:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    return None


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet, looking inside IPv6 transition forms."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None and not is_public(inner):
            return False
        if address.scope_id:
            return False
    return address.is_global and not address.is_multicast


def resolve(url: str, *, allow_private: bool) -> Target:
    """The URL's target with the address to connect to; AddressRefused (with a message for
    the person who typed the URL) when it must not be called."""
    parsed = urlparse(url)
    if parsed.scheme not in {"https", "http"} or not parsed.hostname:
        raise AddressRefused("A webhook URL must be https://host/...")
    if parsed.username or parsed.password:
        raise AddressRefused("A webhook URL must not carry a user name or password.")
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError as exc:
        raise AddressRefused("The webhook URL's port is not a number.") from exc
    try:
        infos = socket.getaddrinfo(parsed.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"The webhook host {parsed.hostname} does not resolve.") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    private = not addresses or any(not is_public(a) for a in addresses)
    if private and not allow_private:
        raise AddressRefused("A webhook URL must reach a public address.")
    if parsed.scheme == "http" and not private:
        raise AddressRefused("A webhook URL must use https.")
    path = parsed.path or "/"
    if parsed.query:
        path += f"?{parsed.query}"
    return Target(
        scheme=parsed.scheme,
        host=parsed.hostname,
        port=port,
        path=path,
        address=str(addresses[0]),
    )


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, the certificate verified for the host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = target.address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def post(
    url: str, body: bytes, headers: dict[str, str], *, allow_private: bool
) -> tuple[int | None, str]:
    """POST once: (status code or None, what the delivery log may say)."""
    try:
        target = resolve(url, allow_private=allow_private)
    except AddressRefused as exc:
        return None, str(exc)
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = cls(target, TIMEOUT_S)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # what it says is not ours to keep
        status = response.status
    except ssl.SSLError as exc:
        logger.info("webhook to %s: TLS failed: %s", target.host, exc)
        return None, "no answer: the receiver's TLS certificate could not be verified"
    except (OSError, http.client.HTTPException) as exc:
        logger.info("webhook to %s failed: %s", target.host, exc)
        return None, "no answer from the receiver"
    finally:
        connection.close()
    if 300 <= status < 400:
        return status, f"the receiver answered {status}; redirects are not followed"
    if not 200 <= status < 300:
        return status, f"the receiver answered {status}"
    return status, ""
