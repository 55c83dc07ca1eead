"""The bridge as a real process on the test ground, with least-privilege credentials.

Used by the integration tests and by ``benchmarks/bridge.py``: a ServiceAccount with a Role on
onboardingvideos only, a token for it from the TokenRequest API, a kubeconfig holding exactly that
token, and ``preboarding bridge`` started as a subprocess with it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s
from standardwebhooks import Webhook

from preboarding import api
from preboarding.testenv.ground import GroundInfo
from preboarding.testenv.processes import free_port

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "new-hire.json"
BRIDGE_VERBS = ["create", "get", "list", "patch", "delete"]


def example_payload(employee_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    if employee_id is not None:
        data["employee"]["id"] = employee_id
    return data


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def source_rules(secret_names: list[str]) -> list[dict[str, Any]]:
    """What the bridge needs for OnboardingSources, as the chart's Role grants it: read sources and profiles,
    write sources' status, and read only the named Secrets."""
    rules: list[dict[str, Any]] = [
        {"apiGroups": [api.GROUP], "resources": [api.SOURCE_PLURAL, api.PROFILE_PLURAL], "verbs": ["get", "list"]},
        {"apiGroups": [api.GROUP], "resources": [f"{api.SOURCE_PLURAL}/status"], "verbs": ["patch"]},
    ]
    if secret_names:
        rules.append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": secret_names})
    return rules


def grant_bridge_access(api_client: Any, namespace: str, name: str = "preboarding-bridge",
                        verbs: list[str] | None = None, secret_names: list[str] | None = None) -> None:
    """ServiceAccount + Role (onboardingvideos: ``verbs``; sources with ``secret_names``) + RoleBinding."""
    core: Any = k8s.CoreV1Api(api_client)
    rbac: Any = k8s.RbacAuthorizationV1Api(api_client)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
    rules = [{"apiGroups": [api.GROUP], "resources": [api.PLURAL], "verbs": verbs or BRIDGE_VERBS},
             {"apiGroups": [api.GROUP], "resources": [f"{api.PLURAL}/status"], "verbs": ["patch"]}]
    if secret_names is not None:
        rules += source_rules(secret_names)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": name}, "rules": rules})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
    })


def mint_token(api_client: Any, namespace: str, name: str = "preboarding-bridge", seconds: int = 3600) -> str:
    """A bound token for the ServiceAccount from the TokenRequest API."""
    core: Any = k8s.CoreV1Api(api_client)
    request = core.create_namespaced_service_account_token(
        name, namespace, {"spec": {"expirationSeconds": seconds}})
    token: str = request.status.token
    return token


def write_kubeconfig(path: Path, ground: GroundInfo, token: str, server: str | None = None) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "ground", "cluster": {"server": server or ground.api_server,
                                                    "certificate-authority": str(ground.ca_file)}}],
        "users": [{"name": "bridge", "user": {"token": token}}],
        "contexts": [{"name": "bridge", "context": {"cluster": "ground", "user": "bridge"}}],
        "current-context": "bridge",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


class BridgeProcess:
    """``preboarding bridge`` in a subprocess on a free loopback port."""

    def __init__(self, ground: GroundInfo, namespace: str, kubeconfig: Path, log: Path,
                 extra_env: dict[str, str] | None = None) -> None:
        self.secret = new_secret()
        self.token = "bridge-test-token-" + secrets.token_hex(12)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREBOARDING_")}
        self.env = {
            **env,
            **ground.env(),
            "KUBECONFIG": str(kubeconfig),
            "PREBOARDING_NAMESPACE": namespace,
            "PREBOARDING_WEBHOOK_SECRETS": self.secret,
            "PREBOARDING_BEARER_TOKENS": self.token,
            "PREBOARDING_RATE_LIMIT_PER_MINUTE": "0",
            "PREBOARDING_DEV_OUTPUT_ENABLED": "true",
            "PREBOARDING_S3_PUBLIC_ENDPOINT": f"http://{ground.s3_endpoint}",
            **(extra_env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> BridgeProcess:
        exe = Path(sys.executable).with_name("preboarding")
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [str(exe), "bridge", "--host", "127.0.0.1", "--port", str(self.port), "--log-format", "text"],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bridge exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"bridge did not answer; log:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def sign(self, body: bytes, webhook_id: str) -> dict[str, str]:
        """Headers of a Standard Webhooks delivery, signed by the reference library."""
        now = dt.datetime.now(dt.UTC)
        return {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(self.secret).sign(webhook_id, now, body.decode()),
        }

    def bearer(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


class Cluster:
    """Admin access to the test namespace: Secrets, profiles, sources, videos."""

    def __init__(self, kube_api: Any, namespace: str) -> None:
        self.namespace = namespace
        self.core: Any = k8s.CoreV1Api(kube_api)
        self.objects: Any = k8s.CustomObjectsApi(kube_api)

    def secret(self, name: str, data: dict[str, str]) -> None:
        self.core.create_namespaced_secret(self.namespace, {
            "metadata": {"name": name}, "type": "Opaque",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}})

    def create(self, plural: str, name: str, spec: dict[str, Any]) -> None:
        kind = {api.PROFILE_PLURAL: api.PROFILE_KIND, api.SOURCE_PLURAL: api.SOURCE_KIND}[plural]
        self.objects.create_namespaced_custom_object(api.GROUP, api.VERSION, self.namespace, plural, {
            "apiVersion": api.API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec})

    def source(self, name: str) -> dict[str, Any]:
        obj: dict[str, Any] = self.objects.get_namespaced_custom_object(
            api.GROUP, api.VERSION, self.namespace, api.SOURCE_PLURAL, name)
        return obj

    def videos(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.objects.list_namespaced_custom_object(
            api.GROUP, api.VERSION, self.namespace, api.PLURAL)["items"]
        return items

    def ready(self, name: str) -> tuple[str, str] | None:
        for condition in (self.source(name).get("status") or {}).get("conditions") or []:
            if condition["type"] == "Ready":
                return condition["status"], condition["reason"]
        return None


def wait_for(predicate: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")
