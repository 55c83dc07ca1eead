"""Fixtures for operator tests: the operator as a real subprocess, and a kubelet stand-in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s

from preboarding import api
from preboarding.testenv.ground import GroundInfo, free_ports

from .kubelet import KubeletStandIn

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


@pytest.fixture
def operator_factory(ground: GroundInfo, namespace: str, tmp_path: Path) -> Iterator[Any]:
    started: list[OperatorProcess] = []

    def make(**extra_env: str) -> OperatorProcess:
        proc = OperatorProcess(ground, namespace, tmp_path / "operator.log", extra_env).start()
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop()


@pytest.fixture
def kubelet_factory(kube_api: Any, ground: GroundInfo, namespace: str) -> Iterator[Any]:
    started: list[KubeletStandIn] = []

    def make(override: Any = None) -> KubeletStandIn:
        env = {**ground.env(), "PREBOARDING_MAIL_PROVIDER": "smtp", "PREBOARDING_SCRIPT_PROVIDER": "template",
               "PREBOARDING_TTS_PROVIDER": "flite", "PREBOARDING_MAIL_FROM": "welcome@northwind.example"}
        stand_in = KubeletStandIn(kube_api, namespace, env, override).start()
        started.append(stand_in)
        return stand_in

    yield make
    for stand_in in started:
        stand_in.stop()


def example_video(namespace: str, name: str = "welcome-priya") -> dict[str, Any]:
    body = yaml.safe_load(EXAMPLE.read_text())
    body["metadata"].update(namespace=namespace, name=name)
    return body


def wait_for(kube_api: Any, namespace: str, name: str, predicate: Any, timeout: float = 180) -> dict[str, Any]:
    objects = k8s.CustomObjectsApi(kube_api)
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = objects.get_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, name)
        if predicate(body.get("status") or {}):
            return body
        time.sleep(0.3)
    raise AssertionError(f"timed out; last status: {yaml.safe_dump(body.get('status'))}")
