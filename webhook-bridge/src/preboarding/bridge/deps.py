"""What the routes depend on, as ``Annotated`` aliases: settings, repository, store, clock, checks.

``BridgeDeps`` is what ``create_app`` is given (real Kubernetes and S3, or fakes in tests); the app
keeps it, with per-app state (metrics, rate limiter), in ``app.state.bridge``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

import anyio
from anyio import to_thread
from fastapi import Depends, Request

from preboarding.api.watch import WatchKeys
from preboarding.bridge.errors import ApiError
from preboarding.bridge.job_status import JobLinks
from preboarding.bridge.mail_events import MailEventKey
from preboarding.bridge.metrics import BridgeMetrics
from preboarding.bridge.ratelimit import TokenBucketLimiter
from preboarding.bridge.repository import VideoRepository
from preboarding.bridge.settings import BridgeSettings
from preboarding.bridge.signatures import Caller, SignatureError, authenticate
from preboarding.bridge.source_repository import SourceRepository
from preboarding.bridge.watch import VideoFinder
from preboarding.storage import Store, StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")

WEBHOOK_PATH = "/webhooks/user-onboarding"


# Every dependency is ``async def``, even the trivial ones: FastAPI runs a plain ``def`` dependency in
# the thread pool, which costs a thread hop per dependency per request.


@dataclass
class BridgeDeps:
    """The adapters the app runs against; ``clock`` is wall time (signature timestamps)."""

    repository: VideoRepository
    store: Store
    sources: SourceRepository | None = None  # None: no OnboardingSources (POST /webhooks/sources/* is 404)
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic


@dataclass
class BridgeState:
    settings: BridgeSettings
    deps: BridgeDeps
    metrics: BridgeMetrics = field(default_factory=BridgeMetrics)
    limiter: TokenBucketLimiter = field(init=False)
    keys: list[bytes] = field(init=False)
    tokens: list[str] = field(init=False)
    started_at: float = field(init=False)
    watch_keys: WatchKeys | None = field(init=False)
    videos_by_uid: VideoFinder = field(init=False)
    mail_event_key: MailEventKey | None = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = TokenBucketLimiter(self.settings.rate_limit_per_minute, self.settings.rate_limit_burst)
        self.keys = self.settings.secret_keys()
        self.tokens = self.settings.tokens()
        self.started_at = self.deps.monotonic()
        keys = self.settings.watch_keys
        self.watch_keys = WatchKeys.parse(keys.get_secret_value()) if keys else None
        self.videos_by_uid = VideoFinder(self.deps.repository)
        key = self.settings.sendgrid_event_key
        self.mail_event_key = MailEventKey.parse(key) if key else None


async def get_state(request: Request) -> BridgeState:
    state: BridgeState = request.app.state.bridge
    return state


StateDep = Annotated[BridgeState, Depends(get_state)]


async def get_settings(state: StateDep) -> BridgeSettings:
    return state.settings


async def get_repository(state: StateDep) -> VideoRepository:
    return state.deps.repository


async def get_store(state: StateDep) -> Store:
    return state.deps.store


def links_for(request: Request, state: BridgeState) -> JobLinks:
    """Absolute links: ``PREBOARDING_PUBLIC_URL``, else the request's own base URL."""
    base = str(state.settings.public_url) if state.settings.public_url else str(request.base_url)
    return JobLinks(base)


async def get_links(request: Request, state: StateDep) -> JobLinks:
    return links_for(request, state)


SettingsDep = Annotated[BridgeSettings, Depends(get_settings)]
RepositoryDep = Annotated[VideoRepository, Depends(get_repository)]
StoreDep = Annotated[Store, Depends(get_store)]
LinksDep = Annotated[JobLinks, Depends(get_links)]


def rejected(request: Request, state: BridgeState, error: ApiError, reason: str) -> ApiError:
    """Count a refused webhook delivery (other routes' refusals are only in the request metrics)."""
    if request.scope.get("path") == WEBHOOK_PATH:
        state.metrics.webhook("rejected", reason)
    return error


async def rate_limit(request: Request, state: StateDep) -> None:
    """429 with Retry-After once a client address has used up its bucket (runs on the event loop)."""
    client = request.client.host if request.client else "unknown"
    wait = state.limiter.acquire(client, state.deps.monotonic())
    if wait > 0:
        retry_after = str(max(1, int(wait + 0.999)))
        raise rejected(request, state, ApiError(
            429, "rate_limited", f"too many requests from this client; retry after {retry_after} s",
            headers={"Retry-After": retry_after}), "rate_limited")


async def read_body(request: Request, state: StateDep) -> bytes:
    """The request body, refused with 413 as soon as it exceeds the cap (not trusting Content-Length)."""
    cached: bytes | None = getattr(request.state, "raw_body", None)
    if cached is not None:
        return cached
    limit = state.settings.max_body_bytes

    def too_large() -> ApiError:
        return rejected(request, state, ApiError(
            413, "payload_too_large", f"the body exceeds {limit} bytes"), "too_large")

    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise rejected(request, state, ApiError(400, "bad_request", "Content-Length is not a number"),
                           "bad_request")
        if int(declared) > limit:
            raise too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    body = b"".join(chunks)
    request.state.raw_body = body
    return body


RawBody = Annotated[bytes, Depends(read_body)]


async def require_caller(request: Request, state: StateDep, body: RawBody) -> Caller:
    """A valid Standard Webhooks signature or bearer token, else 401."""
    try:
        return authenticate(request.headers, body, state.keys, state.tokens, state.deps.clock())
    except SignatureError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if state.tokens else None
        raise rejected(request, state, ApiError(401, "unauthorized", exc.reason, headers=headers),
                       "unauthorized") from None


CallerDep = Annotated[Caller, Depends(require_caller)]


async def read_access(request: Request, state: StateDep) -> None:
    """The status and video routes: open, unless ``PREBOARDING_READS_REQUIRE_AUTH`` is set."""
    if state.settings.reads_require_auth:
        await require_caller(request, state, await read_body(request, state))


async def require_json(request: Request, state: StateDep) -> None:
    """415 unless the body is declared as JSON (``application/json``, any charset parameter)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise rejected(request, state, ApiError(
            415, "unsupported_media_type", "send the payload as Content-Type: application/json"), "media_type")


@dataclass(frozen=True)
class Delivery:
    """A webhook request that passed the transport checks: JSON, within the size cap, authenticated."""

    body: bytes
    caller: Caller


async def receive_delivery(request: Request, state: StateDep) -> Delivery:
    """415 unless JSON, then 413 past the size cap, then 401 unless signed or bearer-authenticated.

    One dependency rather than three chained ones: FastAPI's per-dependency cost is paid on every
    webhook (see benchmarks/bridge.py).
    """
    await require_json(request, state)
    body = await read_body(request, state)
    return Delivery(body=body, caller=await require_caller(request, state, body))


DeliveryDep = Annotated[Delivery, Depends(receive_delivery)]


async def call_store(fn: Callable[[], T], timeout: float) -> T:
    """Run a blocking store call in a worker thread; 503 if the store fails or does not answer in time."""
    try:
        with anyio.fail_after(timeout):
            return await to_thread.run_sync(fn, abandon_on_cancel=True)
    except TimeoutError:
        raise ApiError(503, "store_unavailable", "the object store did not answer in time; retry later",
                       headers={"Retry-After": "5"}) from None
    except StoreError as exc:
        log.warning("object store call failed: %s", exc)
        raise ApiError(503, "store_unavailable", "the object store is unavailable; retry later",
                       headers={"Retry-After": "5"}) from None
