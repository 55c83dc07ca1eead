"""Two operator replicas sharing a kopf peering object: only the higher priority one acts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s

from preboarding.testenv.ground import GroundInfo
from preboarding.testenv.kube import apply_crd

from .harness import OperatorProcess, example_video, wait_for
from .test_pipeline import _create, _jobs, _ok

PEERING_CRD = Path(__file__).resolve().parents[3] / "crds" / "kopf-peering.yaml"


def _wait_log(proc: OperatorProcess, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in proc.log.read_text():
        assert time.monotonic() < deadline, f"{text!r} not in the log:\n{proc.log.read_text()[-2000:]}"
        time.sleep(0.3)


@pytest.mark.timeout(300)
def test_two_replicas_never_both_act(  # type: ignore[no-untyped-def]
        kube_api, namespace: str, ground: GroundInfo, tmp_path: Path, kubelet_factory) -> None:
    apply_crd(kube_api, body=yaml.safe_load(PEERING_CRD.read_text()))
    k8s.CustomObjectsApi(kube_api).create_namespaced_custom_object(
        "kopf.dev", "v1", namespace, "kopfpeerings",
        {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": "preboarding"}})
    leader = OperatorProcess(ground, namespace, tmp_path / "leader.log", {}, peering="preboarding", priority=10)
    standby = OperatorProcess(ground, namespace, tmp_path / "standby.log", {}, peering="preboarding", priority=0)
    replicas = [leader.start()]
    try:
        # The standby starts once the leader's heartbeat is in the peering object, so it starts paused
        # (kopf starts every replica paused and logs only when it resumes).
        objects = k8s.CustomObjectsApi(kube_api)
        deadline = time.monotonic() + 60
        while not (objects.get_namespaced_custom_object("kopf.dev", "v1", namespace, "kopfpeerings",
                                                        "preboarding").get("status") or {}):
            assert time.monotonic() < deadline, "the leader never wrote its heartbeat"
            time.sleep(0.3)
        replicas.append(standby.start())
        kubelet_factory(_ok)
        _create(kube_api, example_video(namespace, "first"))
        wait_for(kube_api, namespace, "first", lambda s: s.get("phase") == "Succeeded")
        assert len(_jobs(kube_api, namespace)) == 5  # one Job per stage: nobody acted twice
        assert "first" not in standby.log.read_text()
        assert "Resuming operations" not in standby.log.read_text()  # paused all along

        # The leader leaves (a rolling update): the standby resumes and takes the next video.
        leader.stop()
        _wait_log(standby, "Resuming operations after the pause")
        _create(kube_api, example_video(namespace, "second"))
        wait_for(kube_api, namespace, "second", lambda s: s.get("phase") == "Succeeded")
        jobs: list[Any] = _jobs(kube_api, namespace)
        assert len(jobs) == 10
    finally:
        for proc in replicas:
            proc.stop()
