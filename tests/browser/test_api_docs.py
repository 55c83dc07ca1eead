"""The bridge's API docs in a real browser: Swagger UI from fastapi-offline's local assets, nothing off 127.0.0.1.

The bridge app is the one ``create_app`` builds, on the unit tests' in-memory fakes (no Kubernetes, no store
server), served by uvicorn on 127.0.0.1 in a thread of this process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr

from preboarding.bridge.deps import BridgeDeps
from preboarding.bridge.main import create_app
from preboarding.bridge.settings import BridgeSettings
from preboarding.storage import LocalStore
from tests.unit.bridge.fakes import InMemorySourceRepository, InMemoryVideoRepository

from .harness import off_loopback

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.timeout(120)

TOKEN = "bearer-token-for-browser-tests-0123"


@pytest.fixture
def bridge_url(serve_app: Callable[[Any], str], tmp_path: Path) -> str:
    settings = BridgeSettings(namespace="hr", bearer_tokens=[SecretStr(TOKEN)], rate_limit_per_minute=0,
                              source_refresh_seconds=0)
    deps = BridgeDeps(repository=InMemoryVideoRepository("hr"), store=LocalStore(tmp_path / "store"),
                      sources=InMemorySourceRepository())
    return serve_app(create_app(settings, deps))


def test_the_api_docs_render_swagger_ui_from_local_assets(page: Page, page_requests: list[str], bridge_url: str,
                                                          screenshot: Callable[[Page, str], Path]) -> None:
    from playwright.sync_api import expect

    response = page.goto(f"{bridge_url}/docs")
    assert response is not None and response.status == 200
    # Swagger UI rendered the bridge's OpenAPI document: its title and the webhook operation are on screen.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Preboarding webhook bridge")
    webhook = page.locator(".opblock-summary-path", has_text="/webhooks/user-onboarding").first
    expect(webhook).to_be_visible()
    page.wait_for_load_state("networkidle")  # late requests too (fonts, images, a validator badge)
    shot = screenshot(page, "api-docs")
    assert shot.stat().st_size > 10_000, shot
    # Swagger UI's own script works: an operation opens and shows its request body's example.
    webhook.click()
    expect(page.locator(".opblock.is-open .opblock-body").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert f"{bridge_url}/openapi.json" in page_requests, page_requests
    assert any("/docs/static/" in url for url in page_requests), page_requests
    assert not off_loopback(page_requests), off_loopback(page_requests)
