from __future__ import annotations

from typing import Any

from preboarding.api.stages import EXIT_INVALID_INPUT, EXIT_PERMANENT, Stage
from preboarding.operator.cli import default_priority
from preboarding.operator.jobs import build_stage_job, job_name, observe_job
from preboarding.operator.settings import OperatorSettings, SecretKeyRef


def job(**settings: Any) -> dict[str, Any]:
    return build_stage_job(namespace="hr", video="welcome-priya", uid="uid-1", stage=Stage.AUDIO,
                           inputs_hash="abc", run=1, settings=OperatorSettings(**settings))


def container(manifest: dict[str, Any]) -> dict[str, Any]:
    c: dict[str, Any] = manifest["spec"]["template"]["spec"]["containers"][0]
    return c


def test_job_runs_the_stage_locked_down() -> None:
    manifest = job()
    pod = manifest["spec"]["template"]["spec"]
    c = container(manifest)
    assert c["args"] == ["stage", "audio", "--video", "hr/welcome-priya", "--uid", "uid-1", "--run", "1"]
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    rules = manifest["spec"]["podFailurePolicy"]["rules"]
    assert rules[0]["onExitCodes"]["values"] == [EXIT_INVALID_INPUT, EXIT_PERMANENT]
    assert "hostNetwork" not in pod


def test_names_are_deterministic_and_short() -> None:
    a = job_name("x" * 80, "uid", Stage.COMPOSE, "h", 1)
    assert a == job_name("x" * 80, "uid", Stage.COMPOSE, "h", 1) and len(a) <= 63
    assert a != job_name("x" * 80, "uid", Stage.COMPOSE, "h", 2)


def test_secret_refs_become_secret_key_refs_not_values() -> None:
    c = container(job(renderer_secret_refs={"OPENAI_API_KEY": SecretKeyRef(name="openai", key="api-key")}))
    [ref] = [e for e in c["env"] if e["name"] == "OPENAI_API_KEY"]
    assert ref == {"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": {"name": "openai", "key": "api-key"}}}


def test_google_credentials_are_mounted_read_only_as_a_file() -> None:
    manifest = job(renderer_google_credentials_secret=SecretKeyRef(name="google", key="sa.json"))
    pod, c = manifest["spec"]["template"]["spec"], container(manifest)
    [volume] = [v for v in pod["volumes"] if v["name"] == "google-credentials"]
    assert volume["secret"] == {"secretName": "google", "items": [{"key": "sa.json", "path": "credentials.json"}]}
    [mount] = [m for m in c["volumeMounts"] if m["name"] == "google-credentials"]
    assert mount["readOnly"] is True
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["GOOGLE_APPLICATION_CREDENTIALS"] == f"{mount['mountPath']}/credentials.json"


def test_settings_parse_the_charts_json(monkeypatch: Any) -> None:
    monkeypatch.setenv("PREBOARDING_RENDERER_SECRET_REFS", '{"SENDGRID_API_KEY": {"name": "sg", "key": "k"}}')
    monkeypatch.setenv("PREBOARDING_RENDERER_GOOGLE_CREDENTIALS_SECRET", '{"name": "g", "key": "key.json"}')
    s = OperatorSettings()
    assert s.renderer_secret_refs["SENDGRID_API_KEY"].name == "sg"
    assert s.renderer_google_credentials_secret == SecretKeyRef(name="g", key="key.json")


def test_host_network_for_the_loopback_test_node() -> None:
    pod = job(renderer_host_network=True)["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and pod["dnsPolicy"] == "ClusterFirstWithHostNet"


def test_replicas_get_distinct_default_priorities() -> None:
    a, b = default_priority("preboarding-operator-7d9f-abcde"), default_priority("preboarding-operator-7d9f-fghij")
    assert a != b and a > 0 and b > 0
    assert a == default_priority("preboarding-operator-7d9f-abcde")


def test_observe_a_permanently_failed_job() -> None:
    manifest = job()
    manifest["status"] = {"failed": 1, "conditions": [
        {"type": "Failed", "status": "True", "reason": "PodFailurePolicy", "message": "exit 3",
         "lastTransitionTime": "2026-11-25T10:00:00Z"}]}
    seen = observe_job(manifest)
    assert seen is not None
    assert (seen.state, seen.permanent, seen.attempts, seen.stage, seen.run) == ("Failed", True, 1, Stage.AUDIO, 1)
