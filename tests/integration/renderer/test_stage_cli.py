"""``preboarding stage`` as a Job runs it: against the test ground's real MinIO and SMTP server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from preboarding.api.layout import INPUT_KEY, record_key, video_prefix
from preboarding.api.stages import STAGES
from preboarding.storage import S3Store, StoreSettings
from preboarding.testenv.ground import GroundInfo
from tests.integration.renderer.media import assert_playable_video
from tests.integration.welcome_mail import mails_to, video_link

ROOT = Path(__file__).resolve().parents[3]
NAMESPACE = "stage-cli"


def video_doc(name: str, uid: str, email: str) -> dict[str, Any]:
    from preboarding.api.payload import NewHirePayload, payload_to_spec

    payload = json.loads((ROOT / "examples" / "new-hire.json").read_text())
    payload["employee"]["email"] = email
    spec = payload_to_spec(NewHirePayload.model_validate(payload))
    return {"apiVersion": "preboarding.dev/v1alpha1", "kind": "OnboardingVideo",
            "metadata": {"name": name, "namespace": NAMESPACE, "uid": uid},
            "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True)}


@pytest.fixture
def store(ground: GroundInfo) -> S3Store:
    return S3Store(StoreSettings(endpoint=ground.s3_endpoint, access_key=ground.s3_access_key,  # type: ignore[arg-type]
                                 secret_key=ground.s3_secret_key, bucket=ground.s3_bucket, region=ground.s3_region))


def run(ground: GroundInfo, stage: str, name: str, uid: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**ground.env(), "PATH": "/usr/bin:/bin", "PREBOARDING_VIDEO_UID": uid,
                   "PREBOARDING_SCRIPT_PROVIDER": "template", "PREBOARDING_TTS_PROVIDER": "flite",
                   "PREBOARDING_MAIL_PROVIDER": "smtp", "PREBOARDING_MAIL_FROM": "Northwind <hr@example.com>", **env}
    return subprocess.run([sys.executable, "-m", "preboarding.cli", "stage", stage, "--video", f"{NAMESPACE}/{name}"],
                          capture_output=True, text=True, env=environment, timeout=300, check=False)


@pytest.mark.timeout(300)
def test_every_stage_as_a_job_runs_it(ground: GroundInfo, store: S3Store, tmp_path: Path) -> None:
    name, uid = "priya", str(uuid.uuid4())
    email = f"priya-{uid[:8]}@example.com"
    prefix = video_prefix(NAMESPACE, name, uid)
    store.put_bytes(prefix + INPUT_KEY, json.dumps(video_doc(name, uid, email)).encode(), "application/json")

    for stage in STAGES:
        result = run(ground, stage.value, name, uid)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert summary["state"] == "Succeeded" and summary["stage"] == stage.value
        record = json.loads(store.get_bytes(prefix + record_key(stage)))
        assert record["state"] == "Succeeded"
        assert all(store.exists(prefix + key) for key in record["outputs"])
        # JSON logs when not on a terminal, as in the cluster; no personal data in them.
        for line in result.stderr.splitlines():
            assert json.loads(line)["level"] in ("info", "warning")
            assert email not in line

    video, captions = tmp_path / "video.mp4", tmp_path / "captions.vtt"
    store.get_file(prefix + "video.mp4", video)
    store.get_file(prefix + "captions.vtt", captions)
    assert_playable_video(video, captions, json.loads(store.get_bytes(prefix + "audio/timeline.json")))

    # The new hire's email arrived through real SMTP, and its link serves the video from MinIO.
    [msg] = mails_to(ground.mail_dir, email)
    link = video_link(msg)
    with urllib.request.urlopen(link, timeout=10) as response:
        assert response.read() == video.read_bytes()
    # The HTML part shows the thumbnail, itself a presigned link, as a picture that opens the video.
    html_part = msg.get_payload(1).get_payload(decode=True).decode()
    thumb = re.search(r'<img src="([^"]+)"', html_part)
    assert thumb, html_part
    with urllib.request.urlopen(thumb.group(1).replace("&amp;", "&"), timeout=10) as response:
        assert response.read()[:3] == b"\xff\xd8\xff"  # a JPEG
    tampered = link.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered, timeout=10)
    assert refused.value.code == 403

    # A retried Job finds its work done: nothing is rendered or mailed twice.
    again = run(ground, "notify", name, uid)
    assert again.returncode == 0 and json.loads(again.stdout.splitlines()[-1])["skipped"] is True
    assert len(mails_to(ground.mail_dir, email)) == 1


def test_missing_input_is_invalid_input(ground: GroundInfo) -> None:
    result = run(ground, "script", "nobody", str(uuid.uuid4()))
    assert result.returncode == 2
    assert "input.json is missing" in result.stderr


def test_a_stage_before_its_upstream_fails_permanently(ground: GroundInfo, store: S3Store) -> None:
    name, uid = "early", str(uuid.uuid4())
    prefix = video_prefix(NAMESPACE, name, uid)
    store.put_bytes(prefix + INPUT_KEY, json.dumps(video_doc(name, uid, "e@example.com")).encode())
    result = run(ground, "compose", name, uid)
    assert result.returncode == 3
    assert "UpstreamNotReady" in result.stderr


def test_an_unreachable_store_is_retryable(ground: GroundInfo) -> None:
    result = run(ground, "script", "x", str(uuid.uuid4()), PREBOARDING_S3_ENDPOINT="127.0.0.1:9")
    assert result.returncode == 75, result.stderr
    assert "StoreUnavailable" in result.stderr or "StoreError" in result.stderr


def test_an_unreachable_mail_server_is_retryable(ground: GroundInfo, store: S3Store) -> None:
    name, uid = "nomail", str(uuid.uuid4())
    prefix = video_prefix(NAMESPACE, name, uid)
    store.put_bytes(prefix + INPUT_KEY, json.dumps(video_doc(name, uid, "n@example.com")).encode())
    for stage in STAGES[:-1]:
        assert run(ground, stage.value, name, uid).returncode == 0
    result = run(ground, "notify", name, uid, PREBOARDING_SMTP_PORT="9")
    assert result.returncode == 75
    assert json.loads(store.get_bytes(prefix + record_key(STAGES[-1])))["reason"] == "ProviderUnavailable"


def test_links_are_signed_for_the_public_endpoint(ground: GroundInfo, store: S3Store, tmp_path: Path) -> None:
    """New hires reach the store by another name than the Jobs do; the link is signed for that name."""
    name, uid = "public", str(uuid.uuid4())
    email = f"public-{uid[:8]}@example.com"
    prefix = video_prefix(NAMESPACE, name, uid)
    store.put_bytes(prefix + INPUT_KEY, json.dumps(video_doc(name, uid, email)).encode())
    for stage in STAGES[:-1]:
        assert run(ground, stage.value, name, uid).returncode == 0
    port = ground.s3_endpoint.rsplit(":", 1)[1]
    public = f"http://localhost:{port}"  # same MinIO, another host name: the signature covers the host
    assert run(ground, "notify", name, uid, PREBOARDING_S3_PUBLIC_ENDPOINT=public).returncode == 0
    [msg] = mails_to(ground.mail_dir, email)
    link = video_link(msg)
    assert link.startswith(f"{public}/")
    with urllib.request.urlopen(link, timeout=10) as response:
        assert response.read() == store.get_bytes(prefix + "video.mp4")
    # The same signature presented under the internal name is refused: it was made for the public one.
    internal = link.replace(public, f"http://{ground.s3_endpoint}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(internal, timeout=10)
    assert refused.value.code == 403
