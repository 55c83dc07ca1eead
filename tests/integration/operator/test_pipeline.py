"""The operator against the real apiserver and controller-manager.

There is no node on this ground: ``KubeletStandIn`` plays the kubelet (see its docstring). Where a
test passes an override, the stand-in decides a pod's exit code instead of running the renderer,
to script failures; the Job controller, the operator and the apiserver are all real.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from kubernetes import client as k8s

from preboarding import api
from preboarding.api.layout import INPUT_KEY
from preboarding.storage import S3Store, StoreSettings

from .harness import example_video, wait_for


def _ok(stage: str, pod: dict[str, Any]) -> int:
    return 0


def _jobs(kube_api: Any, namespace: str) -> list[Any]:
    return k8s.BatchV1Api(kube_api).list_namespaced_job(namespace).items


def _create(kube_api: Any, body: dict[str, Any]) -> None:
    k8s.CustomObjectsApi(kube_api).create_namespaced_custom_object(
        api.GROUP, api.VERSION, body["metadata"]["namespace"], api.PLURAL, body)


def _events(kube_api: Any, namespace: str, name: str, until: Any = None, timeout: float = 15) -> list[str]:
    """The video's events as "Reason: message"; with ``until``, wait for them to satisfy it.

    The operator posts events after it patches the status, so a test that has just seen the status
    may look before the event is there.
    """
    deadline = time.monotonic() + timeout
    while True:
        events = k8s.CoreV1Api(kube_api).list_namespaced_event(
            namespace, field_selector=f"involvedObject.name={name},involvedObject.kind={api.KIND}").items
        reasons = [f"{e.reason}: {e.message}" for e in events]
        if until is None or until(reasons) or time.monotonic() > deadline:
            return reasons
        time.sleep(0.2)


def _store(ground: Any) -> S3Store:
    return S3Store(StoreSettings(endpoint=ground.s3_endpoint, access_key=ground.s3_access_key,
                                 secret_key=ground.s3_secret_key, bucket=ground.s3_bucket))


def test_video_goes_through_the_stages_in_dag_order(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory, ground):
    operator = operator_factory()
    kubelet = kubelet_factory(_ok)
    body = example_video(namespace)
    _create(kube_api, body)
    done = wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Succeeded")

    order = [stage for stage, _, _ in kubelet.ran]
    assert order[0] == "script" and set(order[1:3]) == {"audio", "slides"} and order[3:] == ["compose", "notify"]
    status = done["status"]
    assert status["progress"] == "5/5"
    assert status["videoKey"] == f"{namespace}/welcome-priya/{done['metadata']['uid']}/video.mp4"
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Succeeded": "True", "ScriptReady": "True", "AudioReady": "True", "SlidesReady": "True",
        "ComposeReady": "True", "NotifyReady": "True"}
    assert all(r["state"] == "Succeeded" and r["attempts"] == 1 for r in status["stages"])

    jobs = _jobs(kube_api, namespace)
    assert sorted(j.metadata.labels[api.LABEL_STAGE] for j in jobs) == sorted(["script", "audio", "slides",
                                                                              "compose", "notify"])
    for job in jobs:
        owner = job.metadata.owner_references[0]
        assert (owner.kind, owner.name, owner.controller) == (api.KIND, "welcome-priya", True)
        assert len(job.metadata.name) <= 63
        pod = job.spec.template.spec
        assert pod.security_context.run_as_non_root and pod.containers[0].security_context.read_only_root_filesystem
        assert pod.containers[0].args[:2] == ["stage", job.metadata.labels[api.LABEL_STAGE]]
        assert job.spec.ttl_seconds_after_finished > 0 and job.spec.active_deadline_seconds > 0

    # The renderer's input was written to the store before the first Job.
    assert _store(ground).exists(status["storagePrefix"] + INPUT_KEY)

    reasons = _events(kube_api, namespace, "welcome-priya",
                      until=lambda rs: sum(r.startswith("StageSucceeded") for r in rs) >= 5)
    assert sum(r.startswith("StageStarted") for r in reasons) == 5
    assert sum(r.startswith("StageSucceeded") for r in reasons) == 5
    assert "preboarding_jobs_created_total" in operator.metrics()


def test_stage_failing_twice_then_succeeding_records_attempts(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory):
    seen: Counter[str] = Counter()

    def flaky_audio(stage: str, pod: dict[str, Any]) -> int:
        seen[stage] += 1
        return 75 if stage == "audio" and seen[stage] <= 2 else 0

    operator_factory()
    kubelet_factory(flaky_audio)
    _create(kube_api, example_video(namespace))
    done = wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") in ("Succeeded", "Failed"),
                    timeout=240)
    assert done["status"]["phase"] == "Succeeded"
    audio = next(r for r in done["status"]["stages"] if r["name"] == "audio")
    assert audio["attempts"] == 3
    assert seen["audio"] == 3 and seen["script"] == 1


def test_permanent_failure_fails_with_reason_then_retry_annotation_resumes(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory):
    fail_slides = {"on": True}

    def slides_refused(stage: str, pod: dict[str, Any]) -> int:
        return 3 if stage == "slides" and fail_slides["on"] else 0

    operator_factory()
    kubelet = kubelet_factory(slides_refused)
    _create(kube_api, example_video(namespace))
    failed = wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Failed")
    status = failed["status"]
    assert status["stage"] == "slides"
    assert "slides" in status["message"] and "permanent failure" in status["message"]
    summary = next(c for c in status["conditions"] if c["type"] == "Succeeded")
    assert (summary["status"], summary["reason"]) == ("False", "StageFailed")
    slides = next(r for r in status["stages"] if r["name"] == "slides")
    assert slides["attempts"] == 1  # no retries for a permanent failure
    has_failed = lambda rs: any(r.startswith("StageFailed") for r in rs)  # noqa: E731
    assert has_failed(_events(kube_api, namespace, "welcome-priya", until=has_failed))

    fail_slides["on"] = False
    k8s.CustomObjectsApi(kube_api).patch_namespaced_custom_object(
        api.GROUP, api.VERSION, namespace, api.PLURAL, "welcome-priya",
        {"metadata": {"annotations": {api.ANNOTATION_RETRY: "first"}}})
    done = wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Succeeded")
    runs = Counter(stage for stage, _, _ in kubelet.ran)
    assert runs["script"] == 1 and runs["audio"] == 1  # restarted from the failed stage, not from scratch
    assert runs["slides"] == 2
    slides = next(r for r in done["status"]["stages"] if r["name"] == "slides")
    assert slides["run"] == 2


def test_operator_killed_mid_pipeline_creates_no_duplicates(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory):
    hold = {"compose": True}

    def held(stage: str, pod: dict[str, Any]) -> int:
        while stage == "compose" and hold["compose"]:
            time.sleep(0.1)
        return 0

    first = operator_factory()
    kubelet = kubelet_factory(held)
    _create(kube_api, example_video(namespace))
    wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("stage") == "compose")
    first.kill()
    hold["compose"] = False
    time.sleep(1)  # compose finishes while no operator runs
    operator_factory()
    wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Succeeded")
    stages = Counter(j.metadata.labels[api.LABEL_STAGE] for j in _jobs(kube_api, namespace))
    assert stages == Counter({"script": 1, "audio": 1, "slides": 1, "compose": 1, "notify": 1})
    assert Counter(stage for stage, _, _ in kubelet.ran)["notify"] == 1


def test_deletion_removes_the_stored_objects(kube_api, namespace, operator_factory, kubelet_factory, ground):  # type: ignore[no-untyped-def]
    operator_factory()
    kubelet_factory(_ok)
    _create(kube_api, example_video(namespace))
    done = wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Succeeded")
    prefix = done["status"]["storagePrefix"]
    store = _store(ground)
    store.put_bytes(prefix + "video.mp4", b"not really a video")
    assert len(store.list(prefix)) >= 2
    assert api.FINALIZER in done["metadata"]["finalizers"]
    objects = k8s.CustomObjectsApi(kube_api)
    objects.delete_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, "welcome-priya")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not objects.list_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL)["items"]:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("video not deleted")
    assert store.list(prefix) == []
