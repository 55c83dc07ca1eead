"""Jobs (one per OnboardingVideo): status, list, delete, retry, resend the email."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from preboarding import api
from preboarding.api.delivery import MIN_EMAIL_INTERVAL, parse_iso
from preboarding.bridge.deps import CallerDep, LinksDep, RepositoryDep, StateDep, rate_limit, read_access
from preboarding.bridge.errors import ApiError
from preboarding.bridge.job_status import build_job_status, build_job_summary, status_of
from preboarding.bridge.models import JobAction, JobList, JobStatus
from preboarding.bridge.routes import error_responses

router = APIRouter(prefix="/jobs", tags=["jobs"], dependencies=[Depends(rate_limit)])


def _not_found() -> ApiError:
    return ApiError(404, "job_not_found", "no job with this id")


@router.get(
    "/{job_id}/status",
    response_model=JobStatus,
    summary="Progress of a job",
    dependencies=[Depends(read_access)],
    responses=error_responses(401, 404, 429, 502, 503),
)
async def job_status(job_id: str, repository: RepositoryDep, links: LinksDep) -> JobStatus:
    resource = await repository.get(job_id)
    if resource is None:
        raise _not_found()
    return build_job_status(resource, links)


@router.get(
    "/",
    response_model=JobList,
    summary="Jobs, a page at a time (the apiserver's order and its limit/continue)",
    responses=error_responses(400, 401, 410, 422, 429, 502, 503),
)
async def list_jobs(
    caller: CallerDep,
    repository: RepositoryDep,
    links: LinksDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Jobs per page.")] = 50,
    continue_token: Annotated[
        str | None, Query(alias="continue", max_length=4096, description="The previous page's continue token.")
    ] = None,
) -> JobList:
    page = await repository.list_page(limit=limit, continue_token=continue_token or None)
    next_url = None
    if page.continue_token:
        next_url = f"{links.base_url.rstrip('/')}/jobs/?{urlencode({'limit': limit, 'continue': page.continue_token})}"
    return JobList.model_validate({
        "items": [build_job_summary(item, links) for item in page.items],
        "continue": page.continue_token,
        "next_url": next_url,
    })


@router.delete(
    "/{job_id}",
    status_code=202,
    response_model=JobAction,
    summary="Delete a job: the video and its stored files (personal data) are removed",
    responses=error_responses(401, 404, 429, 502, 503),
)
async def delete_job(job_id: str, caller: CallerDep, repository: RepositoryDep, links: LinksDep) -> JSONResponse:
    if not await repository.delete(job_id):
        raise _not_found()
    answer = JobAction(job_id=job_id, status="deleting", status_url=links.status(job_id))
    return JSONResponse(answer.model_dump(mode="json"), status_code=202)


@router.post(
    "/{job_id}/retry",
    status_code=202,
    response_model=JobAction,
    summary="Retry a failed job: its failed stage and what follows run again",
    responses=error_responses(401, 404, 409, 429, 502, 503),
)
async def retry_job(
    job_id: str, caller: CallerDep, state: StateDep, repository: RepositoryDep, links: LinksDep
) -> JSONResponse:
    resource = await repository.get(job_id)
    if resource is None:
        raise _not_found()
    phase = status_of(resource).phase
    if phase != "Failed":
        raise ApiError(409, "not_failed", f"only a failed job can be retried; this one is {phase}", phase=phase)
    return await _annotate(job_id, api.ANNOTATION_RETRY, "retrying", state, repository, links)


@router.post(
    "/{job_id}/resend",
    status_code=202,
    response_model=JobAction,
    summary="Send the new hire the welcome email again, with a fresh link (\"I lost the mail\")",
    description=(
        "Sets the preboarding.dev/resend annotation to a new value; the operator sends the email again and "
        "counts it in status.delivery.sends. 409 unless the video is Succeeded with email delivery on; 429 with "
        "Retry-After within MIN_EMAIL_INTERVAL (5 minutes) of the last email."
    ),
    responses=error_responses(401, 404, 409, 429, 502, 503),
)
async def resend_job(
    job_id: str, caller: CallerDep, state: StateDep, repository: RepositoryDep, links: LinksDep
) -> JSONResponse:
    resource = await repository.get(job_id)
    if resource is None:
        raise _not_found()
    phase = status_of(resource).phase
    if phase != "Succeeded" or not ((resource.get("spec") or {}).get("delivery") or {}).get("sendEmail", True):
        raise ApiError(409, "not_sent", "only a finished video with email delivery on can be sent again; "
                       f"this one is {phase}", phase=phase)
    wait = resend_wait(((resource.get("status") or {}).get("delivery") or {}).get("sentAt"),
                       dt.datetime.fromtimestamp(state.deps.clock(), dt.UTC))
    if wait > 0:
        raise ApiError(429, "too_soon", f"the last email went out less than {MIN_EMAIL_INTERVAL.seconds // 60} "
                       f"minutes ago; retry after {wait} s", headers={"Retry-After": str(wait)})
    return await _annotate(job_id, api.ANNOTATION_RESEND, "resending", state, repository, links)


async def _annotate(job_id: str, annotation: str, status: Literal["retrying", "resending"], state: StateDep,
                    repository: RepositoryDep, links: LinksDep) -> JSONResponse:
    """Set ``annotation`` to a new value (the operator acts on a change of it) and answer 202."""
    token = f"{int(state.deps.clock())}-{secrets.token_hex(4)}"
    if await repository.set_annotation(job_id, annotation, token) is None:
        raise _not_found()
    answer = JobAction(job_id=job_id, status=status, status_url=links.status(job_id))
    return JSONResponse(answer.model_dump(mode="json"), status_code=202)


def resend_wait(sent_at: object, now: dt.datetime) -> int:
    """Seconds until another email may go out (0: now), from ``status.delivery.sentAt``."""
    last = parse_iso(sent_at)
    if last is None:
        return 0
    return max(0, math.ceil((last + MIN_EMAIL_INTERVAL - now).total_seconds()))
