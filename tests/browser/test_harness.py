"""The browser harness itself: axe-core finds what it should under a strict CSP, the pins agree."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from .harness import AXE_CORE_VERSION, describe_violations, off_loopback

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
# As strict as the watch page's: no script at all, so axe cannot come in through a <script> tag.
CSP = "default-src 'none'; img-src 'self'; style-src 'self'"
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)


def pages_app() -> FastAPI:
    app = FastAPI()

    @app.get("/{name}.html")
    def html(name: str) -> HTMLResponse:
        alt = ' alt="Our office"' if name == "good" else ""
        body = (f'<!doctype html><html lang="en"><head><title>{name}</title></head>'
                f'<body><main><h1>Welcome</h1><img src="/pixel.png"{alt}></main></body></html>')
        return HTMLResponse(body, headers={"content-security-policy": CSP})

    @app.get("/pixel.png")
    def pixel() -> Response:
        return Response(PIXEL, media_type="image/png")

    return app


def test_axe_reports_a_missing_alt_under_a_strict_csp(page: Page, page_requests: list[str],
                                                      serve_app: Callable[[Any], str],
                                                      axe: Callable[[Page], list[dict[str, Any]]]) -> None:
    url = serve_app(pages_app())
    page.goto(f"{url}/bad.html")
    violations = axe(page)
    assert [v["id"] for v in violations] == ["image-alt"], describe_violations(violations)
    assert page.evaluate("() => axe.version") == AXE_CORE_VERSION

    page.goto(f"{url}/good.html")
    assert axe(page) == []
    assert f"{url}/pixel.png" in page_requests and not off_loopback(page_requests), page_requests


@pytest.mark.unit
def test_the_makefile_pins_the_same_axe_core() -> None:
    pinned = re.search(r"^AXE_CORE_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert pinned is not None and pinned.group(1) == AXE_CORE_VERSION


@pytest.mark.unit
def test_off_loopback_keeps_local_schemes_and_flags_other_hosts() -> None:
    urls = ["http://127.0.0.1:8000/docs", "data:image/png;base64,AAAA", "blob:http://127.0.0.1:8000/x",
            "about:blank", "http://localhost:8000/", "https://cdn.jsdelivr.net/npm/swagger-ui-dist"]
    assert off_loopback(urls) == ["http://localhost:8000/", "https://cdn.jsdelivr.net/npm/swagger-ui-dist"]
