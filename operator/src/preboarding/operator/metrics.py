"""Prometheus metrics of the operator."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

VIDEOS = Gauge("preboarding_videos", "OnboardingVideos by phase, as last reconciled", ["phase"])
STAGE_SECONDS = Histogram(
    "preboarding_stage_duration_seconds", "Wall time of finished stages", ["stage"],
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
)
JOBS_CREATED = Counter("preboarding_jobs_created_total", "Stage Jobs created", ["stage"])
RETRIES = Counter("preboarding_stage_retries_total", "Stage runs started by the retry annotation", ["stage"])
FAILURES = Counter("preboarding_stage_failures_total", "Failed stages by reason", ["stage", "reason"])
RECONCILES = Counter("preboarding_reconciles_total", "Reconciliations by outcome", ["outcome"])

_phases: dict[tuple[str, str], str] = {}


def record_phase(namespace: str, name: str, phase: str | None) -> None:
    """Remember a video's phase (None when it is gone) and refresh the per-phase gauge."""
    if phase is None:
        _phases.pop((namespace, name), None)
    else:
        _phases[(namespace, name)] = phase
    counts: dict[str, int] = dict.fromkeys(("Pending", "Running", "Succeeded", "Failed"), 0)
    for value in _phases.values():
        counts[value] = counts.get(value, 0) + 1
    for phase_name, count in counts.items():
        VIDEOS.labels(phase=phase_name).set(count)
