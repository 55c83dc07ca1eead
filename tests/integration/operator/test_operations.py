"""Operations a platform team relies on: the Job cap, spec changes, deletion with the store down."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from kubernetes import client as k8s

from preboarding import api

from .harness import example_video, wait_for
from .test_pipeline import _create, _jobs, _ok


def _active_jobs(kube_api: Any, namespace: str) -> int:
    return sum(1 for j in _jobs(kube_api, namespace) if not (j.status.succeeded or j.status.failed))


@pytest.mark.timeout(300)
def test_running_jobs_never_exceed_the_cap(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory) -> None:
    gate = {"open": False}

    def slow(stage: str, pod: dict[str, Any]) -> int:
        while not gate["open"]:
            time.sleep(0.1)
        return 0

    operator_factory(PREBOARDING_MAX_RUNNING_JOBS_PER_NAMESPACE="2")
    kubelet_factory(slow)
    for i in range(4):
        _create(kube_api, example_video(namespace, f"video-{i}"))
    # Two Jobs start; the other videos wait in Pending and say so.
    deadline = time.monotonic() + 60
    while len(_jobs(kube_api, namespace)) < 2:
        assert time.monotonic() < deadline, "no Jobs started"
        time.sleep(0.2)
    time.sleep(3)  # give the operator every chance to overshoot
    assert _active_jobs(kube_api, namespace) == 2
    videos = k8s.CustomObjectsApi(kube_api).list_namespaced_custom_object(
        api.GROUP, api.VERSION, namespace, api.PLURAL)["items"]
    pending = [o["status"] for o in videos if (o.get("status") or {}).get("phase") == "Pending"]
    assert len(pending) == 2, [o.get("status") for o in videos]
    assert all((s.get("message") or "").startswith("Waiting for a free Job slot") for s in pending), pending

    peak = 0
    gate["open"] = True
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        peak = max(peak, _active_jobs(kube_api, namespace))
        phases = [(o.get("status") or {}).get("phase") for o in k8s.CustomObjectsApi(kube_api)
                  .list_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL)["items"]]
        if phases == ["Succeeded"] * 4:
            break
        time.sleep(0.2)
    assert phases == ["Succeeded"] * 4
    assert peak <= 2


@pytest.mark.timeout(300)
def test_spec_change_reruns_only_what_it_affects(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory) -> None:
    # The second email may go at once (by default it waits 5 minutes after the first: test_scheduled_delivery).
    operator_factory(PREBOARDING_MIN_EMAIL_INTERVAL_SECONDS="0")
    kubelet = kubelet_factory(_ok)
    _create(kube_api, example_video(namespace))
    wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Succeeded")
    objects = k8s.CustomObjectsApi(kube_api)
    objects.patch_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, "welcome-priya",
                                           {"spec": {"voices": {"alex": "awb"}}})
    done = wait_for(kube_api, namespace, "welcome-priya",
                    lambda s: s.get("phase") == "Succeeded" and s.get("observedGeneration") == 2)
    ran = Counter(stage for stage, _, _ in kubelet.ran)
    # New voices: audio and what depends on it run again; the script and slides are kept.
    assert ran == Counter({"script": 1, "slides": 1, "audio": 2, "compose": 2, "notify": 2})
    assert done["status"]["progress"] == "5/5"


@pytest.mark.timeout(300)
def test_deletion_waits_for_an_unreachable_store_and_says_why(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory, ground) -> None:
    healthy = operator_factory()
    kubelet_factory(_ok)
    _create(kube_api, example_video(namespace))
    wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Succeeded")
    healthy.stop()
    operator_factory(PREBOARDING_S3_ENDPOINT="127.0.0.1:9")  # nothing listens there
    objects = k8s.CustomObjectsApi(kube_api)
    objects.delete_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, "welcome-priya")
    stuck = wait_for(kube_api, namespace, "welcome-priya",
                     lambda s: "could not remove stored objects" in (s.get("message") or ""), timeout=120)
    assert api.FINALIZER in stuck["metadata"]["finalizers"]  # personal data is not orphaned silently
    operator_factory()  # the store is back (a healthy replica): the deletion completes
    deadline = time.monotonic() + 120
    while objects.list_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL)["items"]:
        assert time.monotonic() < deadline, "the video was never deleted"
        time.sleep(0.5)
