"""What the browser tests share besides fixtures: the chromium launch, a live ASGI server, axe-core, loopback checks.

Debian's chromium (``make browser-deps``) is driven by the ``playwright`` wheel of the test extra; Playwright's own
browser download is never used, so the wheel is pinned to the release built for Debian's Chromium major.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import uvicorn

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
# What this machine's closed network needs: no background traffic (its connections are refused, many at a time),
# no sandbox as root. Playwright adds --headless and a fresh --user-data-dir (a temporary profile) itself.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
# The Makefile's AXE_CORE_VERSION (test_harness.py checks that the two agree); `make axe-core` caches it.
AXE_CORE_VERSION = "4.14.1"
AXE_TAGS = ("wcag2a", "wcag2aa")
LOOPBACK = "127.0.0.1"
# Schemes that never reach a network: the page's own data, blobs and blank frames.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})


def off_loopback(urls: list[str]) -> list[str]:
    """The URLs that went somewhere other than 127.0.0.1 (``data:``, ``blob:`` and ``about:`` stay local)."""
    return [url for url in urls
            if urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).hostname != LOOPBACK]


def run_axe(page: Page, axe_js: Path, tags: tuple[str, ...] = AXE_TAGS) -> list[dict[str, Any]]:
    """Inject axe-core into every frame of ``page`` and return the violations of the ``tags`` rules.

    ``page.evaluate`` goes through the DevTools protocol, which a page's Content-Security-Policy does not govern:
    a strict CSP (no inline script, as on the watch page) keeps working, where ``add_script_tag`` would be refused.
    """
    source = axe_js.read_text()
    for frame in page.frames:
        frame.evaluate(source)
    violations: list[dict[str, Any]] = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        list(tags),
    )
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per violated rule with the elements it flagged: readable in an assertion message."""
    lines = []
    for violation in violations:
        targets = ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:5])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -- {targets}")
    return "\n".join(lines) or "no violations"


def file_name(name: str) -> str:
    """``name`` made safe as one path component (test ids carry brackets, slashes and colons)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "unnamed"


class LiveServer:
    """An ASGI app served by uvicorn on 127.0.0.1 (a free port) in a thread of this process.

    The thread runs its own event loop, so the app's lifespan and requests run as they do in the real process,
    while the test's thread drives Playwright's sync API.
    """

    def __init__(self, app: Any, *, start_timeout: float = 10.0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((LOOPBACK, 0))
        port = self._socket.getsockname()[1]
        self.url = f"http://{LOOPBACK}:{port}"
        config = uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning", access_log=False,
                                lifespan="on", ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"uvicorn-{port}", daemon=True)
        self._start_timeout = start_timeout

    def start(self) -> str:
        """Start serving; returns the base URL once uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"uvicorn exited before serving {self.url} (its log says why)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"uvicorn did not serve {self.url} within {self._start_timeout} s")
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        """Let uvicorn finish its requests and the app's lifespan, then close the socket."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
