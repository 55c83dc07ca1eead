"""Response models of the bridge's HTTP API (the request model is ``preboarding.api.payload.NewHirePayload``).

Field names are snake_case, as the original Preboarding HTTP API used them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from preboarding.api.models import Phase, StageState


class FieldError(BaseModel):
    field: str = Field(description='Dotted path of the bad field, e.g. "employee.email".')
    message: str = Field(description="What is wrong with it.")
    type: str = Field(description='Machine-readable error type, e.g. "value_error".')


class ErrorResponse(BaseModel):
    """Every error answer has this shape; it never carries secrets, stack traces or the rejected input."""

    error: str = Field(description='Machine-readable code, e.g. "invalid_payload".')
    message: str = Field(description="What went wrong and how to fix it.")
    fields: list[FieldError] | None = Field(default=None, description="Every bad field, for validation errors.")
    phase: Phase | None = Field(default=None, description="The job's phase, for 409 answers on a job.")


class WebhookAccepted(BaseModel):
    """Answer to a new-hire webhook."""

    job_id: str = Field(description="The OnboardingVideo's name; stable for an employee.")
    status: Literal["queued", "updated", "duplicate"] = Field(
        description="queued: a new video; updated: changed data, changed stages rerun; duplicate: nothing changed."
    )
    phase: Phase = Field(description="The job's phase now.")
    status_url: str
    video_url: str


SourceJobState = Literal["queued", "updated", "duplicate", "absent", "deleting"]
SourceOutcome = Literal["accepted", "updated", "duplicate", "deleted", "ignored", "ping"]


class SourceJob(BaseModel):
    """One video a source delivery concerned."""

    job_id: str = Field(description="The OnboardingVideo's name; stable for a person through a source.")
    status: SourceJobState = Field(
        description="queued: a new video; updated: changed data; duplicate: nothing changed; absent: an update "
        "or removal for someone without a video; deleting: the video and its stored files are being removed."
    )
    status_url: str


class SourceDeliveryAnswer(BaseModel):
    """Answer to a delivery through an OnboardingSource (always 200 when it was handled)."""

    source: str = Field(description="The OnboardingSource.")
    status: SourceOutcome = Field(
        description="What the delivery did as a whole."
    )
    action: str = Field(description="The vendor's event name, e.g. hire_candidate.")
    jobs: list[SourceJob] = Field(default_factory=list, description="The videos it concerned.")


class MailEventsAnswer(BaseModel):
    """What the bridge did with a batch of SendGrid events."""

    received: int = Field(description="Events in the batch.")
    applied: int = Field(description="Events recorded in a video's status.delivery.")
    unknown_video: int = Field(description="Events naming a video that no longer exists (or is not ours).")
    ignored: int = Field(description="Events without our custom arg (mail not sent by Preboarding).")


class StageTiming(BaseModel):
    name: str
    state: StageState
    attempts: int = 0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    duration_seconds: float | None = None
    message: str | None = None


class JobStatus(BaseModel):
    """Progress of one video, from the OnboardingVideo's status (written by the operator)."""

    job_id: str
    phase: Phase
    stage: str | None = Field(default=None, description="The stage running now, or the one that failed.")
    progress: str | None = Field(default=None, description='Finished stages out of those planned, e.g. "2/5".')
    message: str | None = None
    error: str | None = Field(default=None, description="Why the video failed (phase Failed only).")
    created_at: dt.datetime | None = None
    stages: list[StageTiming] = Field(default_factory=list)
    video_url: str | None = Field(default=None, description="Where the video is, once phase is Succeeded.")
    status_url: str


class JobSummary(BaseModel):
    job_id: str
    phase: Phase
    stage: str | None = None
    progress: str | None = None
    created_at: dt.datetime | None = None
    status_url: str


class JobList(BaseModel):
    items: list[JobSummary]
    continue_token: str | None = Field(
        default=None, alias="continue", description="Pass as ?continue= for the next page; null on the last page."
    )
    next_url: str | None = None

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class JobAction(BaseModel):
    """Answer to DELETE /jobs/{job_id}, POST /jobs/{job_id}/retry and POST /jobs/{job_id}/resend."""

    job_id: str
    status: Literal["deleting", "retrying", "resending"]
    status_url: str


class StoredFile(BaseModel):
    key: str = Field(description="Key relative to the video's storage prefix, e.g. records/script.json.")
    kind: str = Field(description="script, audio, slides, records, video, ... (the key's first part).")
    size: int
    last_modified: dt.datetime | None = None
    url: str = Field(description="Presigned GET URL.")


class DevOutput(BaseModel):
    job_id: str
    prefix: str
    files: list[StoredFile]


class CheckResult(BaseModel):
    ok: bool
    detail: str


class HealthReport(BaseModel):
    status: Literal["ok", "unhealthy"]
    checks: dict[str, CheckResult]


class ServiceInfo(BaseModel):
    name: str
    version: str
    uptime_seconds: float


class RouteInfo(BaseModel):
    path: str
    methods: list[str]


class WebhooksStatus(BaseModel):
    namespace: str
    routes: list[RouteInfo]
    jobs_by_phase: dict[str, int] = Field(description="OnboardingVideos in the namespace by phase.")
    webhooks_since_start: dict[str, int] = Field(description="Deliveries by outcome since this process started.")
