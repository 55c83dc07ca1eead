"""The Helm chart: `helm lint`, `helm template`, and assertions on what it renders (no cluster needed).

helm comes from `testenv/build-helm.sh` (cached in ~/.cache/preboarding/helm-<version>/helm) or from
PREBOARDING_HELM; without it these tests are skipped with a message saying how to build it.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "charts" / "preboarding"
FULL_VALUES = CHART / "ci" / "full-values.yaml"
TESTGROUND_VALUES = CHART / "ci" / "testground-values.yaml"
RELEASE, NAMESPACE = "t", "pb"
FULL = f"{RELEASE}-preboarding"

STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",
    "helm.sh/chart",
)
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}

# The RBAC design, rule by rule (sorted verbs; see templates/operator/rbac.yaml and templates/bridge/rbac.yaml).
OPERATOR_RULES = {
    ("preboarding.dev", "onboardingvideos", ("get", "list", "patch", "watch")),
    ("preboarding.dev", "onboardingvideos/status", ("patch",)),
    ("preboarding.dev", "onboardingvideos/finalizers", ("update",)),
    ("batch", "jobs", ("create", "list", "watch")),
    ("", "events", ("create",)),
    ("kopf.dev", "kopfpeerings", ("get", "list", "patch", "watch")),
}
OPERATOR_CLUSTER_RULES = {
    ("", "namespaces", ("list", "watch")),
    ("apiextensions.k8s.io", "customresourcedefinitions", ("list", "watch")),
}
BRIDGE_RULES = {
    ("preboarding.dev", "onboardingvideos", ("create", "delete", "get", "list", "patch")),
    ("preboarding.dev", "onboardingvideos/status", ("patch",)),
    ("preboarding.dev", "onboardingsources", ("get", "list")),
    ("preboarding.dev", "onboardingprofiles", ("get", "list")),
    ("preboarding.dev", "onboardingsources/status", ("patch",)),
}
SOURCES = [
    {"name": "greenhouse", "vendor": "greenhouse", "secretRef": {"name": "hr-webhooks", "key": "greenhouse"},
     "profileRef": {"name": "northwind"}},
    {"name": "lever", "vendor": "lever", "secretRef": {"name": "hr-webhooks", "key": "lever"},
     "profileRef": {"name": "northwind"}, "api": {"tokenSecretRef": {"name": "hr-api-tokens", "key": "lever"}}},
]


def _find_helm() -> str | None:
    explicit = os.environ.get("PREBOARDING_HELM")
    if explicit:
        return explicit
    cache = Path(os.environ.get("PREBOARDING_CACHE", Path.home() / ".cache" / "preboarding"))
    found = sorted(p for p in cache.glob("helm-*/helm") if os.access(p, os.X_OK))
    return str(found[-1]) if found else None


@pytest.fixture(scope="module")
def helm() -> str:
    path = _find_helm()
    if path is None:
        pytest.skip("helm is not built: run `bash testenv/build-helm.sh` (or set PREBOARDING_HELM)")
    return path


def _run_helm(helm: str, *args: str, values: dict[str, Any] | None = None,
              files: tuple[Path, ...] = ()) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as tmp:
        command = [helm, *args]
        for file in files:
            command += ["-f", str(file)]
        if values:
            extra = Path(tmp) / "values.yaml"
            extra.write_text(yaml.safe_dump(values))
            command += ["-f", str(extra)]
        env = {**os.environ, "HELM_CACHE_HOME": f"{tmp}/cache", "HELM_CONFIG_HOME": f"{tmp}/config",
               "HELM_DATA_HOME": f"{tmp}/data"}
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)


@functools.lru_cache(maxsize=64)
def _render_cached(helm: str, values_json: str, files: tuple[Path, ...]) -> tuple[dict[str, Any], ...]:
    result = _run_helm(helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE,
                       values=json.loads(values_json), files=files)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def render(helm: str, values: dict[str, Any] | None = None, *, files: tuple[Path, ...] = ()) -> list[dict[str, Any]]:
    """The objects `helm template` renders (values as a dict on top of the given values files)."""
    return list(_render_cached(helm, json.dumps(values or {}, sort_keys=True), files))


def render_error(helm: str, values: dict[str, Any]) -> str:
    result = _run_helm(helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, values=values)
    assert result.returncode != 0, "expected helm to refuse these values"
    return result.stderr


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None,
         namespace: str | None = None) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
            and (namespace is None or d["metadata"].get("namespace") == namespace)]


def one(docs: list[dict[str, Any]], kind: str, name: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    found = find(docs, kind, name, namespace)
    assert len(found) == 1, f"expected one {kind} {namespace}/{name}, found {len(found)}"
    return found[0]


def pod_specs(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pod spec: of workloads, and of bare Pods (the `helm test` hook)."""
    for doc in docs:
        if doc["kind"] in WORKLOAD_KINDS:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]
        elif doc["kind"] == "Pod":
            yield f"Pod/{doc['metadata']['name']}", doc["spec"]


def rules_of(role: dict[str, Any]) -> set[tuple[str, str, tuple[str, ...]]]:
    rules = set()
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                rules.add((group, resource, tuple(sorted(rule["verbs"]))))
    assert len(rules) == sum(len(r["apiGroups"]) * len(r["resources"]) for r in role["rules"]), "duplicate rules"
    return rules


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


# --- lint and render ----------------------------------------------------------------------------------


@pytest.mark.parametrize("files", [(), (FULL_VALUES,), (TESTGROUND_VALUES,)], ids=["default", "full", "testground"])
def test_helm_lint_passes(helm: str, files: tuple[Path, ...]) -> None:
    result = _run_helm(helm, "lint", "--strict", str(CHART), files=files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_default_render_has_every_component(helm: str) -> None:
    docs = render(helm)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("CustomResourceDefinition", "onboardingvideos.preboarding.dev"),
        ("CustomResourceDefinition", "kopfpeerings.kopf.dev"),
        ("KopfPeering", "preboarding"),
        ("Deployment", f"{FULL}-operator"),
        ("Deployment", f"{FULL}-bridge"),
        ("Service", f"{FULL}-bridge"),
        ("PodDisruptionBudget", f"{FULL}-bridge"),
        ("ServiceAccount", f"{FULL}-operator"),
        ("ServiceAccount", f"{FULL}-bridge"),
        ("ServiceAccount", f"{FULL}-renderer"),
        ("ConfigMap", f"{FULL}-operator"),
        ("ConfigMap", f"{FULL}-bridge"),
        ("ConfigMap", f"{FULL}-renderer"),
        ("Secret", f"{FULL}-store"),
        ("Secret", f"{FULL}-bridge"),
        ("Secret", f"{FULL}-renderer"),
        ("Deployment", f"{FULL}-minio"),
        ("Service", f"{FULL}-minio"),
        ("PersistentVolumeClaim", f"{FULL}-minio"),
        ("Job", f"{FULL}-minio-bucket-1"),
    } <= kinds
    assert not find(docs, "Ingress")
    for doc in docs:
        if doc["kind"] != "CustomResourceDefinition" and not doc["kind"].startswith("Cluster"):
            assert doc["metadata"].get("namespace"), f"{doc['kind']}/{doc['metadata']['name']} has no namespace"


@pytest.mark.parametrize("values", [
    {"operator": {"replicaz": 2}},
    {"imagePullPolicy": "Never"},
    {"network": {"hostnetwork": True}},
    {"bridge": {"webhook": {"secret": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]}}},
    {"minio": {"persistance": {"enabled": False}}},
    {"renderer": {"openai": {"apikey": "sk-x"}}},
    {"renderer": {"providers": {"tts": "espeak"}}},
    {"image": {"pullPolicy": "Sometimes"}},
    {"bridge": {"webhook": {"secrets": ["not-a-standard-webhooks-secret"]}}},
], ids=lambda v: json.dumps(v, sort_keys=True))
def test_schema_rejects_typos_and_bad_values(helm: str, values: dict[str, Any]) -> None:
    stderr = render_error(helm, values)
    assert "values don't meet the specifications of the schema" in stderr


def test_inconsistent_values_fail_with_a_message_naming_the_fix(helm: str) -> None:
    assert "peering.enabled=true" in render_error(helm, {"operator": {"replicas": 2, "peering": {"enabled": False}}})
    assert "operator.watchNamespaces" in render_error(helm, {"bridge": {"videoNamespace": "elsewhere"}})
    assert "minio.enabled=false" in render_error(helm, {"s3": {"endpoint": "s3.example.com"}})
    assert "s3.endpoint is required" in render_error(helm, {"minio": {"enabled": False}})


# --- secrets and config ------------------------------------------------------------------------------

SECRET_VALUES: dict[str, Any] = {
    "s3": {"accessKey": "AKIA-S3-ACCESS-0001", "secretKey": "s3-secret-key-value-0002"},
    "renderer": {
        "openai": {"apiKey": "sk-openai-secret-0003"},
        "google": {"credentialsJson": '{"private_key": "google-private-key-0004"}'},
        "sendgrid": {"apiKey": "SG.sendgrid-secret-0005"},
        "smtp": {"host": "smtp.example.com", "username": "mailer", "password": "smtp-password-0006"},
    },
    "bridge": {"webhook": {"secrets": ["whsec_c2VjcmV0LXdlYmhvb2sta2V5LTAwMDc="],
                           "bearerTokens": ["bearer-token-secret-0008"]},
               "watch": {"keys": ["k2:watch-key-secret-0009-0123456789abcdef",
                                  "k1:watch-key-secret-0010-0123456789abcdef"],
                         "url": "https://onboarding.example.com"}},
}


def _secret_strings() -> list[str]:
    r = SECRET_VALUES["renderer"]
    return [SECRET_VALUES["s3"]["accessKey"], SECRET_VALUES["s3"]["secretKey"], r["openai"]["apiKey"],
            "google-private-key-0004", r["sendgrid"]["apiKey"], r["smtp"]["password"],
            SECRET_VALUES["bridge"]["webhook"]["secrets"][0], SECRET_VALUES["bridge"]["webhook"]["bearerTokens"][0]]


@pytest.mark.parametrize("files", [(), (FULL_VALUES,)], ids=["default", "full"])
def test_no_secret_value_appears_in_a_configmap_or_pod_spec(helm: str, files: tuple[Path, ...]) -> None:
    docs = render(helm, SECRET_VALUES, files=files)
    secrets = _secret_strings()
    # Generated ones too: whatever any Secret holds must stay out of ConfigMaps and workloads.
    secrets += [v for s in find(docs, "Secret") for v in decoded(s).values() if len(v) >= 8]
    stored = "\n".join(v for s in find(docs, "Secret") for v in decoded(s).values())
    if not files:  # (the full values take SendGrid's key from an existing Secret instead)
        for value in _secret_strings():
            assert value in stored, "every secret value given should land in a Secret"
    for doc in docs:
        if doc["kind"] == "Secret":
            continue
        text = yaml.safe_dump(doc)
        for value in secrets:
            assert value not in text, f"a secret value leaks into {doc['kind']}/{doc['metadata']['name']}"


def test_generated_credentials_are_shared_and_well_formed(helm: str) -> None:
    docs = render(helm)
    store = decoded(one(docs, "Secret", f"{FULL}-store"))
    renderer = decoded(one(docs, "Secret", f"{FULL}-renderer"))
    assert len(store["PREBOARDING_S3_ACCESS_KEY"]) == 20 and len(store["PREBOARDING_S3_SECRET_KEY"]) == 40
    watch_keys = renderer.pop("PREBOARDING_WATCH_KEYS")
    assert renderer == store, "the stage Jobs must get the same store keys as the operator and bridge"
    assert decoded(one(docs, "Secret", f"{FULL}-watch")) == {"PREBOARDING_WATCH_KEYS": watch_keys}
    assert pytest.importorskip("preboarding.api.watch").WatchKeys.parse(watch_keys).signing_key_id == "k1"
    webhook = decoded(one(docs, "Secret", f"{FULL}-bridge"))["PREBOARDING_WEBHOOK_SECRETS"]
    signatures = pytest.importorskip("preboarding.bridge.signatures")
    assert len(signatures.parse_secret(webhook)) == 32


def test_renderer_secret_holds_provider_keys_named_as_its_environment(helm: str) -> None:
    docs = render(helm, SECRET_VALUES)
    assert decoded(one(docs, "Secret", f"{FULL}-renderer")) == {
        "OPENAI_API_KEY": "sk-openai-secret-0003",
        "SENDGRID_API_KEY": "SG.sendgrid-secret-0005",
        "PREBOARDING_SMTP_PASSWORD": "smtp-password-0006",
        "PREBOARDING_S3_ACCESS_KEY": "AKIA-S3-ACCESS-0001",
        "PREBOARDING_S3_SECRET_KEY": "s3-secret-key-value-0002",
        "PREBOARDING_WATCH_KEYS": "k2:watch-key-secret-0009-0123456789abcdef,k1:watch-key-secret-0010-0123456789abcdef",
    }
    assert one(docs, "ConfigMap", f"{FULL}-renderer")["data"]["PREBOARDING_WATCH_URL"] == "https://onboarding.example.com"
    assert decoded(one(docs, "Secret", f"{FULL}-google")) == {"credentials.json": SECRET_VALUES["renderer"]["google"][
        "credentialsJson"]}
    config = one(docs, "ConfigMap", f"{FULL}-operator")["data"]
    assert json.loads(config["PREBOARDING_RENDERER_GOOGLE_CREDENTIALS_SECRET"]) == {
        "name": f"{FULL}-google", "key": "credentials.json"}
    assert "PREBOARDING_RENDERER_SECRET_REFS" not in config


def test_existing_secrets_are_referenced_not_copied(helm: str) -> None:
    docs = render(helm, {
        "s3": {"existingSecret": "store-keys", "existingSecretKeys": {"accessKey": "id", "secretKey": "key"}},
        "renderer": {"openai": {"existingSecret": "openai", "existingSecretKey": "token"},
                     "google": {"existingSecret": "gcp", "existingSecretKey": "sa.json"}},
        "bridge": {"webhook": {"existingSecret": "hr-webhook"},
                   "watch": {"existingSecret": "watch-keys", "existingSecretKey": "keys"}},
    })
    names = {s["metadata"]["name"] for s in find(docs, "Secret")}
    assert names.isdisjoint({f"{FULL}-store", f"{FULL}-bridge", f"{FULL}-renderer", f"{FULL}-google", f"{FULL}-watch"})
    config = one(docs, "ConfigMap", f"{FULL}-operator")["data"]
    assert json.loads(config["PREBOARDING_RENDERER_SECRET_REFS"]) == {
        "OPENAI_API_KEY": {"name": "openai", "key": "token"},
        "PREBOARDING_S3_ACCESS_KEY": {"name": "store-keys", "key": "id"},
        "PREBOARDING_S3_SECRET_KEY": {"name": "store-keys", "key": "key"},
        "PREBOARDING_WATCH_KEYS": {"name": "watch-keys", "key": "keys"},
    }
    assert json.loads(config["PREBOARDING_RENDERER_GOOGLE_CREDENTIALS_SECRET"]) == {"name": "gcp", "key": "sa.json"}
    assert "PREBOARDING_RENDERER_SECRET" not in config
    bridge = one(docs, "Deployment", f"{FULL}-bridge")["spec"]["template"]["spec"]["containers"][0]
    env = env_of(bridge)
    assert env["PREBOARDING_WEBHOOK_SECRETS"]["secretKeyRef"]["name"] == "hr-webhook"
    assert env["PREBOARDING_S3_ACCESS_KEY"]["secretKeyRef"] == {"name": "store-keys", "key": "id"}
    assert env["PREBOARDING_WATCH_KEYS"]["secretKeyRef"] == {"name": "watch-keys", "key": "keys"}


def test_jobs_get_the_existing_secrets_the_chart_names(helm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """From chart values to the stage Job: keys by secretKeyRef, Google's JSON as a mounted file."""
    jobs = pytest.importorskip("preboarding.operator.jobs")
    settings = pytest.importorskip("preboarding.operator.settings")
    from preboarding.api.stages import Stage

    docs = render(helm, {"renderer": {"openai": {"existingSecret": "openai", "existingSecretKey": "token"},
                                      "google": {"existingSecret": "gcp", "existingSecretKey": "sa.json"}}})
    for name in [n for n in os.environ if n.startswith("PREBOARDING_")]:
        monkeypatch.delenv(name)
    for key, value in one(docs, "ConfigMap", f"{FULL}-operator")["data"].items():
        monkeypatch.setenv(key, value)
    job = jobs.build_stage_job(namespace=NAMESPACE, video="v", uid="u", stage=Stage.SCRIPT, inputs_hash="h", run=1,
                               settings=settings.OperatorSettings())
    pod = job["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["OPENAI_API_KEY"]["valueFrom"] == {"secretKeyRef": {"name": "openai", "key": "token"}}
    assert env["GOOGLE_APPLICATION_CREDENTIALS"]["value"].endswith("/credentials.json")
    assert {"secretName": "gcp", "items": [{"key": "sa.json", "path": "credentials.json"}]} in [
        v.get("secret") for v in pod["volumes"]]


def test_rendered_settings_are_accepted_by_the_components(helm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ConfigMaps' keys and values are the ones the operator's and bridge's Settings classes read."""
    operator_settings = pytest.importorskip("preboarding.operator.settings")
    bridge_settings = pytest.importorskip("preboarding.bridge.settings")
    docs = render(helm, SECRET_VALUES, files=(FULL_VALUES,))
    for name in [n for n in os.environ if n.startswith("PREBOARDING_")]:
        monkeypatch.delenv(name)
    secrets = {**decoded(one(docs, "Secret", f"{FULL}-store")), **decoded(one(docs, "Secret", f"{FULL}-bridge"))}

    with monkeypatch.context() as m:
        for key, value in {**one(docs, "ConfigMap", f"{FULL}-operator")["data"], **secrets}.items():
            m.setenv(key, value)
        operator = operator_settings.OperatorSettings()
    assert operator.renderer_image == "registry.example.com/preboarding/renderer:0.1.0-test"
    assert operator.renderer_service_account == f"{FULL}-renderer"
    assert operator.renderer_config_map == operator.renderer_secret == f"{FULL}-renderer"
    assert operator.resources.cpu_request == "250m" and operator.resources.memory_limit == "1Gi"
    assert operator.store.endpoint == f"{FULL}-minio.pb.svc:9000"
    assert operator.store.access_key.get_secret_value() == "AKIA-S3-ACCESS-0001"

    with monkeypatch.context() as m:
        for key, value in {**one(docs, "ConfigMap", f"{FULL}-bridge")["data"], **secrets}.items():
            m.setenv(key, value)
        bridge = bridge_settings.BridgeSettings()
    assert bridge.namespace == "team-a"
    assert bridge.cors_origins == ["https://hr.example.com"]
    assert bridge.tokens() == ["bearer-token-secret-0008"]
    assert str(bridge.public_url) == "https://onboarding.example.com/"


# --- RBAC ---------------------------------------------------------------------------------------------


def test_rbac_verbs_are_exactly_as_designed(helm: str) -> None:
    docs = render(helm)
    assert rules_of(one(docs, "Role", f"{FULL}-operator")) == OPERATOR_RULES
    assert rules_of(one(docs, "Role", f"{FULL}-bridge")) == BRIDGE_RULES
    assert {r["metadata"]["name"] for r in find(docs, "Role")} == {f"{FULL}-operator", f"{FULL}-bridge"}
    (cluster_role,) = find(docs, "ClusterRole")
    assert rules_of(cluster_role) == OPERATOR_CLUSTER_RULES
    (cluster_binding,) = find(docs, "ClusterRoleBinding")
    assert cluster_binding["roleRef"]["name"] == cluster_role["metadata"]["name"] == f"{FULL}-operator-{NAMESPACE}"
    assert cluster_binding["subjects"] == [{"kind": "ServiceAccount", "name": f"{FULL}-operator",
                                            "namespace": NAMESPACE}]
    without = render(helm, {"operator": {"rbac": {"clusterObservation": False}}})
    assert not find(without, "ClusterRole") and not find(without, "ClusterRoleBinding")
    for name, account in ((f"{FULL}-operator", f"{FULL}-operator"), (f"{FULL}-bridge", f"{FULL}-bridge")):
        binding = one(docs, "RoleBinding", name)
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}]


def test_the_bridge_reads_only_the_secrets_its_sources_name(helm: str) -> None:
    docs = render(helm, {"bridge": {"sources": {"items": SOURCES, "secretNames": ["by-hand"]}}})
    role = one(docs, "Role", f"{FULL}-bridge")
    [secrets] = [r for r in role["rules"] if r["resources"] == ["secrets"]]
    assert (secrets["verbs"], secrets["resourceNames"]) == (["get"], ["by-hand", "hr-api-tokens", "hr-webhooks"])
    assert not [r for r in one(render(helm), "Role", f"{FULL}-bridge")["rules"] if r["resources"] == ["secrets"]]
    off = one(render(helm, {"bridge": {"sources": {"enabled": False, "items": SOURCES}, "watch": {"enabled": False}}}),
              "Role", f"{FULL}-bridge")
    assert rules_of(off) == {("preboarding.dev", "onboardingvideos", ("create", "delete", "get", "list", "patch"))}


def test_sources_and_profiles_from_values_are_hooks_after_their_crds(helm: str) -> None:
    profile = {"name": "northwind", "company": {"name": "Northwind"}, "teams": [{"techStack": ["Go"]}]}
    docs = render(helm, {"bridge": {"sources": {"items": SOURCES}, "profiles": [profile]}})
    source = one(docs, "OnboardingSource", "lever")
    assert source["spec"] == {k: v for k, v in SOURCES[1].items() if k != "name"}
    assert source["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert one(docs, "OnboardingProfile", "northwind")["spec"] == {"company": {"name": "Northwind"},
                                                                   "teams": [{"techStack": ["Go"]}]}
    config = one(docs, "ConfigMap", f"{FULL}-bridge")["data"]
    assert (config["PREBOARDING_SOURCES_ENABLED"], config["PREBOARDING_SOURCE_REFRESH_SECONDS"]) == ("true", "30")


def test_notes_print_each_sources_url(helm: str) -> None:
    notes = render_notes(helm, {"bridge": {"sources": {"items": SOURCES}}})
    assert "$BRIDGE/webhooks/sources/greenhouse" in notes and "$BRIDGE/webhooks/sources/lever" in notes
    assert "get obs" in notes


def test_rbac_follows_the_watched_namespaces(helm: str) -> None:
    docs = render(helm, files=(FULL_VALUES,))
    roles = find(docs, "Role", f"{FULL}-operator")
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["pb", "team-a"]
    assert all(rules_of(r) == OPERATOR_RULES for r in roles)
    bridge = find(docs, "Role", f"{FULL}-bridge")
    assert [r["metadata"]["namespace"] for r in bridge] == ["team-a"]
    assert rules_of(bridge[0]) == BRIDGE_RULES
    assert one(docs, "RoleBinding", f"{FULL}-bridge", "team-a")["subjects"][0]["namespace"] == NAMESPACE
    (cluster_role,) = find(docs, "ClusterRole")
    assert rules_of(cluster_role) == OPERATOR_CLUSTER_RULES
    (cluster_binding,) = find(docs, "ClusterRoleBinding")
    assert cluster_binding["subjects"] == [{"kind": "ServiceAccount", "name": f"{FULL}-operator",
                                            "namespace": NAMESPACE}]
    args = one(docs, "Deployment", f"{FULL}-operator")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert [a for a in args if a.startswith("--namespace")] == ["--namespace=pb", "--namespace=team-a"]
    for kind, name in (("ServiceAccount", f"{FULL}-renderer"), ("ConfigMap", f"{FULL}-renderer"),
                       ("Secret", f"{FULL}-renderer"), ("KopfPeering", "preboarding")):
        assert sorted(d["metadata"]["namespace"] for d in find(docs, kind, name)) == ["pb", "team-a"], kind


@pytest.mark.parametrize("files", [(), (FULL_VALUES,)], ids=["default", "full"])
def test_renderer_service_account_has_no_bindings_and_no_token(helm: str, files: tuple[Path, ...]) -> None:
    docs = render(helm, files=files)
    accounts = find(docs, "ServiceAccount", f"{FULL}-renderer")
    assert accounts and all(a["automountServiceAccountToken"] is False for a in accounts)
    for binding in find(docs, "RoleBinding") + find(docs, "ClusterRoleBinding"):
        assert all(s["name"] != f"{FULL}-renderer" for s in binding["subjects"])


# --- pods ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("files", [(), (FULL_VALUES,), (TESTGROUND_VALUES,)], ids=["default", "full", "testground"])
def test_every_container_is_locked_down_and_sized(helm: str, files: tuple[Path, ...]) -> None:
    specs = list(pod_specs(render(helm, files=files)))
    assert specs
    for where, spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 10001, where
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            resources = container["resources"]
            assert resources["requests"]["cpu"] and resources["requests"]["memory"], where
            assert resources["limits"]["memory"], where


def test_probes_target_the_health_routes(helm: str) -> None:
    docs = render(helm)
    operator = one(docs, "Deployment", f"{FULL}-operator")["spec"]["template"]["spec"]["containers"][0]
    assert operator["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "liveness"}
    assert "--liveness=http://0.0.0.0:8081/healthz" in operator["args"]
    assert {"name": "liveness", "containerPort": 8081, "protocol": "TCP"} in operator["ports"]
    bridge = one(docs, "Deployment", f"{FULL}-bridge")["spec"]["template"]["spec"]["containers"][0]
    assert bridge["livenessProbe"]["httpGet"] == {"path": "/", "port": "http"}
    assert bridge["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert bridge["args"][:3] == ["bridge", "--host=0.0.0.0", "--port=8080"]


def test_host_network_option(helm: str) -> None:
    default = render(helm)
    for where, spec in pod_specs(default):
        assert "hostNetwork" not in spec and "dnsPolicy" not in spec, where
    assert one(default, "ConfigMap", f"{FULL}-operator")["data"]["PREBOARDING_RENDERER_HOST_NETWORK"] == "false"

    docs = render(helm, {"network": {"hostNetwork": True, "listenHost": "127.0.0.1",
                                     "kubernetesServiceHost": "127.0.0.1", "kubernetesServicePort": 16443}})
    specs = list(pod_specs(docs))
    assert len(specs) == 5  # operator, bridge, MinIO and its bucket Job, the `helm test` pod
    for where, spec in specs:
        assert spec["hostNetwork"] is True and spec["dnsPolicy"] == "ClusterFirstWithHostNet", where
        for container in spec["containers"]:
            for probe in ("livenessProbe", "readinessProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["host"] == "127.0.0.1", where
    assert one(docs, "ConfigMap", f"{FULL}-operator")["data"]["PREBOARDING_RENDERER_HOST_NETWORK"] == "true"
    # With no cluster DNS the components reach the bundled MinIO on the node's loopback.
    assert one(docs, "ConfigMap", f"{FULL}-bridge")["data"]["PREBOARDING_S3_ENDPOINT"] == "127.0.0.1:9000"
    for name in (f"{FULL}-operator", f"{FULL}-bridge"):
        container = one(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        env = env_of(container)
        assert env["KUBERNETES_SERVICE_HOST"] == "127.0.0.1" and env["KUBERNETES_SERVICE_PORT"] == "16443", name
        assert any(a.endswith("=127.0.0.1") or "//127.0.0.1:" in a for a in container["args"]), name


def test_test_ground_values_render_a_loopback_install(helm: str) -> None:
    docs = render(helm, {"network": {"kubernetesServicePort": 6443}}, files=(TESTGROUND_VALUES,))
    assert not find(docs, "Deployment", f"{FULL}-minio") and not find(docs, "PodDisruptionBudget")
    for _, spec in pod_specs(docs):
        assert spec["hostNetwork"] is True
        assert all(c["imagePullPolicy"] == "Never" for c in spec["containers"])
    renderer = one(docs, "ConfigMap", f"{FULL}-renderer")["data"]
    assert renderer["PREBOARDING_S3_ENDPOINT"] == "127.0.0.1:9000"
    assert (renderer["PREBOARDING_SCRIPT_PROVIDER"], renderer["PREBOARDING_TTS_PROVIDER"],
            renderer["PREBOARDING_MAIL_PROVIDER"]) == ("template", "flite", "smtp")
    assert one(docs, "ConfigMap", f"{FULL}-operator")["data"]["PREBOARDING_IMAGE_PULL_POLICY"] == "Never"


def test_pods_roll_when_their_config_changes(helm: str) -> None:
    def checksums(values: dict[str, Any]) -> dict[str, dict[str, str]]:
        docs = render(helm, {"s3": {"accessKey": "fixed-access", "secretKey": "fixed-secret-key"},
                             "bridge": {"webhook": {"secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]}}, **values})
        return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"]
                for d in find(docs, "Deployment")}

    base = checksums({})
    assert base == checksums({}), "renders with the same values must not roll pods"
    changed = checksums({"renderer": {"jobs": {"backoffLimit": 5}}})
    assert changed[f"{FULL}-operator"]["checksum/config"] != base[f"{FULL}-operator"]["checksum/config"]
    assert changed[f"{FULL}-bridge"] == base[f"{FULL}-bridge"]
    changed = checksums({"bridge": {"rateLimitPerMinute": 10}})
    assert changed[f"{FULL}-bridge"]["checksum/config"] != base[f"{FULL}-bridge"]["checksum/config"]


def test_bridge_disruption_budget_only_with_several_replicas(helm: str) -> None:
    assert one(render(helm), "PodDisruptionBudget", f"{FULL}-bridge")["spec"]["minAvailable"] == 1
    assert not find(render(helm, {"bridge": {"replicas": 1}}), "PodDisruptionBudget")
    assert not find(render(helm, {"bridge": {"enabled": False}}), "Deployment", f"{FULL}-bridge")


# --- CRDs and peering ---------------------------------------------------------------------------------


def test_crds_match_the_repository_copies_and_are_kept(helm: str) -> None:
    docs = render(helm)
    files = sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))
    assert "onboardingsources.preboarding.dev.yaml" in files and "onboardingprofiles.preboarding.dev.yaml" in files
    for file in files:
        source = yaml.safe_load((ROOT / "crds" / file).read_text())
        chart_copy = (CHART / "files" / "crds" / file).read_text()
        assert chart_copy == (ROOT / "crds" / file).read_text(), f"charts/preboarding/files/crds/{file} is stale"
        crd = one(docs, "CustomResourceDefinition", source["metadata"]["name"], namespace=None)  # type: ignore[arg-type]
        assert crd["spec"] == source["spec"]
        assert crd["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    peering = one(docs, "CustomResourceDefinition", "kopfpeerings.kopf.dev", namespace=None)  # type: ignore[arg-type]
    assert peering["spec"]["scope"] == "Namespaced" and peering["spec"]["group"] == "kopf.dev"
    assert peering["spec"]["names"]["kind"] == "KopfPeering"
    assert peering["spec"]["names"]["plural"] == "kopfpeerings"


def test_crds_install_false_drops_them_and_keep_false_drops_the_policy(helm: str) -> None:
    assert not find(render(helm, {"crds": {"install": False}}), "CustomResourceDefinition")
    for crd in find(render(helm, {"crds": {"keep": False}}), "CustomResourceDefinition"):
        assert "helm.sh/resource-policy" not in (crd["metadata"].get("annotations") or {})


def test_peering_object_and_operator_arguments(helm: str) -> None:
    docs = render(helm)
    peering = one(docs, "KopfPeering", "preboarding")
    assert peering["apiVersion"] == "kopf.dev/v1"
    assert peering["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    args = one(docs, "Deployment", f"{FULL}-operator")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[0] == "operator" and "--peering=preboarding" in args and "--namespace=pb" in args
    assert not any(a.startswith("--priority") for a in args)

    standalone = render(helm, {"operator": {"peering": {"enabled": False}}})
    assert not find(standalone, "KopfPeering")
    args = one(standalone, "Deployment", f"{FULL}-operator")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--standalone" in args and not any(a.startswith("--peering") for a in args)
    full = one(render(helm, files=(FULL_VALUES,)), "Deployment", f"{FULL}-operator")
    assert "--priority=100" in full["spec"]["template"]["spec"]["containers"][0]["args"]


# --- labels -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("files", [(), (FULL_VALUES,)], ids=["default", "full"])
def test_standard_labels_on_every_object_and_pod(helm: str, files: tuple[Path, ...]) -> None:
    docs = render(helm, files=files)
    for doc in docs:
        labels = doc["metadata"].get("labels") or {}
        missing = [key for key in STANDARD_LABELS if key not in labels]
        assert not missing, f"{doc['kind']}/{doc['metadata']['name']} lacks {missing}"
        assert labels["app.kubernetes.io/name"] == "preboarding"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/part-of"] == "preboarding"
        if doc["kind"] in WORKLOAD_KINDS:
            pod_labels = doc["spec"]["template"]["metadata"]["labels"]
            assert all(key in pod_labels for key in STANDARD_LABELS), doc["metadata"]["name"]
            selector = doc["spec"].get("selector", {}).get("matchLabels")
            if selector:
                assert selector.items() <= pod_labels.items()
                assert "app.kubernetes.io/version" not in selector, "a selector must not change on upgrade"



def render_notes(helm: str, values: dict[str, Any] | None = None) -> str:
    """NOTES.txt as `helm install` would print it (helm template never renders NOTES, so a copy of the chart
    gets one more template that puts the notes in a ConfigMap)."""
    with tempfile.TemporaryDirectory() as tmp:
        chart = Path(tmp) / "preboarding"
        shutil.copytree(CHART, chart)
        (chart / "templates" / "zz-notes.yaml").write_text(
            'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n'
            'data:\n  notes: {{ include "preboarding.notes" . | quote }}\n')
        result = _run_helm(helm, "template", RELEASE, str(chart), "--namespace", NAMESPACE,
                           "--show-only", "templates/zz-notes.yaml", values=values)
    assert result.returncode == 0, result.stderr
    return str(yaml.safe_load(result.stdout)["data"]["notes"])


def test_notes_show_a_signed_webhook_that_the_bridge_accepts(helm: str) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    notes = render_notes(helm, {"bridge": {"webhook": {"secrets": [secret]}}})
    assert f"kubectl -n {NAMESPACE} port-forward svc/{FULL}-bridge 8080:80" in notes
    assert "kubectl -n pb get ov -w" in notes
    start = notes.index("KEY=$(")
    recipe = "\n".join(line.strip() for line in notes[start:notes.index("curl -s $BRIDGE/webhooks")].splitlines())
    body = (ROOT / "examples" / "new-hire.json").read_text()
    script = f"set -eu\nSECRET={secret}\ncd {ROOT}\n{recipe}\nprintf '%s\\n%s\\n%s' \"$ID\" \"$TS\" \"$SIG\"\n"
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    webhook_id, timestamp, signature = result.stdout.split("\n")
    signatures = pytest.importorskip("preboarding.bridge.signatures")
    key = signatures.parse_secret(secret)
    assert f"v1,{signature}" == signatures.sign(key, webhook_id, int(timestamp), body.rstrip("\n").encode())


def test_notes_follow_the_install(helm: str) -> None:
    generated = render_notes(helm)
    assert "one was generated" in generated and f"get secret {FULL}-bridge" in generated
    host = render_notes(helm, {"network": {"hostNetwork": True, "listenHost": "127.0.0.1"}})
    assert "BRIDGE=http://127.0.0.1:8080" in host and "port-forward" not in host
    existing = render_notes(helm, {"bridge": {"webhook": {"existingSecret": "hr-webhook"}}})
    assert "get secret hr-webhook" in existing and "one was generated" not in existing
    assert "kept on `helm uninstall`" in generated

# --- values documentation -------------------------------------------------------------------------------


def test_every_value_is_documented() -> None:
    """Each key in values.yaml has a `# --` comment above it, or sits in a value so documented (a Kubernetes
    object such as resources); section comments (without `--`) do not document what they enclose."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    stack: list[tuple[int, bool]] = []  # (indent, documents its children) of the enclosing keys
    undocumented = []
    for number, line in enumerate(lines):
        stripped = line.lstrip(" -")
        if not stripped or stripped.startswith("#") or ":" not in stripped:
            continue
        indent = len(line) - len(stripped)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        block = []
        for above in reversed(lines[:number]):
            if not above.strip().startswith("#"):
                break
            block.insert(0, above.strip())
        value_doc = bool(block) and block[0].startswith("# --")
        documented = value_doc or line.lstrip().startswith("- ") or any(d for _, d in stack)
        following = next((x for x in lines[number + 1:] if x.strip() and not x.strip().startswith("#")), "")
        is_parent = stripped.split(":", 1)[1].strip() == "" and len(following) - len(following.lstrip()) > indent
        if not documented and not is_parent:
            undocumented.append(f"line {number + 1}: {line.strip()}")
        stack.append((indent, documented))
    assert not undocumented, "undocumented values:\n" + "\n".join(undocumented)


# --- helm test -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "files", "url"), [
    ({}, (), f"http://{FULL}-bridge.{NAMESPACE}.svc:80"),
    ({"bridge": {"service": {"port": 8000}}}, (), f"http://{FULL}-bridge.{NAMESPACE}.svc:8000"),
    ({"network": {"kubernetesServicePort": 6443}}, (TESTGROUND_VALUES,), "http://127.0.0.1:18080"),
], ids=["service", "service-port", "host-network"])
def test_helm_test_pod_checks_the_bridge_where_it_is_reachable(helm: str, values: dict[str, Any],
                                                               files: tuple[Path, ...], url: str) -> None:
    docs = render(helm, values, files=files)
    [pod] = find(docs, "Pod")
    annotations = pod["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "test"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never" and spec["automountServiceAccountToken"] is False
    [container] = spec["containers"]
    assert container["image"] == one(docs, "Deployment", f"{FULL}-bridge")["spec"]["template"]["spec"][
        "containers"][0]["image"]
    assert container["args"][-1] == url
    script = container["args"][0]
    assert '"/health"' in script and '"/webhooks/user-onboarding"' in script and "status == 401" in script
    compile(script, "smoke", "exec")  # the script is valid Python


def test_no_helm_test_pod_without_the_bridge(helm: str) -> None:
    assert not find(render(helm, {"bridge": {"enabled": False}}), "Pod")
