"""Fixtures of the browser tests (a pytest plugin of tests/conftest.py): Debian's chromium driven by
Playwright, a recorded page, axe-core, screenshots.

Without chromium, the playwright package or axe-core these tests skip, saying what to run; with
``PREBOARDING_REQUIRE_BROWSER`` set (``make test`` sets it) they fail instead, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from preboarding.testenv.binaries import cache_dir
from tests.browser.harness import AXE_CORE_VERSION, CHROMIUM, CHROMIUM_ARGS, LiveServer, file_name, run_axe

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def browser_required() -> bool:
    """``PREBOARDING_REQUIRE_BROWSER`` is set: a missing browser piece is a failure, not a skip."""
    return os.environ.get("PREBOARDING_REQUIRE_BROWSER", "") not in ("", "0")


def missing(what: str, fix: str) -> NoReturn:
    message = f"{what}: {fix}"
    if browser_required():
        pytest.fail(f"{message} (PREBOARDING_REQUIRE_BROWSER is set, so this is not skipped)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, launched once per test module (about a second).

    Module scope rather than a wider one: Playwright's sync API keeps an event loop running in the test
    thread while it is open, and any later ``asyncio.run`` in the same thread (other modules of the same
    package, tests/unit) would fail with "cannot be called from a running event loop".
    """
    if not CHROMIUM.exists():
        missing(f"no chromium at {CHROMIUM}", "`make browser-deps` installs Debian's")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed", "`.venv/bin/pip install -e '.[test]'`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page_requests() -> list[str]:
    """Every URL the test's ``page`` (and any popup of it) requested, websockets included, in order."""
    return []


@pytest.fixture
def page(browser: Browser, page_requests: list[str]) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies, storage or cache shared with other tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", service_workers="block")
    context.set_default_timeout(15_000)
    context.on("request", lambda request: page_requests.append(request.url))
    context.on("page", lambda opened: opened.on("websocket", lambda ws: page_requests.append(ws.url)))
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="session")
def axe_js() -> Path:
    """axe.min.js of the pinned axe-core, as ``make axe-core`` caches it."""
    path = cache_dir() / f"axe-core-{AXE_CORE_VERSION}" / "axe.min.js"
    if not path.is_file():
        missing(f"axe-core {AXE_CORE_VERSION} is not at {path}", "`make axe-core` fetches it from npm")
    return path


@pytest.fixture
def axe(axe_js: Path) -> Callable[..., list[dict[str, Any]]]:
    """``axe(page)``: inject axe-core into the page and return its WCAG 2 A and AA violations (axe's dicts)."""

    def check(page: Page, **options: Any) -> list[dict[str, Any]]:
        return run_axe(page, axe_js, **options)

    return check


@pytest.fixture
def test_output_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where a test leaves files to look at: ``$PREBOARDING_TEST_OUTPUT/<test>/``, else pytest's tmp_path."""
    root = os.environ.get("PREBOARDING_TEST_OUTPUT")
    if not root:
        return tmp_path
    folder = Path(root) / file_name(request.node.nodeid)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def screenshot(test_output_dir: Path) -> Callable[[Page, str], Path]:
    """``screenshot(page, name)``: a full-page PNG in the test's output folder; returns its path."""

    def take(page: Page, name: str) -> Path:
        path = test_output_dir / f"{file_name(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], str]]:
    """``serve_app(app)``: serve an ASGI app on 127.0.0.1 for this test (uvicorn in a thread); returns its URL."""
    servers: list[LiveServer] = []

    def serve(app: Any) -> str:
        server = LiveServer(app)
        url = server.start()
        servers.append(server)
        return url

    yield serve
    for server in reversed(servers):
        server.stop()
