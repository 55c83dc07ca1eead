"""GET /videos/{job_id}.mp4 and GET /dev_output/{job_id}/ on a folder store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from preboarding.storage import StoreUnavailable

from ..conftest import Bridge, example_payload


class BrokenStore:
    """A store whose every call fails the way S3Store does when MinIO is unreachable."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable(f"{name}: ConnectionRefusedError")

        return fail


def finished_job(bridge: Bridge, with_object: bool = True) -> tuple[str, str]:
    job_id: str = bridge.post_webhook(example_payload()).json()["job_id"]
    uid = bridge.repository.objects[job_id]["metadata"]["uid"]
    prefix = f"hr/{job_id}/{uid}/"
    if with_object:
        bridge.store.put_bytes(prefix + "video.mp4", b"\x00\x00\x00\x18ftypmp42")
    bridge.repository.set_status(job_id, {"phase": "Succeeded", "progress": "5/5",
                                          "videoKey": prefix + "video.mp4", "storagePrefix": prefix})
    return job_id, prefix


def test_a_finished_video_redirects_to_a_presigned_url(bridge: Bridge) -> None:
    job_id, prefix = finished_job(bridge)
    response = bridge.client.get(f"/videos/{job_id}.mp4", headers=bridge.bearer(), follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"].endswith(prefix + "video.mp4")  # LocalStore presigns as file:// URLs
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("phase", ["Pending", "Running", "Failed"])
def test_a_video_not_finished_is_409_with_the_phase(bridge: Bridge, phase: str) -> None:
    job_id: str = bridge.post_webhook(example_payload()).json()["job_id"]
    bridge.repository.set_status(job_id, {"phase": phase})
    response = bridge.client.get(f"/videos/{job_id}.mp4", headers=bridge.bearer())
    assert response.status_code == 409
    assert response.json()["phase"] == phase


def test_unknown_jobs_are_404(bridge: Bridge) -> None:
    assert bridge.client.get("/videos/welcome-nobody-1.mp4", headers=bridge.bearer()).status_code == 404


def test_a_video_missing_from_the_store_is_404(bridge: Bridge) -> None:
    job_id, _ = finished_job(bridge, with_object=False)
    response = bridge.client.get(f"/videos/{job_id}.mp4", headers=bridge.bearer())
    assert response.status_code == 404
    assert response.json()["error"] == "video_not_found"


def test_a_video_key_outside_the_job_is_never_presigned(bridge: Bridge) -> None:
    job_id, _ = finished_job(bridge)
    bridge.store.put_bytes("hr/someone-else/u/video.mp4", b"x")
    bridge.repository.objects[job_id]["status"]["videoKey"] = "hr/someone-else/u/video.mp4"
    assert bridge.client.get(f"/videos/{job_id}.mp4", headers=bridge.bearer()).status_code == 404


def test_an_unreachable_store_is_503(bridge: Bridge) -> None:
    job_id, _ = finished_job(bridge)
    bridge.app.state.bridge.deps.store = BrokenStore()
    response = bridge.client.get(f"/videos/{job_id}.mp4", headers=bridge.bearer())
    assert response.status_code == 503
    assert response.json()["error"] == "store_unavailable"


def test_dev_output_is_off_by_default(bridge: Bridge) -> None:
    job_id, _ = finished_job(bridge)
    assert bridge.client.get(f"/dev_output/{job_id}/", headers=bridge.bearer()).status_code == 404


def test_dev_output_lists_intermediate_files_with_links(bridge_factory: Callable[..., Bridge]) -> None:
    bridge = bridge_factory(dev_output_enabled=True)
    job_id, prefix = finished_job(bridge)
    for key in ("script.json", "audio/alex-01.wav", "slides/01.png", "records/script.json"):
        bridge.store.put_bytes(prefix + key, b"{}")
    assert bridge.client.get(f"/dev_output/{job_id}/").status_code == 401
    body = bridge.client.get(f"/dev_output/{job_id}/", headers=bridge.bearer()).json()
    files = {f["key"]: f for f in body["files"]}
    assert set(files) == {"video.mp4", "script.json", "audio/alex-01.wav", "slides/01.png", "records/script.json"}
    assert files["audio/alex-01.wav"]["kind"] == "audio"
    assert files["records/script.json"]["kind"] == "records"
    assert files["script.json"]["kind"] == "script"
    assert files["slides/01.png"]["url"].endswith(prefix + "slides/01.png")
    assert body["prefix"] == prefix
