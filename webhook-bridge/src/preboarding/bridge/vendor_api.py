"""The I/O edge to an HR vendor's API: bounded time, retries with backoff inside that bound, one error family.

A webhook that carries only ids is completed within the request: the bridge calls the vendor, and if
the vendor is down the delivery is answered 503 with Retry-After so the vendor redelivers (every vendor
retries on 5xx), and nothing is created. 401/403 mean the source's API token is wrong: 502, and the
source's Ready condition says ApiUnauthorized.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)

USER_AGENT = "preboarding-bridge"
HEADERS = {"Accept": "application/json", "User-Agent": USER_AGENT}


class VendorApiError(Exception):
    """A call to the vendor's API failed; the message is safe to show (no URL, no token, no payload)."""


class VendorApiUnavailable(VendorApiError):
    """Unreachable, timed out, 5xx or 429: the vendor should redeliver later."""


class VendorApiUnauthorized(VendorApiError):
    """401/403: the API token is wrong or lacks a permission."""


class VendorApiNotFound(VendorApiError):
    """404: the vendor does not know the person (yet: HiBob says data may lag by seconds)."""


class VendorApiBadAnswer(VendorApiError):
    """Any other 4xx, or a body that is not JSON."""


@dataclass(frozen=True)
class ApiLimits:
    """How long one delivery may spend on the vendor's API, in all, and how it retries within that."""

    total_seconds: float = 10.0
    attempts: int = 3
    first_backoff_seconds: float = 0.25


class VendorApiClient:
    """``VendorApi`` over HTTP(S) with Basic authentication, for one delivery: its calls share one time budget.

    ``client`` is shared (connection pooling, one per source); a new ``VendorApiClient`` per delivery
    starts a new budget of ``limits.total_seconds``.
    """

    def __init__(self, client: httpx.AsyncClient, base_url: str, credentials: tuple[str, str],
                 limits: ApiLimits | None = None) -> None:
        self.limits = limits or ApiLimits()
        self._client = client
        self._base = base_url.rstrip("/") + "/"
        self._auth = httpx.BasicAuth(*credentials)
        self._deadline = time.monotonic() + self.limits.total_seconds

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return await self._call("GET", path, params=dict(params or {}))

    async def post(self, path: str, json: Any) -> Any:
        return await self._call("POST", path, json=json)

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        deadline = self._deadline
        url = self._base + path.lstrip("/")
        backoff = self.limits.first_backoff_seconds
        last: VendorApiError = VendorApiUnavailable("the vendor's API did not answer in time")
        for attempt in range(1, self.limits.attempts + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                response = await self._client.request(method, url, auth=self._auth, timeout=remaining,
                                                      headers=HEADERS, follow_redirects=False, **kwargs)
            except httpx.HTTPError as exc:
                last = VendorApiUnavailable(f"the vendor's API is unreachable ({type(exc).__name__})")
            else:
                status = response.status_code
                if status in (401, 403):
                    raise VendorApiUnauthorized(f"the vendor's API refused the source's token (HTTP {status})")
                if status == 404:
                    raise VendorApiNotFound("the vendor's API does not know this record (HTTP 404)")
                if status == 429 or status >= 500:
                    last = VendorApiUnavailable(f"the vendor's API is unavailable (HTTP {status})")
                elif status >= 300:
                    raise VendorApiBadAnswer(f"unexpected answer from the vendor's API (HTTP {status})")
                else:
                    try:
                        return response.json()
                    except ValueError:
                        raise VendorApiBadAnswer("the vendor's API answered with something that is not JSON") from None
            log.info("vendor API %s attempt %d failed: %s", method, attempt, last)
            if attempt < self.limits.attempts:
                await asyncio.sleep(min(backoff, max(0.0, deadline - time.monotonic())))
                backoff *= 2
        raise last
