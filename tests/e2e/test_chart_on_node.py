"""The chart on a real node, end to end: what a platform engineer and a new hire see.

``helm install`` on the ground's node (kubelet + containerd + runc, the project's images imported) with a
Greenhouse OnboardingSource; Greenhouse's signed "Candidate hired" web hook to the bridge pod; five
renderer Jobs run as real containers; the email in the SMTP server, its watch link on the bridge pod and
the video behind it (seekable), and the new hire's stored data gone after deletion.
Only with PREBOARDING_E2E=1 (``make e2e``); see conftest.py.
"""

from __future__ import annotations

import datetime as dt
import json
import mailbox
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from standardwebhooks import Webhook

from preboarding.api.sources import Vendor
from preboarding.bridge.vendors.signers import SIGNERS
from preboarding.storage import S3Store, StoreSettings
from preboarding.testenv.binaries import repo_root
from preboarding.testenv.ground import GroundInfo
from tests.browser.harness import describe_violations, off_loopback
from tests.integration.renderer.media import assert_playable_video

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

from .conftest import RELEASE, Phases, Release

GREENHOUSE_HIRE = repo_root() / "tests" / "samples" / "hr" / "greenhouse" / "hire.json"


def _request(url: str, method: str = "GET", body: bytes = b"", headers: dict[str, str] | None = None
             ) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body if method != "GET" else None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _signed(secret: str, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers, signed by the reference library as an HR system would."""
    webhook_id = f"msg_{uuid.uuid4().hex}"
    now = dt.datetime.now(dt.UTC)
    return {"content-type": "application/json", "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, now, body.decode())}


def _store(ground: GroundInfo) -> S3Store:
    return S3Store(StoreSettings(endpoint=ground.s3_endpoint, access_key=ground.s3_access_key,
                                 secret_key=ground.s3_secret_key, bucket=ground.s3_bucket, region=ground.s3_region))


def _email_with(ground: GroundInfo, needle: str) -> tuple[Message, str] | None:
    """The message in the SMTP server's Maildir whose text carries ``needle``, and that text."""
    for message in mailbox.Maildir(ground.mail_dir, create=False):
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                text = payload.decode() if isinstance(payload, bytes) else ""
                if needle in text:
                    return message, text
    return None


@pytest.mark.timeout(3600)
def _watch_in_chromium(browser: Browser, link: str, duration: float, axe: Callable[[Page], list[dict[str, Any]]],
                       screenshot: Callable[[Page, str], Path]) -> None:
    """The emailed link as the new hire opens it on a phone: Debian's chromium plays the rendered video."""
    requests: list[str] = []
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              device_scale_factor=2, service_workers="block")
    ctx.on("request", lambda request: requests.append(request.url))
    try:
        page = ctx.new_page()
        response = page.goto(link, wait_until="load")
        assert response is not None and response.status == 200
        page.wait_for_function("() => document.querySelector('video').readyState >= 2", timeout=60_000)
        played = page.evaluate("() => document.querySelector('video').duration")
        assert abs(played - duration) < 0.3, (played, duration)
        page.wait_for_function("() => { const t = document.querySelector('video').textTracks[0];"
                               " return t && t.mode === 'showing' && t.cues && t.cues.length > 0; }",
                               timeout=30_000)
        page.evaluate("() => { const v = document.querySelector('video'); v.currentTime = v.duration * 0.8; }")
        page.wait_for_function("() => { const v = document.querySelector('video');"
                               " return !v.seeking && Math.abs(v.currentTime - v.duration * 0.8) < 0.5; }",
                               timeout=30_000)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{overflow}px of horizontal scroll on a phone"
        violations = axe(page)
        assert violations == [], describe_violations(violations)
        screenshot(page, "e2e-watch-phone")
    finally:
        ctx.close()
    assert requests and not off_loopback(requests), off_loopback(requests)


def test_new_hire_gets_a_playable_video_from_the_chart_on_a_real_node(
        release: Release, node_ground: GroundInfo, phases: Phases, image_archives: list[Path],
        tmp_path: Path, browser: Browser, axe: Callable[[Page], list[dict[str, Any]]],
        screenshot: Callable[[Page, str], Path]) -> None:
    ground = node_ground
    # The operator and the bridge run as pods from our images, on the node, next to nothing else.
    pods = release.kubectl("get", "pods", "-o", "wide")
    assert re.search(r"-operator-\S+\s+1/1\s+Running", pods) and re.search(r"-bridge-\S+\s+1/1\s+Running", pods), pods
    status, health = _request(f"{release.bridge_url}/health")
    assert status == 200, health
    # `helm test`: the chart's own smoke pod, run on the node, finds the bridge healthy and locked.
    # (A passing pod is deleted at once, so `--logs` could not read it; a failing one stays to be read.)
    start = time.monotonic()
    try:
        smoke = release.run("test", RELEASE, "--namespace", release.namespace, "--timeout", "3m")
    except AssertionError as failed:
        logs = release.kubectl("logs", "-l", "app.kubernetes.io/component=test", check=False)
        raise AssertionError(f"{failed}\n{logs}") from None
    phases.seconds["helm test"] = time.monotonic() - start
    assert re.search(r"TEST SUITE:\s+\S+-test-bridge\s.*Phase:\s+Succeeded", smoke, re.S), smoke

    # 1. Greenhouse posts its signed "Candidate hired" web hook to the bridge pod's source URL.
    assert "greenhouse" in release.kubectl("get", "obs", "-o", "name")
    headers, body = SIGNERS[Vendor.GREENHOUSE](GREENHOUSE_HIRE.read_bytes(), release.greenhouse_secret, time.time())
    sent = time.monotonic()
    status, answer = _request(f"{release.bridge_url}/webhooks/sources/greenhouse", "POST", body, headers)
    assert status == 200 and answer["status"] == "accepted", answer
    job_id = answer["jobs"][0]["job_id"]
    # The video's key holds the resource's uid: an email from an earlier run (a kept ground) never matches.
    video_doc = json.loads(release.kubectl("get", "ov", job_id, "-o", "json"))
    uid = video_doc["metadata"]["uid"]
    video_key = f"{release.namespace}/{job_id}/{uid}/video.mp4"
    # The watch link's token carries the uid (as 32 hex digits): the email for this very video.
    token_uid = uid.replace("-", "")
    assert video_doc["spec"]["source"]["vendor"] == "greenhouse", video_doc["spec"]
    assert video_doc["spec"]["employee"]["techStack"] == ["Python", "dbt"], video_doc["spec"]  # the profile's
    source = json.loads(release.kubectl("get", "obs", "greenhouse", "-o", "json"))
    ready = [c for c in source.get("status", {}).get("conditions", []) if c["type"] == "Ready"]
    assert [c["status"] for c in ready] == ["True"], source.get("status")

    # 2. The operator renders it with one Job per stage on the real kubelet: watch the status and the mail.
    succeeded_at = email_at = None
    job: dict[str, Any] = {}
    while time.monotonic() - sent < 600 and not (succeeded_at and email_at):
        # Reads require authentication (the chart's default): HR's tools sign them like webhooks.
        _, job = _request(f"{release.bridge_url}/jobs/{job_id}/status", headers=_signed(release.webhook_secret, b""))
        assert job.get("phase") != "Failed", f"{job}\n{release.diagnostics()}"
        if job.get("phase") == "Succeeded" and succeeded_at is None:
            succeeded_at = time.monotonic()
        if email_at is None and _email_with(ground, token_uid):
            email_at = time.monotonic()
        time.sleep(0.25)
    assert succeeded_at, f"not Succeeded after 600 s: {job}\n{release.diagnostics()}"
    assert email_at, f"no email with {token_uid} in {ground.mail_dir}\n{release.diagnostics()}"
    phases.seconds["webhook -> Succeeded"] = succeeded_at - sent
    phases.seconds["webhook -> email (seen)"] = email_at - sent
    assert job["progress"] == "5/5" and [s["state"] for s in job["stages"]] == ["Succeeded"] * 5, job
    status_doc = json.loads(release.kubectl("get", "ov", job_id, "-o", "json"))["status"]
    assert status_doc["videoKey"] == video_key, status_doc

    # Every stage ran as a container of the renderer image on the node.
    ran = json.loads(release.kubectl("get", "pods", "-l", f"preboarding.dev/video={job_id}", "-o", "json"))["items"]
    assert sorted(p["metadata"]["labels"]["preboarding.dev/stage"] for p in ran) == [
        "audio", "compose", "notify", "script", "slides"]
    for pod in ran:
        assert pod["spec"]["nodeName"] == "localhost" and pod["status"]["phase"] == "Succeeded"
        [container] = pod["status"]["containerStatuses"]
        assert container["image"].endswith("preboarding-renderer:0.1.0"), container["image"]
        assert container["state"]["terminated"]["exitCode"] == 0

    # 3. The email reached the new hire, with a watch link that serves a playable video.
    found = _email_with(ground, token_uid)
    assert found
    message, text = found
    assert "zoe.angstrom@example.com" in message["To"]
    link = re.search(rf"({re.escape(release.bridge_url)}/watch/[A-Za-z0-9._-]+)", text)
    assert link, text
    # The link opens the watch page on the bridge pod; its video plays from a fresh presigned URL, with seeking.
    try:
        with urllib.request.urlopen(link.group(1), timeout=30) as response:
            page = response.read().decode()
            assert response.status == 200 and "Content-Security-Policy" in response.headers
    except urllib.error.HTTPError as refused:
        raise AssertionError(f"{link.group(1)}: {refused.code}\n{refused.read().decode()}\n"
                             f"{release.diagnostics()}") from None
    assert "Welcome, Zoë!" in page and '<track kind="captions"' in page, page
    delivery = json.loads(release.kubectl("get", "ov", job_id, "-o", "json"))["status"].get("delivery") or {}
    assert delivery.get("views") == 1 and delivery.get("firstViewedAt"), delivery  # no IP, no user agent
    ranged = urllib.request.Request(f"{link.group(1)}/video.mp4", headers={"Range": "bytes=0-99"})
    with urllib.request.urlopen(ranged, timeout=30) as response:
        assert response.status == 206 and len(response.read()) == 100
    video = tmp_path / "video.mp4"
    with urllib.request.urlopen(f"{link.group(1)}/video.mp4", timeout=30) as response:
        video.write_bytes(response.read())
    store = _store(ground)
    prefix = status_doc["storagePrefix"]
    captions = tmp_path / "captions.vtt"
    store.get_file(prefix + "captions.vtt", captions)
    timeline = json.loads(store.get_bytes(prefix + "audio/timeline.json"))
    assert_playable_video(video, captions, timeline)
    _watch_in_chromium(browser, link.group(1), timeline["duration"], axe, screenshot)
    delivery = json.loads(release.kubectl("get", "ov", job_id, "-o", "json"))["status"]["delivery"]
    assert (delivery["views"], delivery["state"]) == (2, "Opened"), delivery

    # 4. HR deletes the job: the operator's finalizer removes the new hire's stored data, then the video goes.
    # (Before `helm uninstall`: uninstalling first removes the operator, and the video would keep its
    # finalizer and its stored objects; see the README.)
    status, answer = _request(f"{release.bridge_url}/jobs/{job_id}", "DELETE", b"",
                              _signed(release.webhook_secret, b""))
    assert status == 202, answer
    deadline = time.monotonic() + 120
    while "NotFound" not in release.kubectl("get", "ov", job_id, check=False):
        assert time.monotonic() < deadline, release.diagnostics()
        time.sleep(0.5)
    assert store.list(prefix) == [], [o.key for o in store.list(prefix)]

    # 5. helm uninstall removes the workloads; the CRDs stay (helm.sh/resource-policy: keep).
    start = time.monotonic()
    release.run("uninstall", RELEASE, "--namespace", release.namespace, "--wait")
    phases.seconds["helm uninstall --wait"] = time.monotonic() - start
    assert "No resources found" in release.kubectl("get", "deployments,jobs,ov", check=False)
    assert "onboardingvideos.preboarding.dev" in release.kubectl("get", "crd", "-o", "name")

    # (An archive may be gone: a build of other sources meanwhile replaces the cache folder.)
    sizes = ", ".join(f"{a.stem} {a.stat().st_size / 2**20:.0f} MiB" for a in image_archives if a.exists())
    print(f"\ne2e phases (wall time):\n{phases.report()}\nimage archives (oci, gzip layers): {sizes}")
