"""Fetching the company logo without opening a server-side request forgery hole.

The logo URL is in the spec, and the renderer runs inside the cluster (on the test node even with
hostNetwork), so a URL could point at cloud metadata, in-cluster services or 127.0.0.1. The fetch
therefore:

- allows only http(s), and resolves the host once, refusing it if any address is loopback, private,
  link-local (cloud metadata lives there), multicast, reserved or unspecified; the connection then goes
  to the address that was checked (no second DNS answer can swap it: DNS rebinding);
- follows at most a few redirects, and only on the same host (each one checked the same way);
- caps the size and accepts only PNG or JPEG (by content, not by what the server claims).

``PREBOARDING_LOGO_ALLOW_PRIVATE_NETWORKS`` lifts the address rule, for a test ground whose servers are
all on 127.0.0.1. A logo that is refused or cannot be fetched is left out, never a failure of the stage.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

log = logging.getLogger("preboarding.renderer")

MAX_REDIRECTS = 3
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


class LogoRefused(Exception):
    """The logo is not fetched; the message says why (it names the host, never a full URL with a query)."""


@dataclass(frozen=True)
class LogoPolicy:
    max_bytes: int
    timeout_seconds: float
    allow_private_networks: bool = False


def address_allowed(address: str, policy: LogoPolicy) -> bool:
    """Whether the fetch may connect to ``address`` (an IPv4 or IPv6 literal)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if policy.allow_private_networks:
        return not (ip.is_multicast or ip.is_unspecified)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def resolve(host: str, port: int, policy: LogoPolicy) -> str:
    """The address to connect to: the first one DNS gives, provided every address it gives is allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise LogoRefused(f"cannot resolve {host}: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise LogoRefused(f"{host} has no address")
    refused = [a for a in addresses if not address_allowed(a, policy)]
    if refused:
        raise LogoRefused(f"{host} resolves to a loopback, private, link-local or reserved address")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def fetch_logo(url: str, policy: LogoPolicy) -> bytes:
    """The logo's bytes (PNG or JPEG, at most ``policy.max_bytes``). Raises ``LogoRefused``."""
    first_host = (urlsplit(url).hostname or "").lower()
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LogoRefused("only http(s) URLs with a host are fetched")
        host = parts.hostname.lower()
        if host != first_host:
            raise LogoRefused(f"a redirect from {first_host} to another host ({host}) is not followed")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve(host, port, policy)
        connection_type = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = connection_type(host, address, port, policy.timeout_seconds)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", path, headers={"Host": parts.netloc, "Accept": "image/png, image/jpeg",
                                                     "User-Agent": "preboarding-renderer"})
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location") or "")
                continue
            if response.status != 200:
                raise LogoRefused(f"{host} answered HTTP {response.status}")
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > policy.max_bytes:
                raise LogoRefused(f"the logo is larger than {policy.max_bytes} bytes")
            data = response.read(policy.max_bytes + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise LogoRefused(f"{host}: {type(exc).__name__}: {exc}") from None
        finally:
            connection.close()
        if len(data) > policy.max_bytes:
            raise LogoRefused(f"the logo is larger than {policy.max_bytes} bytes")
        if not (data.startswith(PNG_MAGIC) or data.startswith(JPEG_MAGIC)):
            raise LogoRefused("the logo is neither a PNG nor a JPEG")
        return data
    raise LogoRefused(f"more than {MAX_REDIRECTS} redirects")
