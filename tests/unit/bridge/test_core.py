"""Pure pieces: rate limiter, status mapping, apiserver error translation, field name mapping."""

from __future__ import annotations

import json

import pytest

from preboarding.bridge.errors import payload_field_of, repository_error
from preboarding.bridge.job_status import JobLinks, build_job_status, build_job_summary
from preboarding.bridge.ratelimit import TokenBucketLimiter
from preboarding.bridge.repository import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidContinue,
    NotFound,
    Rejected,
    Unavailable,
    UpstreamError,
    translate_api_error,
    valid_name,
)


def test_token_bucket_burst_then_refill() -> None:
    limiter = TokenBucketLimiter(per_minute=120, burst=3)
    assert [limiter.acquire("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a", 0.0) == pytest.approx(0.5)
    assert limiter.acquire("b", 0.0) == 0.0  # per client
    assert limiter.acquire("a", 0.5) == 0.0  # 2 tokens a second
    assert limiter.acquire("a", 0.5) > 0


def test_token_bucket_never_exceeds_the_burst() -> None:
    limiter = TokenBucketLimiter(per_minute=60, burst=2)
    limiter.acquire("a", 0.0)
    allowed = sum(limiter.acquire("a", 3600.0) == 0.0 for _ in range(5))
    assert allowed == 2


def test_token_bucket_off_and_bounded() -> None:
    assert TokenBucketLimiter(per_minute=0, burst=1).acquire("a", 0.0) == 0.0
    limiter = TokenBucketLimiter(per_minute=60, burst=1, max_clients=100)
    for n in range(1000):
        limiter.acquire(f"client-{n}", float(n))
    assert len(limiter) == 100


def resource(status: dict | None = None) -> dict:  # type: ignore[type-arg]
    return {"metadata": {"name": "welcome-a-1", "creationTimestamp": "2026-11-24T10:00:00Z"},
            **({"status": status} if status is not None else {})}


LINKS = JobLinks("https://b.example/")


def test_status_mapping_of_a_bare_resource() -> None:
    status = build_job_status(resource(), LINKS)
    assert status.phase == "Pending"
    assert status.status_url == "https://b.example/jobs/welcome-a-1/status"
    assert status.created_at is not None and status.created_at.year == 2026


def test_status_mapping_video_url_only_when_succeeded_with_a_key() -> None:
    assert build_job_status(resource({"phase": "Succeeded"}), LINKS).video_url is None
    done = build_job_status(resource({"phase": "Succeeded", "videoKey": "ns/welcome-a-1/u/video.mp4"}), LINKS)
    assert done.video_url == "https://b.example/videos/welcome-a-1.mp4"


def test_status_mapping_of_a_failure_without_stage_message() -> None:
    failed = build_job_status(resource({"phase": "Failed", "message": "Stage compose failed."}), LINKS)
    assert failed.error == "Stage compose failed."


def test_summary() -> None:
    summary = build_job_summary(resource({"phase": "Running", "stage": "slides", "progress": "2/5"}), LINKS)
    assert (summary.phase, summary.stage, summary.progress) == ("Running", "slides", "2/5")


def status_body(reason: str, causes: list[dict] | None = None) -> str:  # type: ignore[type-arg]
    return json.dumps({"kind": "Status", "reason": reason, "details": {"causes": causes or []}})


@pytest.mark.parametrize(
    ("status", "body", "listing", "kind"),
    [
        (409, status_body("AlreadyExists"), False, AlreadyExists),
        (409, status_body("Conflict"), False, Conflict),
        (404, status_body("NotFound"), False, NotFound),
        (422, status_body("Invalid", [{"field": "spec.employee.email", "message": "bad"}]), False, Rejected),
        (410, status_body("Expired"), True, InvalidContinue),
        (400, status_body("BadRequest"), True, InvalidContinue),
        (400, status_body("BadRequest"), False, UpstreamError),
        (401, "", False, Forbidden),
        (403, status_body("Forbidden"), False, Forbidden),
        (429, "", False, Unavailable),
        (500, "not json", False, Unavailable),
        (504, None, False, Unavailable),
        (None, None, False, Unavailable),
        (418, "{}", False, UpstreamError),
    ],
)
def test_apiserver_errors_are_translated(status, body, listing, kind) -> None:  # type: ignore[no-untyped-def]
    assert type(translate_api_error(status, body, listing=listing)) is kind


def test_repository_errors_map_to_http() -> None:
    assert repository_error(Unavailable("x")).status == 503
    assert repository_error(Forbidden("x")).status == 502
    assert repository_error(UpstreamError("x")).status == 502
    assert repository_error(InvalidContinue("x", expired=True)).status == 410
    assert repository_error(InvalidContinue("x", expired=False)).status == 400
    rejected = repository_error(translate_api_error(422, status_body("Invalid", [
        {"field": "spec.employee.email", "message": "must be of type email"}])))  # type: ignore[arg-type]
    assert rejected.status == 422
    assert rejected.fields and rejected.fields[0].field == "employee.email"


@pytest.mark.parametrize(
    ("resource_field", "payload_field"),
    [
        ("spec.employee.email", "employee.email"),
        ("spec.employee.startDate", "employee.start_date"),
        ("spec.employee.schedule[0].items[2]", "employee.schedule[0].items[2]"),
        ("spec.employee.techStack[3]", "employee.tech_stack[3]"),
        ("spec.company.logoURL", "company.logo_url"),
        ("spec.company.brandColor", "company.brand_color"),
        ("spec.script.targetSeconds", "options.target_seconds"),
        ("spec.delivery.linkExpiryHours", "options.link_expiry_hours"),
        ("metadata.name", "metadata.name"),
    ],
)
def test_resource_fields_are_named_as_in_the_payload(resource_field: str, payload_field: str) -> None:
    assert payload_field_of(resource_field) == payload_field


@pytest.mark.parametrize(("name", "ok"), [("welcome-e-1-abc", True), ("a.b", True), ("A", False), ("..", False),
                                          ("-a", False), ("a" * 254, False), ("", False)])
def test_valid_names(name: str, ok: bool) -> None:
    assert valid_name(name) is ok
