"""A stand-in for the kubelet, for a test ground without a node.

It finds the pods the real Job controller created for our Jobs, runs the container's command the
way the pod spec says (same args and env, in the test venv, against the test ground's MinIO and
SMTP), and writes the pod's status as a kubelet would (phase and the container's exit code). The
real Job controller then does the rest: counts the pod, applies backoffLimit and podFailurePolicy,
and sets the Job's conditions, which the operator watches.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

# Decides a pod's fate instead of running it: (stage, pod) -> exit code, or None to run it for real.
Override = Callable[[str, dict[str, Any]], int | None]


@dataclass
class KubeletStandIn:
    api_client: Any
    namespace: str
    env: dict[str, str]
    override: Override | None = None
    ran: list[tuple[str, str, int]] = field(default_factory=list)  # (stage, pod, exit code)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _done: set[str] = field(default_factory=set)

    def start(self) -> KubeletStandIn:
        self._thread = threading.Thread(target=self._loop, name="kubelet-stand-in", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        core = k8s.CoreV1Api(self.api_client)
        while not self._stop.is_set():
            try:
                pods = core.list_namespaced_pod(
                    self.namespace, label_selector="app.kubernetes.io/managed-by=preboarding-operator")
                for pod in pods.items:
                    if pod.metadata.uid in self._done or pod.status.phase != "Pending":
                        continue
                    if pod.metadata.deletion_timestamp:
                        continue
                    self._done.add(pod.metadata.uid)
                    self._run_pod(core, self.api_client.sanitize_for_serialization(pod))
            except Exception as exc:  # keep going; the test asserts on errors
                self.errors.append(repr(exc))
            self._stop.wait(0.3)

    def _run_pod(self, core: k8s.CoreV1Api, pod: dict[str, Any]) -> None:
        container = pod["spec"]["containers"][0]
        labels = pod["metadata"]["labels"]
        stage = labels.get("preboarding.dev/stage") or "alert"  # a failure mail's Job has no stage label
        started = dt.datetime.now(dt.UTC)
        self._set_status(core, pod, "Running", None, started)
        code = self.override(stage, pod) if self.override else None
        if code is None:
            env = {**os.environ, **self.env}
            for item in container.get("env") or []:
                if "value" in item:
                    env[item["name"]] = item["value"]
            scratch = f"/tmp/kubelet-stand-in/{pod['metadata']['name']}"
            os.makedirs(scratch, exist_ok=True)
            env["TMPDIR"] = env["HOME"] = scratch
            preboarding = shutil.which("preboarding") or os.path.join(os.path.dirname(os.sys.executable),
                                                                      "preboarding")
            result = subprocess.run([preboarding, *container["args"]], env=env, capture_output=True, text=True,
                                    timeout=600)
            code = result.returncode
            if code != 0:
                self.errors.append(f"{stage}: exit {code}: {result.stderr.strip()[-500:]}")
            shutil.rmtree(scratch, ignore_errors=True)
        self.ran.append((stage, pod["metadata"]["name"], code))
        self._set_status(core, pod, "Succeeded" if code == 0 else "Failed", code, started)

    def _set_status(self, core: k8s.CoreV1Api, pod: dict[str, Any], phase: str, code: int | None,
                    started: dt.datetime) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        start = started.strftime("%Y-%m-%dT%H:%M:%SZ")
        name = pod["spec"]["containers"][0]["name"]
        if code is None:
            state = {"running": {"startedAt": start}}
        else:
            state = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                    "startedAt": start, "finishedAt": now}}
        status = {
            "phase": phase,
            "startTime": start,
            "conditions": [{"type": "Ready", "status": "True" if phase == "Running" else "False",
                            "lastTransitionTime": now}],
            "containerStatuses": [{
                "name": name, "state": state, "ready": phase == "Running", "restartCount": 0,
                "image": pod["spec"]["containers"][0]["image"], "imageID": "", "started": phase == "Running",
            }],
        }
        try:
            core.patch_namespaced_pod_status(pod["metadata"]["name"], self.namespace, {"status": status})
        except ApiException as exc:
            if exc.status != 404:
                raise
