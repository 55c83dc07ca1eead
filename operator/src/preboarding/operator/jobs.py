"""Stage -> Job manifest, and Job -> what we observed of it. Pure functions, no API calls."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from preboarding import api
from preboarding.api.labels import alert_job_labels, stage_job_labels
from preboarding.api.stages import EXIT_INVALID_INPUT, EXIT_PERMANENT, Stage
from preboarding.operator.settings import OperatorSettings

CONTAINER = "renderer"
GOOGLE_CREDENTIALS_DIR = "/var/run/secrets/google"
ANNOTATION_INPUTS_HASH = f"{api.GROUP}/inputs-hash"
ANNOTATION_RUN = f"{api.GROUP}/run"
ANNOTATION_ALERT_KEY = f"{api.GROUP}/alert-key"

JobState = Literal["Active", "Succeeded", "Failed"]


def job_name(video: str, uid: str, stage: Stage, inputs_hash: str, run: int) -> str:
    """Deterministic Job name, unique per (video incarnation, stage, inputs, run), at most 63 chars.

    Deterministic so that a restarted operator re-creating a Job gets 409 and adopts it instead of
    starting a duplicate; the digest changes when the inputs or the run change, so a spec change or a
    retry gets a fresh Job while older ones age out by TTL.
    """
    digest = hashlib.sha256(f"{uid}/{stage.value}/{inputs_hash}/{run}".encode()).hexdigest()[:8]
    suffix = f"-{stage.value}-{digest}"
    return f"{video[: 63 - len(suffix)].rstrip('-')}{suffix}"




def build_stage_job(
    *,
    namespace: str,
    video: str,
    uid: str,
    stage: Stage,
    inputs_hash: str,
    run: int,
    settings: OperatorSettings,
) -> dict[str, Any]:
    """The Job that runs ``preboarding stage <stage>`` for one video (the owner is set by the caller)."""
    return _renderer_job(
        name=job_name(video, uid, stage, inputs_hash, run), namespace=namespace, uid=uid,
        labels=stage_job_labels(video, stage),
        annotations={ANNOTATION_INPUTS_HASH: inputs_hash, ANNOTATION_RUN: str(run)},
        args=["stage", stage.value, "--video", f"{namespace}/{video}", "--uid", uid, "--run", str(run)],
        settings=settings)


def alert_job_name(video: str, uid: str, key: str) -> str:
    """Deterministic per failure (``Alert.key``): a restarted operator re-creating it gets 409, no second mail."""
    digest = hashlib.sha256(f"{uid}/alert/{key}".encode()).hexdigest()[:8]
    suffix = f"-alert-{digest}"
    return f"{video[: 63 - len(suffix)].rstrip('-')}{suffix}"


def build_alert_job(*, namespace: str, video: str, uid: str, key: str, about: str, reason: str, fix: str,
                    settings: OperatorSettings) -> dict[str, Any]:
    """The Job that runs ``preboarding alert``: mails the administrator and HR contact about one failure."""
    return _renderer_job(
        name=alert_job_name(video, uid, key), namespace=namespace, uid=uid, labels=alert_job_labels(video, about),
        annotations={ANNOTATION_ALERT_KEY: key},
        args=["alert", "--video", f"{namespace}/{video}", "--uid", uid, "--about", about,
              "--reason", reason[:2000], "--fix", fix],
        settings=settings)


def _renderer_job(*, name: str, namespace: str, uid: str, labels: dict[str, str], annotations: dict[str, str],
                  args: list[str], settings: OperatorSettings) -> dict[str, Any]:
    """A Job running the renderer image with ``args``: the settings, hardening and failure policy all share."""
    env = [
        {"name": "PREBOARDING_VIDEO_UID", "value": uid},
        {"name": "TMPDIR", "value": "/scratch"},
        {"name": "HOME", "value": "/scratch"},
        *({"name": k, "value": v} for k, v in sorted(settings.renderer_extra_env.items())),
        *({"name": k, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
          for k, ref in sorted(settings.renderer_secret_refs.items())),
    ]
    volumes: list[dict[str, Any]] = [{"name": "scratch", "emptyDir": {"sizeLimit": "2Gi"}}]
    mounts: list[dict[str, Any]] = [{"name": "scratch", "mountPath": "/scratch"}]
    google = settings.renderer_google_credentials_secret
    if google:
        volumes.append({"name": "google-credentials", "secret": {
            "secretName": google.name, "items": [{"key": google.key, "path": "credentials.json"}]}})
        mounts.append({"name": "google-credentials", "mountPath": GOOGLE_CREDENTIALS_DIR, "readOnly": True})
        env.append({"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": f"{GOOGLE_CREDENTIALS_DIR}/credentials.json"})
    env_from: list[dict[str, Any]] = []
    if settings.renderer_config_map:
        env_from.append({"configMapRef": {"name": settings.renderer_config_map}})
    if settings.renderer_secret:
        env_from.append({"secretRef": {"name": settings.renderer_secret}})
    r = settings.resources
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "serviceAccountName": settings.renderer_service_account,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": CONTAINER,
                "image": settings.renderer_image,
                "imagePullPolicy": settings.image_pull_policy,
                "args": args,
                "env": env,
                "envFrom": env_from,
                "resources": {
                    "requests": {"cpu": r.cpu_request, "memory": r.memory_request},
                    "limits": {"cpu": r.cpu_limit, "memory": r.memory_limit},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "volumeMounts": mounts,
            }
        ],
        "volumes": volumes,
    }
    if settings.renderer_host_network:
        pod_spec["hostNetwork"] = True
        pod_spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {
            # Retryable failures (exit 75, crashes, evictions) retry with the Job controller's
            # exponential backoff; invalid input and permanent errors fail the Job at once.
            "backoffLimit": settings.job_backoff_limit,
            "activeDeadlineSeconds": settings.job_active_deadline_seconds,
            "ttlSecondsAfterFinished": settings.job_ttl_seconds,
            "podFailurePolicy": {
                "rules": [
                    {
                        "action": "FailJob",
                        "onExitCodes": {
                            "containerName": CONTAINER,
                            "operator": "In",
                            "values": [EXIT_INVALID_INPUT, EXIT_PERMANENT],
                        },
                    },
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
                ]
            },
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


@dataclass(frozen=True)
class JobObservation:
    """What a stage Job tells us, reduced to what planning needs."""

    name: str
    stage: Stage
    inputs_hash: str
    run: int
    state: JobState
    permanent: bool
    attempts: int
    reason: str | None
    message: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def _parse_time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def observe_job(job: dict[str, Any]) -> JobObservation | None:
    """Reduce a Job object (as the apiserver returns it) to a JobObservation; None if not ours."""
    meta = job.get("metadata", {})
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    try:
        stage = Stage(labels.get(api.LABEL_STAGE, ""))
        run = int(annotations.get(ANNOTATION_RUN, "1"))
    except ValueError:
        return None
    status = job.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"}
    state: JobState = "Active"
    reason = message = None
    permanent = False
    finished = _parse_time(status.get("completionTime"))
    if "Complete" in conditions or "SuccessCriteriaMet" in conditions:
        state = "Succeeded"
    elif "Failed" in conditions or "FailureTarget" in conditions:
        cond = conditions.get("Failed") or conditions["FailureTarget"]
        state = "Failed"
        reason, message = cond.get("reason"), cond.get("message")
        permanent = reason == "PodFailurePolicy"
        finished = finished or _parse_time(cond.get("lastTransitionTime"))
    attempts = int(status.get("failed") or 0) + int(status.get("succeeded") or 0) + int(status.get("active") or 0)
    return JobObservation(
        name=meta.get("name", ""),
        stage=stage,
        inputs_hash=annotations.get(ANNOTATION_INPUTS_HASH, ""),
        run=run,
        state=state,
        permanent=permanent,
        attempts=attempts,
        reason=reason,
        message=message,
        started_at=_parse_time(status.get("startTime")),
        finished_at=finished,
    )
