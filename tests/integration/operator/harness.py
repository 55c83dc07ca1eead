"""The operator as a real process on the test ground, and the OnboardingVideos the tests create.

Used by the operator integration tests (through ``conftest.py``'s fixtures) and by
``benchmarks/reconcile.py``: ``preboarding operator`` in a subprocess watching one namespace,
the example OnboardingVideo, and a wait for a video's status.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s

from preboarding import api
from preboarding.testenv.ground import GroundInfo
from preboarding.testenv.processes import free_ports

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "onboardingvideo.yaml"


class OperatorProcess:
    """``preboarding operator`` in a subprocess, watching one namespace; can be killed and restarted."""

    def __init__(self, ground: GroundInfo, namespace: str, log: Path, extra_env: dict[str, str],
                 peering: str | None = None, priority: int = 0) -> None:
        self.ground, self.namespace, self.log = ground, namespace, log
        # Standalone unless a peering name is given: then replicas sharing it never both act.
        self.mode = ["--peering", peering, "--priority", str(priority)] if peering else ["--standalone"]
        self.env = {**os.environ, **ground.env(), "PREBOARDING_RENDERER_IMAGE": "preboarding-renderer:test",
                    "PREBOARDING_JOB_BACKOFF_LIMIT": "3", **extra_env}
        self.proc: subprocess.Popen[bytes] | None = None
        self.health_port = self.metrics_port = 0

    def start(self) -> OperatorProcess:
        ports = free_ports(("health", "metrics"))
        self.health_port, self.metrics_port = ports["health"], ports["metrics"]
        exe = Path(sys.executable).with_name("preboarding")
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [str(exe), "operator", *self.mode, "--namespace", self.namespace, "--log-format", "text",
                 "--liveness", f"http://127.0.0.1:{self.health_port}/healthz",
                 "--metrics-host", "127.0.0.1", "--metrics-port", str(self.metrics_port)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"operator not live; log:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as when a node dies."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as resp:
            return resp.read().decode()


def example_video(namespace: str, name: str = "welcome-priya") -> dict[str, Any]:
    """examples/onboardingvideo.yaml, named ``name`` in ``namespace``."""
    body = yaml.safe_load(EXAMPLE.read_text())
    body["metadata"].update(namespace=namespace, name=name)
    return body


def wait_for(kube_api: Any, namespace: str, name: str, predicate: Any, timeout: float = 180) -> dict[str, Any]:
    """Poll the OnboardingVideo until ``predicate(status)`` holds; returns it, or fails with its last status."""
    objects = k8s.CustomObjectsApi(kube_api)
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = objects.get_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, name)
        if predicate(body.get("status") or {}):
            return body
        time.sleep(0.3)
    raise AssertionError(f"timed out; last status: {yaml.safe_dump(body.get('status'))}")
