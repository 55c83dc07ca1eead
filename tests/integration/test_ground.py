"""The test ground's real servers: the CRD on a real apiserver, MinIO's signed URLs, and SMTP."""

from __future__ import annotations

import copy
import datetime as dt
import mailbox
import re
import smtplib
import subprocess
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from preboarding import api
from preboarding.storage import S3Store, StoreSettings
from preboarding.testenv.ground import GroundInfo

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "onboardingvideo.yaml"


def _example(namespace: str) -> dict[str, Any]:
    body = yaml.safe_load(EXAMPLE.read_text())
    body["metadata"]["namespace"] = namespace
    return body


def _kubectl(ground: GroundInfo, *args: str) -> str:
    result = subprocess.run([str(ground.kubectl), "--kubeconfig", str(ground.kubeconfig), *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_valid_video_round_trips_with_defaults(kube_api, namespace: str) -> None:  # type: ignore[no-untyped-def]
    objects = k8s.CustomObjectsApi(kube_api)
    body = _example(namespace)
    del body["spec"]["script"], body["spec"]["delivery"]
    objects.create_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, body)
    got = objects.get_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL,
                                               body["metadata"]["name"])
    assert got["spec"]["employee"]["email"] == "priya.raman@example.com"
    assert got["spec"]["employee"]["schedule"][0]["items"][1] == "Team breakfast"
    assert got["spec"]["employee"]["techStack"] == ["Python", "PostgreSQL", "Kubernetes", "Kafka", "Terraform"]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("employee", "email"), "priya-at-example", "spec.employee.email"),
        (("employee", "startDate"), "next monday", "spec.employee.startDate"),
        (("company", "brandColor"), "teal", "spec.company.brandColor"),
        (("script", "tone"), "sarcastic", "spec.script.tone"),
        (("script", "targetSeconds"), 5, "spec.script.targetSeconds"),
        (("employee", "name"), "", "spec.employee.name"),
    ],
)
def test_invalid_videos_are_rejected_naming_the_field(  # type: ignore[no-untyped-def]
    kube_api, namespace: str, path: tuple[str, str], value: object, expected: str
) -> None:
    body = _example(namespace)
    body["spec"][path[0]][path[1]] = value
    with pytest.raises(ApiException) as info:
        k8s.CustomObjectsApi(kube_api).create_namespaced_custom_object(
            api.GROUP, api.VERSION, namespace, api.PLURAL, body)
    assert info.value.status == 422
    assert expected in info.value.body


def test_missing_required_field_is_rejected(kube_api, namespace: str) -> None:  # type: ignore[no-untyped-def]
    body = _example(namespace)
    del body["spec"]["employee"]["email"]
    with pytest.raises(ApiException) as info:
        k8s.CustomObjectsApi(kube_api).create_namespaced_custom_object(
            api.GROUP, api.VERSION, namespace, api.PLURAL, body)
    assert info.value.status == 422
    assert "spec.employee.email: Required value" in info.value.body


def test_kubectl_get_ov_prints_the_columns(ground: GroundInfo, kube_api, namespace: str) -> None:  # type: ignore[no-untyped-def]
    objects = k8s.CustomObjectsApi(kube_api)
    body = _example(namespace)
    name = body["metadata"]["name"]
    objects.create_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, body)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {"status": {
        "phase": "Running", "stage": "audio", "progress": "1/5",
        "videoKey": f"{namespace}/{name}/uid/video.mp4",
        "delivery": {"state": "Scheduled", "scheduledAt": "2030-01-04T09:00:00Z"},
        "conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "StageRunning",
                        "message": "Rendering audio", "lastTransitionTime": now, "observedGeneration": 1}],
    }}
    objects.patch_namespaced_custom_object_status(api.GROUP, api.VERSION, namespace, api.PLURAL, name, status)

    out = _kubectl(ground, "get", "ov", "-n", namespace)
    header, row = out.splitlines()[:2]
    assert header.split() == ["NAME", "EMPLOYEE", "PHASE", "STAGE", "PROGRESS", "AGE"]
    assert row.split()[:6] == [name, "Priya", "Raman", "Running", "audio", "1/5"]

    wide = _kubectl(ground, "get", "onboardingvideos", "-n", namespace, "-o", "wide")
    assert wide.splitlines()[0].split() == ["NAME", "EMPLOYEE", "PHASE", "STAGE", "PROGRESS", "AGE", "MESSAGE",
                                            "DELIVERY", "SEND-AT", "VIDEO"]
    assert "Rendering audio" in wide and f"{namespace}/{name}/uid/video.mp4" in wide
    assert re.search(r"\bScheduled\s+\S+\s+" + re.escape(f"{namespace}/{name}/uid/video.mp4"), wide), wide
    # The category works too.
    assert name in _kubectl(ground, "get", "preboarding", "-n", namespace)


def test_kubectl_explain_teaches_the_api(ground: GroundInfo, kube_api) -> None:  # type: ignore[no-untyped-def]
    out = _kubectl(ground, "explain", "onboardingvideo.spec.employee")
    assert "The new hire the video welcomes." in out
    assert "startDate" in out and "First working day" in out
    status = _kubectl(ground, "explain", "ov.status.conditions")
    assert "Succeeded" in status


def test_status_is_a_subresource(kube_api, namespace: str) -> None:  # type: ignore[no-untyped-def]
    objects = k8s.CustomObjectsApi(kube_api)
    body = copy.deepcopy(_example(namespace))
    body["status"] = {"phase": "Succeeded"}
    created = objects.create_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, body)
    assert "status" not in created or created["status"].get("phase") != "Succeeded"


# ---- MinIO ---------------------------------------------------------------------------------------

@pytest.fixture
def store(ground: GroundInfo) -> S3Store:
    settings = StoreSettings(endpoint=ground.s3_endpoint, access_key=ground.s3_access_key,
                             secret_key=ground.s3_secret_key, bucket=ground.s3_bucket, region=ground.s3_region)
    return S3Store(settings)


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_minio_put_get_and_presigned_url(store: S3Store) -> None:
    key = f"ground-test/{time.time_ns()}/hello.txt"
    store.put_bytes(key, b"hello new hire", "text/plain")
    assert store.get_bytes(key) == b"hello new hire"
    assert store.exists(key)
    status, body = _fetch(store.presigned_get_url(key, dt.timedelta(minutes=5)))
    assert (status, body) == (200, b"hello new hire")
    assert store.delete_prefix(key.rsplit("/", 1)[0] + "/") == 1
    assert not store.exists(key)


def test_tampered_presigned_url_is_refused(store: S3Store) -> None:
    key = f"ground-test/{time.time_ns()}/secret.txt"
    store.put_bytes(key, b"personal data")
    url = store.presigned_get_url(key, dt.timedelta(minutes=5))
    other = url.replace("secret.txt", "secret.tx2")
    sig_at = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    flipped = url[:sig_at] + ("0" if url[sig_at] != "0" else "1") + url[sig_at + 1:]
    longer = url.replace("X-Amz-Expires=300", "X-Amz-Expires=600")
    for bad in (other, flipped, longer):
        status, body = _fetch(bad)
        assert status == 403, bad
        assert b"SignatureDoesNotMatch" in body


def test_expired_presigned_url_is_refused(store: S3Store) -> None:
    key = f"ground-test/{time.time_ns()}/short.txt"
    store.put_bytes(key, b"short-lived")
    url = store.presigned_get_url(key, dt.timedelta(seconds=1))
    time.sleep(2.5)  # let the link expire; nothing here measures speed
    status, body = _fetch(url)
    assert status == 403
    assert b"expired" in body.lower()


# ---- SMTP ----------------------------------------------------------------------------------------

def test_smtp_delivers_to_the_maildir(ground: GroundInfo) -> None:
    marker = f"ground-test-{time.time_ns()}"
    msg = EmailMessage()
    msg["From"] = "preboarding@example.com"
    msg["To"] = "new.hire@example.com"
    msg["Subject"] = f"Welcome {marker}"
    msg.set_content("Your video is ready.")
    with smtplib.SMTP(ground.smtp_host, ground.smtp_port, timeout=10) as smtp:
        smtp.send_message(msg)
    found = [m for m in mailbox.Maildir(ground.mail_dir, create=False) if marker in (m["Subject"] or "")]
    assert len(found) == 1
    assert found[0]["To"] == "new.hire@example.com"
    assert "Your video is ready." in found[0].get_payload()
