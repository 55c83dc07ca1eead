"""GET /jobs/{id}/status, GET /jobs/, DELETE /jobs/{id}, POST /jobs/{id}/retry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from preboarding import api
from preboarding.bridge.repository import Unavailable

from ..conftest import Bridge, example_payload

RUNNING = {
    "phase": "Running",
    "stage": "audio",
    "progress": "1/5",
    "message": "Rendering audio.",
    "stages": [
        {"name": "script", "state": "Succeeded", "jobName": "j-script", "attempts": 1,
         "startedAt": "2026-11-24T10:00:00Z", "finishedAt": "2026-11-24T10:00:04Z", "durationSeconds": 4.0},
        {"name": "audio", "state": "Running", "attempts": 2, "startedAt": "2026-11-24T10:00:05Z"},
        {"name": "slides", "state": "Running", "attempts": 1},
    ],
}
FAILED = {
    "phase": "Failed",
    "stage": "audio",
    "progress": "1/5",
    "message": "Stage audio failed.",
    "stages": [{"name": "audio", "state": "Failed", "attempts": 4, "message": "TTS provider refused the voice"}],
}


def new_job(bridge: Bridge, employee_id: str = "E-10442", status: dict[str, Any] | None = None) -> str:
    payload = example_payload()
    payload["employee"]["id"] = employee_id
    job_id: str = bridge.post_webhook(payload).json()["job_id"]
    if status:
        bridge.repository.set_status(job_id, status)
    return job_id


def test_status_of_a_new_job_is_pending(bridge: Bridge) -> None:
    job_id = new_job(bridge)
    body = bridge.client.get(f"/jobs/{job_id}/status", headers=bridge.bearer()).json()
    assert body["phase"] == "Pending"
    assert body["stages"] == [] and body["video_url"] is None and body["error"] is None
    assert body["created_at"]


def test_status_shows_stage_progress_and_timings(bridge: Bridge) -> None:
    job_id = new_job(bridge, status=RUNNING)
    body = bridge.client.get(f"/jobs/{job_id}/status", headers=bridge.bearer()).json()
    assert (body["phase"], body["stage"], body["progress"]) == ("Running", "audio", "1/5")
    script = body["stages"][0]
    assert script["name"] == "script" and script["duration_seconds"] == 4.0
    assert script["started_at"] == "2026-11-24T10:00:00Z"
    assert body["stages"][1]["attempts"] == 2
    assert body["video_url"] is None


def test_status_of_a_failed_job_says_why(bridge: Bridge) -> None:
    job_id = new_job(bridge, status=FAILED)
    body = bridge.client.get(f"/jobs/{job_id}/status", headers=bridge.bearer()).json()
    assert body["phase"] == "Failed"
    assert body["error"] == "audio: TTS provider refused the voice"


def test_status_of_a_finished_job_links_the_video(bridge: Bridge) -> None:
    job_id = new_job(bridge, status={"phase": "Succeeded", "progress": "5/5",
                                     "videoKey": f"hr/{job_id_for('E-10442')}/u/video.mp4"})
    body = bridge.client.get(f"/jobs/{job_id}/status", headers=bridge.bearer()).json()
    assert body["video_url"] == f"http://testserver/videos/{job_id}.mp4"


def job_id_for(employee_id: str) -> str:
    from preboarding.api.payload import video_name

    return video_name(employee_id)


def test_a_status_from_a_newer_operator_still_reads(bridge: Bridge) -> None:
    job_id = new_job(bridge, status={"phase": "Running", "stage": "upload", "stages": [{"name": "upload"}]})
    body = bridge.client.get(f"/jobs/{job_id}/status", headers=bridge.bearer()).json()
    assert body["phase"] == "Running"


@pytest.mark.parametrize("job_id", ["welcome-nobody-00000000", "Not_A_Name", "x" * 300, "..", "%2e%2e"])
def test_unknown_ids_are_404(bridge: Bridge, job_id: str) -> None:
    response = bridge.client.get(f"/jobs/{job_id}/status", headers=bridge.bearer())
    assert response.status_code == 404
    assert response.json()["error"] in ("job_not_found", "not_found")


def test_reads_require_authentication_by_default(bridge: Bridge) -> None:
    job_id = new_job(bridge)
    assert bridge.client.get(f"/jobs/{job_id}/status").status_code == 401
    assert bridge.client.get(f"/jobs/{job_id}/status", headers=bridge.bearer()).status_code == 200
    assert bridge.client.get(f"/videos/{job_id}.mp4").status_code == 401


def test_list_needs_authentication(bridge: Bridge) -> None:
    assert bridge.client.get("/jobs/").status_code == 401


def test_list_pages_through_every_job(bridge: Bridge) -> None:
    made = {new_job(bridge, f"E-{n}") for n in range(5)}
    seen: list[str] = []
    url = "/jobs/?limit=2"
    pages = 0
    while url:
        body = bridge.client.get(url, headers=bridge.bearer()).json()
        seen += [item["job_id"] for item in body["items"]]
        assert len(body["items"]) <= 2
        url = body["next_url"].removeprefix("http://testserver") if body["next_url"] else ""
        pages += 1
    assert sorted(seen) == sorted(made)
    assert pages == 3


def test_list_rejects_bad_limits_and_tokens(bridge: Bridge) -> None:
    response = bridge.client.get("/jobs/?limit=0", headers=bridge.bearer())
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "query.limit"
    response = bridge.client.get("/jobs/?continue=garbage", headers=bridge.bearer())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_continue"


def test_list_when_the_apiserver_is_down(bridge: Bridge) -> None:
    bridge.repository.fail_with = Unavailable("the Kubernetes API server is unreachable; retry later")
    assert bridge.client.get("/jobs/", headers=bridge.bearer()).status_code == 503


def test_delete(bridge: Bridge) -> None:
    job_id = new_job(bridge)
    assert bridge.client.delete(f"/jobs/{job_id}").status_code == 401
    assert job_id in bridge.repository.objects
    response = bridge.client.delete(f"/jobs/{job_id}", headers=bridge.bearer())
    assert response.status_code == 202
    assert response.json()["status"] == "deleting"
    assert job_id not in bridge.repository.objects
    assert bridge.client.delete(f"/jobs/{job_id}", headers=bridge.bearer()).status_code == 404


def test_retry_sets_a_new_annotation_value_each_time(bridge: Bridge) -> None:
    job_id = new_job(bridge, status=FAILED)
    assert bridge.client.post(f"/jobs/{job_id}/retry").status_code == 401
    first = bridge.client.post(f"/jobs/{job_id}/retry", headers=bridge.bearer())
    assert first.status_code == 202 and first.json()["status"] == "retrying"
    value1 = bridge.repository.objects[job_id]["metadata"]["annotations"][api.ANNOTATION_RETRY]
    bridge.client.post(f"/jobs/{job_id}/retry", headers=bridge.bearer())
    value2 = bridge.repository.objects[job_id]["metadata"]["annotations"][api.ANNOTATION_RETRY]
    assert value1 != value2


def test_retry_with_a_signature_over_the_empty_body(bridge: Bridge) -> None:
    job_id = new_job(bridge, status=FAILED)
    headers = bridge.signed_headers(b"")
    assert bridge.client.post(f"/jobs/{job_id}/retry", headers=headers).status_code == 202


def test_retry_of_a_job_that_has_not_failed_is_409(bridge: Bridge) -> None:
    job_id = new_job(bridge, status=RUNNING)
    response = bridge.client.post(f"/jobs/{job_id}/retry", headers=bridge.bearer())
    assert response.status_code == 409
    assert response.json()["phase"] == "Running"
    assert api.ANNOTATION_RETRY not in bridge.repository.objects[job_id]["metadata"]["annotations"]


def test_retry_of_an_unknown_job_is_404(bridge: Bridge) -> None:
    assert bridge.client.post("/jobs/welcome-x-1/retry", headers=bridge.bearer()).status_code == 404


def test_reads_can_be_opened_for_trusted_networks(bridge_factory: Callable[..., Bridge]) -> None:
    bridge = bridge_factory(reads_require_auth=False)
    job_id = new_job(bridge)
    assert bridge.client.get(f"/jobs/{job_id}/status").status_code == 200


def _sent(bridge: Bridge, seconds_ago: float) -> dict[str, Any]:
    at = dt.datetime.fromtimestamp(bridge.clock() - seconds_ago, dt.UTC)
    return {"phase": "Succeeded", "progress": "5/5",
            "delivery": {"state": "Sent", "sends": 1, "sentAt": at.isoformat().replace("+00:00", "Z")}}


def test_resend_sets_a_new_annotation_value(bridge: Bridge) -> None:
    job_id = new_job(bridge, status=_sent(bridge, 3600))
    assert bridge.client.post(f"/jobs/{job_id}/resend").status_code == 401
    first = bridge.client.post(f"/jobs/{job_id}/resend", headers=bridge.bearer())
    assert first.status_code == 202 and first.json()["status"] == "resending"
    value1 = bridge.repository.objects[job_id]["metadata"]["annotations"][api.ANNOTATION_RESEND]
    bridge.clock.now += 1
    assert bridge.client.post(f"/jobs/{job_id}/resend", headers=bridge.bearer()).status_code == 202
    assert bridge.repository.objects[job_id]["metadata"]["annotations"][api.ANNOTATION_RESEND] != value1


def test_resend_right_after_an_email_is_429_with_retry_after(bridge: Bridge) -> None:
    job_id = new_job(bridge, status=_sent(bridge, 60))
    response = bridge.client.post(f"/jobs/{job_id}/resend", headers=bridge.bearer())
    assert response.status_code == 429 and response.headers["retry-after"] == "240"
    assert api.ANNOTATION_RESEND not in bridge.repository.objects[job_id]["metadata"]["annotations"]


def test_resend_of_a_video_not_sent_is_409(bridge: Bridge) -> None:
    job_id = new_job(bridge, status=RUNNING)
    response = bridge.client.post(f"/jobs/{job_id}/resend", headers=bridge.bearer())
    assert response.status_code == 409 and response.json()["phase"] == "Running"
    assert bridge.client.post("/jobs/welcome-x-1/resend", headers=bridge.bearer()).status_code == 404
