"""A held email on the real apiserver: rendered at once, sent at its time, once, across a restart.

The kubelet stand-in exits every stage 0 (the renderer's own behaviour is tested elsewhere); the
Job controller, the operator (its kopf daemon for held emails) and the apiserver are real. Lead times
are seconds (``spec.delivery.sendAt``), never a sleep longer than the wait for the send time.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any

from kubernetes import client as k8s

from preboarding import api

from .harness import example_video, wait_for
from .test_pipeline import _create, _events, _jobs, _ok


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _held(status: dict[str, Any]) -> bool:
    return (status.get("delivery") or {}).get("state") == "Scheduled" and status.get("progress") == "4/5"


def _notify_jobs(kube_api: Any, namespace: str) -> list[Any]:
    return [j for j in _jobs(kube_api, namespace) if j.metadata.labels[api.LABEL_STAGE] == "notify"]


def _patch_spec(kube_api: Any, namespace: str, name: str, spec: dict[str, Any]) -> None:
    k8s.CustomObjectsApi(kube_api).patch_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL,
                                                                  name, {"spec": spec})


def test_a_held_email_is_sent_at_its_time_once_across_an_operator_restart(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory):
    first = operator_factory()
    kubelet = kubelet_factory(_ok)
    send_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=25)
    body = example_video(namespace)
    body["spec"]["delivery"] = {"sendAt": _iso(send_at)}
    _create(kube_api, body)

    held = wait_for(kube_api, namespace, "welcome-priya", _held, timeout=60)["status"]
    assert held["phase"] == "Running" and held["stage"] == "notify"
    assert _parse(held["delivery"]["scheduledAt"]) == send_at
    notify = next(c for c in held["conditions"] if c["type"] == "NotifyReady")
    assert (notify["status"], notify["reason"]) == ("False", "Scheduled") and _iso(send_at) in notify["message"]
    assert _notify_jobs(kube_api, namespace) == []

    # The operator dies while the email is held; a new one must pick the wait up from the status alone.
    first.kill()
    time.sleep(2)
    operator_factory()
    done = wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Succeeded", timeout=90)
    [job] = _notify_jobs(kube_api, namespace)
    assert job.metadata.creation_timestamp >= send_at  # not a moment before its time
    assert (done["status"]["delivery"]["state"], done["status"]["delivery"]["sends"]) == ("Sent", 1)
    stages = Counter(j.metadata.labels[api.LABEL_STAGE] for j in _jobs(kube_api, namespace))
    assert stages == Counter({"script": 1, "audio": 1, "slides": 1, "compose": 1, "notify": 1})
    assert Counter(stage for stage, _, _ in kubelet.ran)["notify"] == 1
    events = _events(kube_api, namespace, "welcome-priya", until=lambda rs: any("EmailScheduled" in r for r in rs))
    assert sum(r.startswith("EmailScheduled") for r in events) == 1, events


def test_a_moved_start_date_moves_the_send_time_and_an_earlier_one_wakes_the_wait(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory):
    operator_factory()
    kubelet_factory(_ok)
    start = dt.date.today() + dt.timedelta(days=30)
    body = example_video(namespace)
    body["spec"]["employee"]["startDate"] = start.isoformat()
    body["spec"]["delivery"] = {"daysBeforeStart": 2}
    _create(kube_api, body)
    held = wait_for(kube_api, namespace, "welcome-priya", _held, timeout=60)["status"]
    assert _parse(held["delivery"]["scheduledAt"]) == dt.datetime.combine(
        start - dt.timedelta(days=2), dt.time(9), tzinfo=dt.UTC)

    # HR moves the start date: the video is made again (its slides show the date) and the send time moves.
    later = start + dt.timedelta(days=14)
    _patch_spec(kube_api, namespace, "welcome-priya", {"employee": {"startDate": later.isoformat()}})
    moved = wait_for(kube_api, namespace, "welcome-priya",
                     lambda s: _held(s) and s["delivery"]["scheduledAt"].startswith(
                         (later - dt.timedelta(days=2)).isoformat()), timeout=60)["status"]
    assert moved["delivery"].get("sends", 0) == 0
    assert _notify_jobs(kube_api, namespace) == []

    # Someone sets sendAt to a few seconds from now: the daemon's day-long wait is cut short.
    send_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=5)
    _patch_spec(kube_api, namespace, "welcome-priya", {"delivery": {"sendAt": _iso(send_at)}})
    done = wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Succeeded", timeout=60)
    [job] = _notify_jobs(kube_api, namespace)
    assert job.metadata.creation_timestamp >= send_at
    assert done["status"]["delivery"]["state"] == "Sent"


def test_the_resend_annotation_sends_again_once_and_not_sooner_than_the_interval(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory):
    operator_factory(PREBOARDING_MIN_EMAIL_INTERVAL_SECONDS="8")
    kubelet = kubelet_factory(_ok)
    _create(kube_api, example_video(namespace))
    first = wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Succeeded")["status"]
    sent_at = _parse(first["delivery"]["sentAt"])

    objects = k8s.CustomObjectsApi(kube_api)
    objects.patch_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, "welcome-priya",
                                           {"metadata": {"annotations": {api.ANNOTATION_RESEND: "lost-it-1"}}})
    done = wait_for(kube_api, namespace, "welcome-priya",
                    lambda s: s.get("phase") == "Succeeded" and (s.get("delivery") or {}).get("sends") == 2)
    jobs = sorted(_notify_jobs(kube_api, namespace), key=lambda j: j.metadata.creation_timestamp)
    assert [j.metadata.annotations["preboarding.dev/run"] for j in jobs] == ["1", "2"]
    assert jobs[1].metadata.creation_timestamp >= sent_at + dt.timedelta(seconds=8)  # held for the interval
    assert jobs[1].spec.template.spec.containers[0].args[-2:] == ["--run", "2"]
    assert done["status"]["observedResend"] == "lost-it-1"
    time.sleep(2)  # the same value seen again (resync, restart) sends nothing more
    assert len(_notify_jobs(kube_api, namespace)) == 2
    assert Counter(stage for stage, _, _ in kubelet.ran)["notify"] == 2
