"""``GET /watch/{token}``: the new hire's page, and the video, poster and captions behind it.

The token is the only credential (``preboarding.api.watch``): the page never needs the webhook's
secrets, so it works while reads require authentication. Every visit presigns fresh short-lived URLs:
the video and poster are 307 redirects to the store (S3 serves Range requests, so seeking works); the
captions are served from here because a ``<track>`` is fetched with CORS, which a store need not allow.
An unknown or forged token is 404 and an expired or deleted one 410, each a friendly page that never
says whether a video exists.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from preboarding.api.layout import CAPTIONS_KEY, SCRIPT_KEY, THUMBNAIL_KEY, VIDEO_KEY
from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.watch import ExpiredToken, InvalidToken, WatchClaim, verify
from preboarding.bridge.delivery_status import counted_view, update_delivery
from preboarding.bridge.deps import BridgeState, StateDep, StoreDep, call_store, rate_limit
from preboarding.bridge.job_status import status_of
from preboarding.bridge.repository import RepositoryError
from preboarding.bridge.watch import expired_message, watch_page
from preboarding.storage import ObjectNotFound

log = logging.getLogger(__name__)

router = APIRouter(tags=["watch"], dependencies=[Depends(rate_limit)])

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("preboarding.bridge", "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined,
)
_CSS = resources.files("preboarding.bridge").joinpath("static/watch.css").read_bytes()


class _Gone(Exception):
    """The friendly page instead of the video: 404 (not ours) or 410 (ours, but over)."""

    def __init__(self, status: int, message: str, video: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.video = status, message, video


def _headers(state: BridgeState, nonce: str | None = None) -> dict[str, str]:
    """A strict CSP: our own stylesheet, media only from here and the store; no script at all."""
    store = state.settings.store
    public = store.public_endpoint or f"{'https' if store.secure else 'http'}://{store.endpoint}"
    parts = urlsplit(public)
    origin = f"{parts.scheme}://{parts.netloc}"
    style = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    csp = (f"default-src 'none'; style-src {style}; img-src 'self' {origin}; media-src 'self' {origin}; "
           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return {"Content-Security-Policy": csp, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def _gone_page(state: BridgeState, gone: _Gone) -> HTMLResponse:
    spec = (gone.video or {}).get("spec") or {}
    company = (spec.get("company") or {}).get("name")
    heading = "This link has ended" if gone.status == 410 else "This link does not work"
    html = _TEMPLATES.get_template("gone.html").render(
        heading=heading, message=gone.message, company=company, contact=state.settings.hr_contact)
    return HTMLResponse(html, status_code=gone.status, headers=_headers(state))


async def _video(state: BridgeState, token: str) -> tuple[dict[str, Any], WatchClaim, str]:
    """The video a token names and its store prefix, or ``_Gone``."""
    if state.watch_keys is None:
        raise _Gone(404, "Watch links are not enabled here.")
    try:
        claim = verify(state.watch_keys, token, dt.datetime.now(dt.UTC))
    except InvalidToken:
        raise _Gone(404, "This address is not a valid link.") from None
    except ExpiredToken as exc:
        video = await state.videos_by_uid.find(exc.claim.uid)
        raise _Gone(410, expired_message(exc.claim.expires_at), video) from None
    video = await state.videos_by_uid.find(claim.uid)
    if video is None:
        raise _Gone(410, expired_message(None))
    status = status_of(video)
    key = status.video_key
    own = f"{state.settings.namespace}/{video['metadata']['name']}/"
    if not key or not key.startswith(own) or not key.endswith(VIDEO_KEY):
        # Re-rendering after a spec change, or not finished: the new hire gets a page that says so.
        raise _Gone(410, "Your video is being updated. Please try again in a few minutes.", video)
    return video, claim, key[: -len(VIDEO_KEY)]


async def _presigned(state: BridgeState, store: Any, key: str) -> RedirectResponse:
    timeout = state.settings.kube_timeout_seconds
    expires = dt.timedelta(seconds=state.settings.presign_expiry_seconds)
    url = await call_store(lambda: store.presigned_get_url(key, expires), timeout)
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store",
                                                            "Referrer-Policy": "no-referrer"})


@router.get("/watch/{token}", response_class=HTMLResponse, summary="The new hire's watch page",
            responses={404: {"description": "Unknown link (HTML)"}, 410: {"description": "Ended link (HTML)"}})
async def watch(token: str, request: Request, state: StateDep, store: StoreDep) -> Response:
    try:
        video, _, prefix = await _video(state, token)
    except _Gone as gone:
        return _gone_page(state, gone)
    spec = OnboardingVideoSpec.model_validate(video["spec"])
    try:
        raw = await call_store(lambda: store.get_bytes(prefix + SCRIPT_KEY), state.settings.kube_timeout_seconds)
        script = json.loads(raw)
    except (ObjectNotFound, ValueError):
        script = None  # the page still plays the video; the transcript is what is missing
    try:  # counting must never keep the new hire from the video
        await update_delivery(state.deps.repository, video,
                              lambda delivery: counted_view(delivery, dt.datetime.now(dt.UTC)))
    except RepositoryError as exc:
        log.warning("video %s: the view could not be counted (%s)", video["metadata"]["name"], type(exc).__name__)
    nonce = secrets.token_urlsafe(16)
    page = watch_page(spec, script if isinstance(script, dict) else None, f"/watch/{token}")
    html = _TEMPLATES.get_template("watch.html").render(page=page, nonce=nonce)
    return HTMLResponse(html, headers=_headers(state, nonce))


@router.get("/watch/{token}/video.mp4", status_code=307, summary="The video: 307 to a fresh presigned URL")
async def watch_video(token: str, state: StateDep, store: StoreDep) -> Response:
    try:
        _, _, prefix = await _video(state, token)
    except _Gone as gone:
        return _gone_page(state, gone)
    return await _presigned(state, store, prefix + VIDEO_KEY)


@router.get("/watch/{token}/poster.jpg", status_code=307, summary="The video's first frame: 307 to the store")
async def watch_poster(token: str, state: StateDep, store: StoreDep) -> Response:
    try:
        _, _, prefix = await _video(state, token)
    except _Gone as gone:
        return _gone_page(state, gone)
    return await _presigned(state, store, prefix + THUMBNAIL_KEY)


@router.get("/watch/{token}/captions.vtt", summary="The captions (WebVTT), served from here for <track>")
async def watch_captions(token: str, state: StateDep, store: StoreDep) -> Response:
    try:
        _, _, prefix = await _video(state, token)
    except _Gone as gone:
        return _gone_page(state, gone)
    try:
        body = await call_store(lambda: store.get_bytes(prefix + CAPTIONS_KEY), state.settings.kube_timeout_seconds)
    except ObjectNotFound:
        return Response("WEBVTT\n", media_type="text/vtt; charset=utf-8", headers={"Cache-Control": "no-store"})
    return Response(body, media_type="text/vtt; charset=utf-8", headers={"Cache-Control": "no-store"})


@router.get("/watch-assets/watch.css", include_in_schema=False)
async def watch_css() -> Response:
    return Response(_CSS, media_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=3600"})
