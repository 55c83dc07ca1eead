"""``POST /webhooks/sources/{name}``: an HR system's own webhook, through its OnboardingSource.

Order matters, so that bad input loses nothing and creates nothing: the source and its Secret first
(503 while it is not ready, so the vendor redelivers once it is fixed); the vendor's signature over the
raw bytes (401); the payload (422 naming the fields); lookups in the vendor's API (503 with Retry-After
while it is down); every manifest built and validated before the first one is created; then the usual
idempotent delivery per video. Successes answer 200: Greenhouse and HiBob treat anything but 200 as a
failure (https://developers.greenhouse.io/webhooks.html, "Introduction";
https://apidocs.hibob.com/docs/working-with-webhooks).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from preboarding.api.sources import DeliveryOutcome
from preboarding.bridge.delivery import DeliveryContention, deliver
from preboarding.bridge.deps import StateDep, links_for, rate_limit, read_body
from preboarding.bridge.errors import ApiError, repository_error
from preboarding.bridge.hires import hire_manifest, source_video_name
from preboarding.bridge.idempotency import Decision
from preboarding.bridge.intake import InvalidPayload
from preboarding.bridge.models import SourceDeliveryAnswer, SourceJob, SourceJobState, SourceOutcome
from preboarding.bridge.repository import Rejected
from preboarding.bridge.routes import error_responses
from preboarding.bridge.signatures import SignatureError
from preboarding.bridge.source_repository import SourceRepository
from preboarding.bridge.source_status import Readiness
from preboarding.bridge.sources import ResolvedSource, SourceNotFound, SourceNotReady, record, resolve_source
from preboarding.bridge.vendor_api import (
    VendorApiClient,
    VendorApiError,
    VendorApiNotFound,
    VendorApiUnauthorized,
    VendorApiUnavailable,
)
from preboarding.bridge.vendors.base import EventKind, NewHire, SignedRequest, VendorEvent

log = logging.getLogger(__name__)

SOURCE_PATH = "/webhooks/sources/{name}"
RETRY_AFTER_NOT_READY = "60"
RETRY_AFTER_VENDOR_API = "30"

router = APIRouter(tags=["sources"], dependencies=[Depends(rate_limit)])

_JOB_STATUS: dict[Decision, SourceJobState] = {
    Decision.CREATED: "queued", Decision.UPDATE: "updated", Decision.DUPLICATE: "duplicate", Decision.ABSENT: "absent",
}


class _Refused(Exception):
    """A delivery refused after the source was resolved: the answer, and what to count."""

    def __init__(self, error: ApiError, outcome: DeliveryOutcome, reason: str,
                 readiness: Readiness | None = None) -> None:
        super().__init__(error.message)
        self.error, self.outcome, self.reason, self.readiness = error, outcome, reason, readiness


@router.post(
    SOURCE_PATH,
    response_model=SourceDeliveryAnswer,
    summary="Receive an HR system's webhook through an OnboardingSource",
    description=(
        "The body is the vendor's own JSON (Greenhouse, BambooHR, Ashby, Lever, HiBob), signed the vendor's "
        "way with the Secret the OnboardingSource names; `standard` sources take the native payload signed "
        "with Standard Webhooks, `generic` sources any JSON mapped by the source's JMESPath mapping. 200 with "
        "the outcome (accepted, updated, duplicate, deleted, ignored, ping) and the videos it concerns."
    ),
    responses=error_responses(400, 401, 404, 409, 413, 422, 429, 502, 503),
)
async def receive_source_delivery(name: str, request: Request, state: StateDep) -> JSONResponse:
    repository = state.deps.sources
    if repository is None:
        raise ApiError(404, "source_not_found", "OnboardingSources are not enabled in this bridge")
    body = await read_body(request, state)
    try:
        source = await resolve_source(repository, name)
    except SourceNotFound:
        state.metrics.webhook("rejected", "unknown_source")
        raise ApiError(404, "source_not_found", f"no OnboardingSource {name!r} in this namespace") from None
    except SourceNotReady as exc:
        await record(repository, name, None, readiness=exc.readiness, outcome="error", reason=exc.readiness.reason)
        state.metrics.webhook("error", "source_not_ready")
        raise ApiError(503, "source_not_ready", f"{exc.readiness.reason}: {exc.readiness.message}",
                       headers={"Retry-After": RETRY_AFTER_NOT_READY}) from None
    signed = SignedRequest(headers={k.lower(): v for k, v in request.headers.items()}, body=body)
    try:
        outcome, action, jobs, readiness = await _handle(request, state, repository, source, signed)
    except _Refused as refused:
        await record(repository, name, None, readiness=refused.readiness, outcome=refused.outcome,
                     reason=refused.reason, from_delivery=True)
        state.metrics.webhook("rejected" if refused.outcome == "rejected" else "error", refused.reason)
        raise refused.error from None
    await record(repository, name, None, readiness=readiness or Readiness.ok(), outcome=outcome,
                 from_delivery=readiness is not None)
    state.metrics.webhook(outcome)
    log.info("source %s (%s): %s %s, %d video(s)", name, source.spec.vendor.value, action, outcome, len(jobs))
    answer = SourceDeliveryAnswer(source=name, status=outcome, action=action, jobs=jobs)
    return JSONResponse(answer.model_dump(mode="json"), status_code=200)


async def _handle(request: Request, state: Any, repository: SourceRepository, source: ResolvedSource,
                  signed: SignedRequest) -> tuple[SourceOutcome, str, list[SourceJob], Readiness | None]:
    adapter = source.adapter
    if adapter.unsigned_ping(signed):
        return "ping", "ping", [], None
    try:
        adapter.verify(signed, source.secret, state.deps.clock())
    except SignatureError as exc:
        raise _Refused(ApiError(401, "unauthorized", exc.reason), "rejected", "unauthorized") from None
    try:
        events = adapter.parse(signed)
    except InvalidPayload as exc:
        raise _Refused(_invalid(exc, "invalid vendor payload"), "rejected", "invalid_payload") from None
    action = ",".join(dict.fromkeys(e.action for e in events)) or "none"
    if all(e.kind is EventKind.PING for e in events):
        return "ping", action, [], None
    ctx = source.context()
    # Every person of every event is looked up and validated before anything is written: a delivery
    # that cannot be handled whole changes nothing, and its redelivery starts from the same state.
    planned: list[tuple[VendorEvent, list[dict[str, Any]]]] = []
    looked_up = False
    for event in events:
        if event.kind not in (EventKind.HIRE, EventKind.UPDATE):
            planned.append((event, []))
            continue
        hires, did_lookup = await _complete(source, event)
        looked_up = looked_up or did_lookup
        try:
            planned.append((event, [hire_manifest(h, ctx, state.settings.namespace, event.delivery_id)
                                    for h in hires]))
        except InvalidPayload as exc:
            raise _Refused(_invalid(exc, "the new hire cannot make a valid video"), "rejected",
                           "invalid_payload") from None
    links = links_for(request, state)
    jobs: list[SourceJob] = []
    for event, manifests in planned:
        if event.kind is EventKind.REMOVE:
            jobs += await _remove(state.deps.repository, ctx, event, links)
        else:
            jobs += [await _deliver(state.deps.repository, m, event, links) for m in manifests]
    return _overall(jobs), action, jobs, (Readiness.ok() if looked_up else None)


async def _remove(videos: Any, ctx: Any, event: VendorEvent, links: Any) -> list[SourceJob]:
    """A rescinded hire or a deleted person: their video goes (the finalizer erases the stored data)."""
    jobs = []
    for person in event.person_ids:
        job_id = source_video_name(ctx, person)
        removed = await videos.delete(job_id)
        jobs.append(SourceJob(job_id=job_id, status="deleting" if removed else "absent",
                              status_url=links.status(job_id)))
    return jobs


async def _deliver(videos: Any, manifest: dict[str, Any], event: VendorEvent, links: Any) -> SourceJob:
    job_id = manifest["metadata"]["name"]
    try:
        decision, _ = await deliver(videos, manifest, update_only=event.kind is EventKind.UPDATE)
    except Rejected as exc:
        raise _Refused(repository_error(exc), "rejected", "apiserver_validation") from None
    except DeliveryContention:
        raise _Refused(ApiError(409, "conflict", "this person's video changed concurrently; retry the delivery",
                                headers={"Retry-After": "1"}), "error", "conflict") from None
    if decision is Decision.DELETING:
        raise _Refused(ApiError(409, "job_deleting", "this person's previous video is being deleted; retry "
                                "shortly", headers={"Retry-After": "5"}), "error", "job_deleting")
    return SourceJob(job_id=job_id, status=_JOB_STATUS[decision], status_url=links.status(job_id))


def _overall(jobs: list[SourceJob]) -> SourceOutcome:
    """What the delivery did as a whole: the strongest of its videos' outcomes."""
    states = {j.status for j in jobs}
    for state, outcome in (("queued", "accepted"), ("updated", "updated"), ("deleting", "deleted"),
                           ("duplicate", "duplicate")):
        if state in states:
            return outcome  # type: ignore[return-value]  # the literals above are SourceOutcome values
    return "ignored"


def _invalid(exc: InvalidPayload, what: str) -> ApiError:
    names = ", ".join(p.field for p in exc.problems)
    return ApiError(422, "invalid_payload", f"{what}: {names}", fields=exc.problems)


async def _complete(source: ResolvedSource, event: VendorEvent) -> tuple[list[NewHire], bool]:
    """Every hire completed through the vendor's API where it needs it (and an API is configured)."""
    adapter = source.adapter
    todo = [h for h in event.hires if adapter.needs_lookup(h)]
    if not todo or source.api_url is None or source.api_token is None:
        return list(event.hires), False
    done: dict[int, NewHire] = {}
    async with httpx.AsyncClient() as client:
        api = VendorApiClient(client, source.api_url, adapter.api_credentials(source.api_token))
        try:
            for index, hire in enumerate(event.hires):
                if adapter.needs_lookup(hire):
                    done[index] = await adapter.complete(hire, api)
        except VendorApiUnauthorized as exc:
            readiness = Readiness(False, "ApiUnauthorized", f"{source.spec.vendor.value}'s API refused the token in "
                                  f"spec.api.tokenSecretRef: {exc}")
            raise _Refused(ApiError(502, "vendor_api_unauthorized", str(exc)), "error", "vendor_api_unauthorized",
                           readiness) from None
        except (VendorApiUnavailable, VendorApiNotFound) as exc:
            # Not found too: HiBob documents that new data may take seconds to be readable; a redelivery
            # later finds it, and vendors retry on 5xx (BambooHR only on 5xx).
            raise _Refused(ApiError(503, "vendor_api_unavailable", f"{exc}; the delivery can be retried",
                                    headers={"Retry-After": RETRY_AFTER_VENDOR_API}),
                           "error", "vendor_api_unavailable") from None
        except VendorApiError as exc:
            raise _Refused(ApiError(502, "vendor_api_error", str(exc)), "error", "vendor_api_error") from None
    return [done.get(i, h) for i, h in enumerate(event.hires)], True
