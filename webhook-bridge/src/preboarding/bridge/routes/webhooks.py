"""``POST /webhooks/user-onboarding`` (the HR system's new-hire webhook) and ``GET /webhooks/status``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.payload import NewHirePayload, build_onboarding_video, video_manifest, video_name
from preboarding.api.sources import OnboardingProfileSpec
from preboarding.bridge.delivery import DeliveryContention, deliver
from preboarding.bridge.deps import (
    WEBHOOK_PATH,
    BridgeState,
    DeliveryDep,
    RepositoryDep,
    StateDep,
    links_for,
    rate_limit,
    rejected,
)
from preboarding.bridge.errors import ApiError, repository_error
from preboarding.bridge.hires import payload_with_profile
from preboarding.bridge.idempotency import Decision
from preboarding.bridge.intake import FieldProblem, InvalidJson, InvalidPayload, parse_new_hire
from preboarding.bridge.job_status import status_of
from preboarding.bridge.models import WebhookAccepted, WebhooksStatus
from preboarding.bridge.repository import Rejected, RepositoryError
from preboarding.bridge.routes import error_responses

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"], dependencies=[Depends(rate_limit)])

_ANSWERS = {
    Decision.CREATED: (202, "queued", "accepted"),
    Decision.UPDATE: (202, "updated", "updated"),
    Decision.DUPLICATE: (200, "duplicate", "duplicate"),
}

# The body is read and verified by hand (the signature covers the raw bytes), so its schema is declared here.
_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewHirePayload"}}},
    }
}


@router.post(
    WEBHOOK_PATH,
    status_code=202,
    response_model=WebhookAccepted,
    summary="Receive a new hire",
    description=(
        "Validates the HR payload and creates the employee's OnboardingVideo. Authenticate with a Standard "
        "Webhooks signature (webhook-id, webhook-timestamp, webhook-signature) or, if configured, a bearer "
        "token. 202 with status queued (new video) or updated (changed data); 200 with status duplicate "
        "when the same delivery or the same data was already received."
    ),
    responses={
        200: {"model": WebhookAccepted, "description": "Duplicate: the existing job, unchanged."},
        **error_responses(400, 401, 409, 413, 415, 422, 429, 502, 503),
    },
    openapi_extra=_REQUEST_BODY,
)
async def receive_new_hire(request: Request, state: StateDep, delivery: DeliveryDep) -> JSONResponse:
    caller, repository, links = delivery.caller, state.deps.repository, links_for(request, state)
    try:
        parsed = parse_new_hire(delivery.body)
    except InvalidJson as exc:
        raise rejected(request, state, ApiError(400, "invalid_json", str(exc)), "invalid_json") from None
    except InvalidPayload as exc:
        fields = ", ".join(p.field for p in exc.problems)
        raise rejected(request, state, ApiError(
            422, "invalid_payload", f"invalid new-hire payload: {fields}", fields=exc.problems), "invalid_payload",
        ) from None
    if parsed.unknown_fields:
        log.debug("ignored unknown payload fields: %s", [f[:80] for f in parsed.unknown_fields[:50]])

    payload = parsed.payload
    if payload.profile is None:
        manifest = build_onboarding_video(payload, state.settings.namespace, webhook_id=caller.webhook_id)
    else:
        spec = await _with_profile(request, state, payload)
        manifest = video_manifest(spec, video_name(payload.employee.id), state.settings.namespace,
                                  webhook_id=caller.webhook_id)
    job_id = manifest["metadata"]["name"]
    try:
        decision, resource = await deliver(repository, manifest)
    except Rejected as exc:
        raise rejected(request, state, repository_error(exc), "apiserver_validation") from None
    except RepositoryError:
        state.metrics.webhook("error")
        raise
    except DeliveryContention:
        state.metrics.webhook("error")
        raise ApiError(409, "conflict", "this employee's video changed concurrently; retry the delivery",
                       headers={"Retry-After": "1"}) from None
    if decision is Decision.DELETING:
        raise rejected(request, state, ApiError(
            409, "job_deleting", "this employee's previous video is being deleted; retry shortly",
            headers={"Retry-After": "5"}), "job_deleting")

    status_code, status, outcome = _ANSWERS[decision]
    state.metrics.webhook(outcome)
    log.info("webhook %s: job %s (delivery %s, %s)", outcome, job_id, caller.webhook_id or "-", caller.method)
    answer = WebhookAccepted(
        job_id=job_id,
        status=status,  # type: ignore[arg-type]
        phase=status_of(resource or {}).phase,
        status_url=links.status(job_id),
        video_url=links.video(job_id),
    )
    return JSONResponse(answer.model_dump(mode="json"), status_code=status_code)


async def _with_profile(request: Request, state: BridgeState, payload: NewHirePayload) -> OnboardingVideoSpec:
    """The payload's spec with the named OnboardingProfile applied; 422 naming ``profile`` if there is none."""
    name = payload.profile or ""

    def bad_profile(message: str) -> ApiError:
        problem = FieldProblem("profile", message, "value_error")
        return rejected(request, state, ApiError(422, "invalid_payload", "invalid new-hire payload: profile",
                                                 fields=[problem]), "invalid_payload")

    if state.deps.sources is None:
        raise bad_profile("OnboardingProfiles are not enabled in this bridge (PREBOARDING_SOURCES_ENABLED)")
    profile_obj = await state.deps.sources.get_profile(name)
    if profile_obj is None:
        raise bad_profile(f"no OnboardingProfile {name!r} in namespace {state.settings.namespace}")
    try:
        profile = OnboardingProfileSpec.model_validate(profile_obj.get("spec") or {})
        return payload_with_profile(payload, name, (profile_obj.get("metadata") or {}).get("generation"), profile)
    except ValidationError:
        raise bad_profile(f"OnboardingProfile {name!r} is invalid; see kubectl describe obp {name}") from None
    except InvalidPayload as exc:
        raise rejected(request, state, ApiError(
            422, "invalid_payload", "invalid new-hire payload: " + ", ".join(p.field for p in exc.problems),
            fields=exc.problems), "invalid_payload") from None


@router.get(
    "/webhooks/status",
    response_model=WebhooksStatus,
    summary="Routes, jobs by phase, deliveries since start",
    responses=error_responses(429, 502, 503),
)
async def webhooks_status(request: Request, state: StateDep, repository: RepositoryDep) -> WebhooksStatus:
    counts: dict[str, int] = {"Pending": 0, "Running": 0, "Succeeded": 0, "Failed": 0}
    token: str | None = None
    for _ in range(200):  # at most 100,000 videos counted; a namespace that big needs a real index
        page = await repository.list_page(limit=500, continue_token=token)
        for item in page.items:
            phase = status_of(item).phase
            counts[phase] = counts.get(phase, 0) + 1
        token = page.continue_token
        if not token:
            break
    routes = [
        {"path": path, "methods": sorted(method.upper() for method in operations)}
        for path, operations in request.app.openapi().get("paths", {}).items()
    ]
    return WebhooksStatus.model_validate({
        "namespace": state.settings.namespace,
        "routes": routes,
        "jobs_by_phase": counts,
        "webhooks_since_start": {k: state.metrics.outcomes[k] for k in
                                 ("accepted", "updated", "duplicate", "rejected", "error")},
    })
