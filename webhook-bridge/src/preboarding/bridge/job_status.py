"""OnboardingVideo resource -> the bridge's job answers (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from preboarding.api.models import OnboardingVideoStatus
from preboarding.bridge.models import JobStatus, JobSummary, StageTiming


@dataclass(frozen=True)
class JobLinks:
    """Where a job's routes are, for absolute URLs in answers."""

    base_url: str

    def status(self, job_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/jobs/{job_id}/status"

    def video(self, job_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/videos/{job_id}.mp4"


def status_of(resource: dict[str, Any]) -> OnboardingVideoStatus:
    """The resource's status; an empty or (from a newer operator) unreadable status reads as Pending."""
    raw = resource.get("status") or {}
    try:
        return OnboardingVideoStatus.model_validate(raw)
    except ValidationError:
        # Keep what can be read rather than failing the whole answer.
        phase = raw.get("phase") if raw.get("phase") in ("Pending", "Running", "Succeeded", "Failed") else "Pending"
        message = raw.get("message") if isinstance(raw.get("message"), str) else None
        return OnboardingVideoStatus.model_validate({"phase": phase, "message": message})


def created_at(resource: dict[str, Any]) -> dt.datetime | None:
    stamp = (resource.get("metadata") or {}).get("creationTimestamp")
    if not isinstance(stamp, str):
        return None
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def video_ready(status: OnboardingVideoStatus) -> bool:
    return status.phase == "Succeeded" and bool(status.video_key)


def build_job_status(resource: dict[str, Any], links: JobLinks) -> JobStatus:
    """The ``GET /jobs/{job_id}/status`` answer for a resource."""
    name = resource["metadata"]["name"]
    status = status_of(resource)
    return JobStatus(
        job_id=name,
        phase=status.phase,
        stage=status.stage.value if status.stage else None,
        progress=status.progress,
        message=status.message,
        error=(_failure_message(status) if status.phase == "Failed" else None),
        created_at=created_at(resource),
        stages=[
            StageTiming(
                name=record.name.value,
                state=record.state,
                attempts=record.attempts,
                started_at=record.started_at,
                finished_at=record.finished_at,
                duration_seconds=record.duration_seconds,
                message=record.message,
            )
            for record in status.stages
        ],
        video_url=links.video(name) if video_ready(status) else None,
        status_url=links.status(name),
    )


def build_job_summary(resource: dict[str, Any], links: JobLinks) -> JobSummary:
    name = resource["metadata"]["name"]
    status = status_of(resource)
    return JobSummary(
        job_id=name,
        phase=status.phase,
        stage=status.stage.value if status.stage else None,
        progress=status.progress,
        created_at=created_at(resource),
        status_url=links.status(name),
    )


def _failure_message(status: OnboardingVideoStatus) -> str:
    """The failed stage's own message if there is one, else the video's, else a generic sentence."""
    for record in status.stages:
        if record.state == "Failed" and record.message:
            return f"{record.name.value}: {record.message}"
    return status.message or "the video failed; see the OnboardingVideo's conditions"
