"""Fixtures of the e2e tests: a test ground with a real node, and the chart installed on it with Helm.

These tests build the images and start a node (root, containerd, a kubelet), so they run only when asked:
``PREBOARDING_E2E=1`` (``make e2e`` sets it). The ground lives in ``.testenv/e2e/``, apart from the one the
integration tests share: those tests run pods through a kubelet stand-in that a real scheduler and kubelet
would race, and a fresh apiserver lets Helm install the CRDs as on any new cluster.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from preboarding.testenv import node
from preboarding.testenv.binaries import cache_dir, repo_root
from preboarding.testenv.ground import Ground, GroundInfo
from preboarding.testenv.processes import free_ports

ENABLED = os.environ.get("PREBOARDING_E2E") == "1"
SKIP_REASON = ("e2e tests build images and start a real node (root, containerd, kubelet): "
               "run `make e2e` or set PREBOARDING_E2E=1")
CHART = repo_root() / "charts" / "preboarding"
RELEASE, NAMESPACE = "preboarding", "preboarding-e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if ENABLED:
        return
    here = str(Path(__file__).parent) + os.sep
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def e2e_root() -> Path:
    return Path(os.environ.get("PREBOARDING_E2E_TESTENV_DIR", repo_root() / ".testenv" / "e2e"))


@dataclass
class Phases:
    """Wall time of each phase of the run, printed by the test."""

    seconds: dict[str, float] = field(default_factory=dict)

    def report(self) -> str:
        return "\n".join(f"  {name:<28} {value:7.1f} s" for name, value in self.seconds.items())


@pytest.fixture(scope="session")
def phases() -> Phases:
    return Phases()


@pytest.fixture(scope="session")
def image_archives(phases: Phases) -> list[Path]:
    """The sandbox image and the project's images (built by build/images.sh, cached by a source digest)."""
    start = time.monotonic()
    archives = node.ensure_artifacts(e2e_root())
    phases.seconds["image build (cached or not)"] = time.monotonic() - start
    return archives


@pytest.fixture(scope="session")
def node_ground(image_archives: list[Path], phases: Phases) -> Iterator[GroundInfo]:
    """The ground with a node, in .testenv/e2e/ (PREBOARDING_E2E_TESTENV_DIR); reused if it runs."""
    ground = Ground(e2e_root())
    start = time.monotonic()
    started_here = ground.start(node=True)
    phases.seconds["ground start (with node)"] = time.monotonic() - start
    try:
        yield ground.info()
    finally:
        if started_here and os.environ.get("PREBOARDING_KEEP_TESTENV") != "1":
            ground.stop()


def helm_binary() -> str:
    explicit = os.environ.get("PREBOARDING_HELM")
    if explicit:
        return explicit
    found = sorted(p for p in cache_dir().glob("helm-*/helm") if os.access(p, os.X_OK))
    if not found:
        pytest.fail("helm is not built: run `make binaries` (testenv/build-helm.sh)")
    return str(found[-1])


@dataclass
class Release:
    """The chart installed on the node ground."""

    ground: GroundInfo
    helm: str
    namespace: str
    bridge_url: str
    webhook_secret: str
    greenhouse_secret: str

    def run(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run([self.helm, "--kubeconfig", str(self.ground.kubeconfig), *args],
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def kubectl(self, *args: str, check: bool = True) -> str:
        result = subprocess.run([str(self.ground.kubectl), "--kubeconfig", str(self.ground.kubeconfig),
                                 "-n", self.namespace, *args], capture_output=True, text=True, timeout=60)
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result.stdout + result.stderr

    def installed(self) -> bool:
        listed = self.run("list", "-n", self.namespace, "-q")
        return RELEASE in listed.split()

    def diagnostics(self) -> str:
        """What a human would look at when the scenario fails: objects, events and every pod's log."""
        parts = [self.kubectl("get", "ov,jobs,pods,deployments", "-o", "wide", check=False),
                 self.kubectl("get", "events", "--sort-by=.lastTimestamp", check=False)[-4000:]]
        names = self.kubectl("get", "pods", "-o", "name", check=False).split()
        for pod in names:
            parts.append(f"--- {pod}\n" + self.kubectl("logs", pod, "--tail=40", check=False))
        return "\n".join(parts)


# What an administrator connecting Greenhouse applies (docs/hr-vendors.md): a profile, a source, and the
# Secret holding the web hook's secret key, created before the release (the chart never holds it).
GREENHOUSE_SECRET = "hr-webhooks"
PROFILE = {"name": "northwind", "company": {"name": "Northwind", "brandColor": "#0F766E"},
           "teams": [{"match": {"department": "Data"}, "techStack": ["Python", "dbt"], "buddy": "Ada Quinn"}]}
GREENHOUSE_SOURCE = {"name": "greenhouse", "vendor": "greenhouse",
                     "secretRef": {"name": GREENHOUSE_SECRET, "key": "greenhouse"}, "profileRef": {"name": "northwind"}}


def chart_values(ground: GroundInfo, webhook_secret: str) -> dict[str, Any]:
    """On top of ci/testground-values.yaml: the ground's endpoints, keys and free ports for the pods, and
    a Greenhouse source."""
    ports = free_ports(("bridge", "liveness", "metrics"))
    return {
        "network": {"kubernetesServicePort": str(ground.ports["apiserver"])},
        "s3": {"endpoint": ground.s3_endpoint, "accessKey": ground.s3_access_key,
               "secretKey": ground.s3_secret_key, "bucket": ground.s3_bucket, "region": ground.s3_region},
        "renderer": {"smtp": {"host": ground.smtp_host, "port": ground.smtp_port}},
        # The bridge pod is on the host's loopback (hostNetwork): the watch links point there.
        "bridge": {"port": ports["bridge"], "publicUrl": f"http://127.0.0.1:{ports['bridge']}",
                   "webhook": {"secrets": [webhook_secret]},
                   "sources": {"items": [GREENHOUSE_SOURCE], "refreshSeconds": 5}, "profiles": [PROFILE]},
        "operator": {"livenessPort": ports["liveness"], "metricsPort": ports["metrics"]},
    }


@pytest.fixture(scope="session")
def release(node_ground: GroundInfo, phases: Phases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    """``helm install`` of charts/preboarding with the test values; the test uninstalls it (teardown makes sure)."""
    import base64

    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    values = chart_values(node_ground, secret)
    values_file = tmp_path_factory.mktemp("helm") / "e2e-values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    values_file.chmod(0o600)
    greenhouse = secrets.token_urlsafe(32)
    rel = Release(node_ground, helm_binary(), NAMESPACE, f"http://127.0.0.1:{values['bridge']['port']}", secret,
                  greenhouse)
    _reset(rel)  # a kept ground may hold a previous run's release
    rel.kubectl("create", "namespace", NAMESPACE)
    rel.kubectl("create", "secret", "generic", GREENHOUSE_SECRET, f"--from-literal=greenhouse={greenhouse}")
    start = time.monotonic()
    rel.run("install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--create-namespace",
            "-f", str(CHART / "ci" / "testground-values.yaml"), "-f", str(values_file),
            "--wait", "--timeout", "5m")
    phases.seconds["helm install --wait"] = time.monotonic() - start
    try:
        yield rel
    finally:
        _reset(rel)


def _reset(rel: Release) -> None:
    """Uninstall the release and delete its namespace (dropping finalizers no operator will remove now)."""
    if rel.installed():
        rel.run("uninstall", RELEASE, "--namespace", rel.namespace, "--wait")
    if "NotFound" in rel.kubectl("get", "namespace", rel.namespace, check=False):
        return
    for name in rel.kubectl("get", "ov", "-o", "name", check=False).split():
        if name.startswith("onboardingvideo"):
            rel.kubectl("patch", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}', check=False)
    rel.kubectl("delete", "namespace", rel.namespace, "--wait=true", "--timeout=120s", check=False)
