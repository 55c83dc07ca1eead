"""The logo fetch against real HTTP servers on 127.0.0.1: refused by default (SSRF), allowed only on a test
ground, no redirect off the host, size and type capped; and the slides stage renders without a refused logo."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from PIL import Image

from preboarding.renderer.logo import LogoPolicy, LogoRefused, address_allowed, fetch_logo

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

ALLOW = LogoPolicy(max_bytes=100_000, timeout_seconds=5, allow_private_networks=True)
DEFAULT = LogoPolicy(max_bytes=100_000, timeout_seconds=5)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


class Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        status, headers, body = self.routes.get(self.path, (404, {}, b"no"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.hits = []
    Handler.routes = {
        "/logo.png": (200, {"Content-Type": "image/png"}, png()),
        "/moved": (302, {"Location": "/logo.png"}, b""),
        "/elsewhere": (302, {"Location": "http://localhost.localdomain.invalid/logo.png"}, b""),
        "/huge.png": (200, {"Content-Type": "image/png"}, png() + b"\x00" * 200_000),
        "/page.html": (200, {"Content-Type": "image/png"}, b"<html>not an image</html>"),
    }
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_loopback_logo_is_refused_by_default_and_never_requested(server: str) -> None:
    with pytest.raises(LogoRefused, match="loopback, private, link-local"):
        fetch_logo(f"{server}/logo.png", DEFAULT)
    assert Handler.hits == []


def test_the_test_ground_setting_allows_it(server: str) -> None:
    assert fetch_logo(f"{server}/logo.png", ALLOW) == Handler.routes["/logo.png"][2]


def test_a_redirect_on_the_same_host_is_followed_one_off_it_is_not(server: str) -> None:
    assert fetch_logo(f"{server}/moved", ALLOW).startswith(b"\x89PNG")
    with pytest.raises(LogoRefused, match="another host"):
        fetch_logo(f"{server}/elsewhere", ALLOW)


def test_size_and_type_are_capped(server: str) -> None:
    with pytest.raises(LogoRefused, match="larger than"):
        fetch_logo(f"{server}/huge.png", ALLOW)
    with pytest.raises(LogoRefused, match="neither a PNG nor a JPEG"):
        fetch_logo(f"{server}/page.html", ALLOW)
    with pytest.raises(LogoRefused, match="only http"):
        fetch_logo("file:///etc/passwd", ALLOW)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "::1", "fd00:ec2::254", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0"])
def test_internal_addresses_are_refused(address: str) -> None:
    assert not address_allowed(address, DEFAULT)


def test_public_addresses_are_allowed() -> None:
    assert address_allowed("93.184.216.34", DEFAULT) and address_allowed("2606:2800:220:1::", DEFAULT)
