"""The watch page in a real browser: Debian's chromium, headless, driven by Playwright (no browser download).

On the ground: the bridge process, the real apiserver and MinIO, a real H.264 MP4 with WebVTT captions.
The page must play the video (readyState >= 2, the right duration), show caption cues, seek to 80%, make
no request that leaves 127.0.0.1, fit a phone without horizontal scrolling, and pass axe-core's WCAG 2 A
and AA rules. The browser, axe and screenshots are tests/browser's fixtures. Screenshots of desktop and
phone go to the test's output folder (``PREBOARDING_TEST_OUTPUT``, else pytest's tmp_path).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from preboarding.api.watch import WatchKeys, mint
from preboarding.storage import S3Store
from tests.browser.harness import describe_violations, off_loopback

from .conftest import unique_id
from .harness import BridgeProcess, example_payload
from .test_bridge import post, read_video, set_status
from .test_watch import KEYS, small_mp4

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

CAPTIONS = "WEBVTT\n\n00:00.000 --> 00:01.000\nHello Zoë\n\n00:01.000 --> 00:02.000\nWelcome aboard\n"


@pytest.fixture
def watch_link(bridge_factory: Any, bridge_kubeconfig: Path, kube_api: Any, namespace: str, store: S3Store,
               tmp_path: Path) -> Iterator[str]:
    """A rendered-looking video (a real MP4, captions, script) behind a genuine watch link."""
    bridge: BridgeProcess = bridge_factory(bridge_kubeconfig, PREBOARDING_WATCH_KEYS=KEYS)
    with httpx.Client(base_url=bridge.url, timeout=30) as http:
        payload = example_payload(unique_id())
        payload["employee"] |= {"name": "Zoë Ångström-Núñez", "manager": "Mara Manager", "buddy": "Ada Quinn"}
        job_id = post(http, bridge, payload, "msg-browser").json()["job_id"]
    uid = read_video(kube_api, namespace, job_id)["metadata"]["uid"]
    prefix = f"{namespace}/{job_id}/{uid}/"
    store.put_bytes(prefix + "video.mp4", small_mp4(tmp_path / "v.mp4"), content_type="video/mp4")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(tmp_path / "v.mp4"), "-frames:v", "1",
                    str(tmp_path / "poster.jpg")], check=True)
    store.put_bytes(prefix + "thumbnail.jpg", (tmp_path / "poster.jpg").read_bytes(), "image/jpeg")
    store.put_bytes(prefix + "captions.vtt", CAPTIONS.encode(), "text/vtt")
    store.put_bytes(prefix + "script.json", json.dumps({"title": "Welcome", "lines": [
        {"speaker": "alex", "section": "welcome", "text": "Hello Zoë, welcome aboard!"},
        {"speaker": "jordan", "section": "welcome", "text": "Your first week, in two minutes."}]}).encode(),
        "application/json")
    set_status(kube_api, namespace, job_id, {"phase": "Succeeded", "videoKey": prefix + "video.mp4",
                                              "storagePrefix": prefix})
    try:
        yield f"{bridge.url}/watch/{mint(WatchKeys.parse(KEYS), uid, dt.datetime.now(dt.UTC) + dt.timedelta(days=1))}"
    finally:
        store.delete_prefix(prefix)


def open_page(browser: Browser, url: str, requests: list[str], **context: Any) -> tuple[BrowserContext, Page]:
    """The page in a fresh context of the shared chromium, every request (and websocket) recorded."""
    ctx = browser.new_context(service_workers="block", **context)
    ctx.on("request", lambda request: requests.append(request.url))
    page = ctx.new_page()
    page.on("websocket", lambda ws: requests.append(ws.url))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200
    return ctx, page


def test_the_watch_page_plays_captions_seeks_and_passes_axe_in_chromium(
        browser: Browser, watch_link: str, axe: Callable[[Page], list[dict[str, Any]]],
        screenshot: Callable[[Page, str], Path]) -> None:
    requests: list[str] = []
    ctx, page = open_page(browser, watch_link, requests, viewport={"width": 1280, "height": 900})
    try:
        page.wait_for_function("() => document.querySelector('video').readyState >= 2", timeout=30_000)
        duration = page.evaluate("() => document.querySelector('video').duration")
        assert 1.8 <= duration <= 2.2, duration
        # The captions track is on by default and its cues loaded (served by the bridge, same origin).
        page.wait_for_function("() => { const t = document.querySelector('video').textTracks[0];"
                               " return t && t.mode === 'showing' && t.cues && t.cues.length === 2; }",
                               timeout=15_000)
        # Seeking: S3 answers the browser's Range requests behind the bridge's redirect.
        page.evaluate("() => { const v = document.querySelector('video'); v.currentTime = v.duration * 0.8; }")
        page.wait_for_function("() => { const v = document.querySelector('video');"
                               " return !v.seeking && Math.abs(v.currentTime - v.duration * 0.8) < 0.3; }",
                               timeout=15_000)
        assert page.locator("h1").inner_text() == "Welcome, Zoë!"
        assert "Hello Zoë, welcome aboard!" in page.locator(".transcript").inner_text()
        assert page.locator("main").count() == 1 and page.evaluate("() => document.documentElement.lang") == "en"
        # axe-core (WCAG 2 A and AA rules), injected over DevTools: the page's CSP allows no script at all.
        violations = axe(page)
        assert violations == [], describe_violations(violations)
        screenshot(page, "watch-desktop")
    finally:
        ctx.close()
    assert requests and not off_loopback(requests), off_loopback(requests)


def test_the_watch_page_fits_a_phone_and_passes_axe(browser: Browser, watch_link: str,
                                                    axe: Callable[[Page], list[dict[str, Any]]],
                                                    screenshot: Callable[[Page, str], Path]) -> None:
    requests: list[str] = []
    ctx, page = open_page(browser, watch_link, requests, viewport={"width": 390, "height": 844},
                          device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page.wait_for_function("() => document.querySelector('video').readyState >= 1", timeout=30_000)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{overflow}px of horizontal scroll on a phone"
        box = page.locator("video").bounding_box()
        assert box is not None and box["width"] <= 390
        # The poster (the thumbnail, through the bridge's redirect to the store) is shown before playing.
        # (The page itself may not fetch: its CSP has no connect-src, so the check asks from outside.)
        poster = ctx.request.get(page.evaluate("() => document.querySelector('video').poster"))
        assert poster.status == 200 and poster.headers["content-type"] == "image/jpeg"
        violations = axe(page)
        assert violations == [], describe_violations(violations)
        screenshot(page, "watch-phone")
    finally:
        ctx.close()
    assert not off_loopback(requests), off_loopback(requests)
