"""Carry out a plan for one video: observe, plan (pure), create Jobs, write status, post events."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from preboarding import api
from preboarding.api import fields
from preboarding.api.inputs import input_document
from preboarding.api.layout import INPUT_KEY, video_prefix
from preboarding.api.models import OnboardingVideoSpec, OnboardingVideoStatus
from preboarding.operator import metrics
from preboarding.operator.jobs import JobObservation, build_stage_job
from preboarding.operator.kube import ClusterApi
from preboarding.operator.plan import EventKind, StageEvent, VideoRef, plan_video
from preboarding.operator.settings import OperatorSettings
from preboarding.storage import Store

JobsLookup = Callable[[str, str], Iterable[JobObservation]]
ActiveLookup = Callable[[str], set[str]]

_SEEN_GRACE_SECONDS = 120


class Reconciler:
    """Serializes reconciles per video and keeps Job slots per namespace honest."""

    def __init__(self, settings: OperatorSettings, kube: ClusterApi, store: Store) -> None:
        self.settings = settings
        self.kube = kube
        self.store = store
        self._video_locks: dict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._namespace_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Jobs created but not yet seen by the watch, so they count against the cap meanwhile.
        self._created: dict[str, dict[str, float]] = defaultdict(dict)
        self._service_accounts: set[str] = set()

    def _active(self, namespace: str, seen_active: set[str]) -> int:
        now = time.monotonic()
        created = self._created[namespace]
        for name, at in list(created.items()):
            if name in seen_active or now - at > _SEEN_GRACE_SECONDS:
                created.pop(name, None)
        return len(seen_active | set(created))

    def forget_created(self, namespace: str, name: str) -> None:
        self._created[namespace].pop(name, None)

    async def reconcile(self, namespace: str, name: str, *, jobs: JobsLookup, active: ActiveLookup,
                        logger: logging.Logger | logging.LoggerAdapter[Any]) -> str | None:
        """Reconcile one video; returns its phase (None if it is gone or being deleted)."""
        async with self._video_locks[(namespace, name)]:
            body = await self.kube.get_video(namespace, name)
            if body is None or body["metadata"].get("deletionTimestamp"):
                metrics.record_phase(namespace, name, None)
                return None
            meta = body["metadata"]
            video = VideoRef(namespace, name, meta["uid"], int(meta.get("generation", 1)))
            status = _parse_status(body.get("status"), logger)
            try:
                spec = OnboardingVideoSpec.model_validate(body.get("spec") or {})
            except ValidationError as exc:
                await self._invalid_spec(body, status, exc)
                return "Failed"
            retry = (meta.get("annotations") or {}).get(api.ANNOTATION_RETRY)
            async with self._namespace_locks[namespace]:
                free = self.settings.max_running_jobs_per_namespace - self._active(namespace, active(namespace))
                plan = plan_video(video, spec, status, list(jobs(namespace, name)), free_slots=max(0, free),
                                  retry_token=retry, now=dt.datetime.now(dt.UTC).replace(microsecond=0))
                if plan.create:
                    await asyncio.to_thread(self._write_input, video, body)
                    if namespace not in self._service_accounts:
                        await self.kube.ensure_service_account(namespace, self.settings.renderer_service_account)
                        self._service_accounts.add(namespace)
                for action in plan.create:
                    manifest = build_stage_job(namespace=namespace, video=name, uid=video.uid, stage=action.stage,
                                               inputs_hash=action.inputs_hash, run=action.run,
                                               settings=self.settings)
                    self.kube.adopt(manifest, body)
                    created = await self.kube.create_job(namespace, manifest)
                    self._created[namespace][action.name] = time.monotonic()
                    if created:
                        metrics.JOBS_CREATED.labels(stage=action.stage.value).inc()
                        if action.run > 1:
                            metrics.RETRIES.labels(stage=action.stage.value).inc()
                    logger.info("stage %s: Job %s %s", action.stage.value, action.name,
                                "created" if created else "already existed; adopted")
            # Status goes through the API here, not kopf's ``patch``: four handlers reconcile a video (its own
            # events, its Jobs' events, the resync timer, wake-ups after a Job finishes), serialized by this
            # video's lock, each recomputing the plan from the observed Jobs. For Job events and wake-ups
            # kopf's ``patch`` is the Job's, not the video's; and kopf applies a ``patch`` only after the
            # handler returns, outside the lock, where it could land after a newer plan's write. One merge
            # patch of the whole status, written under the lock from the plan just made, keeps it consistent.
            new_status = _status_patch(plan.status)
            if new_status != _status_patch(status):
                await self.kube.patch_video_status(namespace, name, new_status)
            for event in plan.events:
                self.kube.post_event(body, event.type, event.reason, event.message)
                _record_stage_metrics(event)
            metrics.record_phase(namespace, name, plan.status.phase)
            metrics.RECONCILES.labels(outcome="ok").inc()
            return plan.status.phase

    def _write_input(self, video: VideoRef, body: dict[str, Any]) -> None:
        """The renderer reads the spec from the store: its Jobs need no Kubernetes access at all."""
        document = input_document(body.get("spec") or {}, namespace=video.namespace, name=video.name,
                                  uid=video.uid, generation=video.generation)
        key = video_prefix(video.namespace, video.name, video.uid) + INPUT_KEY
        self.store.put_bytes(key, document, "application/json")

    async def _invalid_spec(self, body: dict[str, Any], status: OnboardingVideoStatus,
                            exc: ValidationError) -> None:
        message = f"Invalid spec: {fields.summary(exc, 'spec', limit=1)}"
        meta = body["metadata"]
        status.phase = "Failed"
        status.message = message
        await self.kube.patch_video_status(meta["namespace"], meta["name"], _status_patch(status))
        self.kube.post_event(body, "Warning", "InvalidSpec", message)


def _record_stage_metrics(event: StageEvent) -> None:
    if event.kind is EventKind.STAGE_FAILED and event.failure is not None:
        metrics.FAILURES.labels(stage=event.stage.value, reason=event.failure.value).inc()
    elif event.kind is EventKind.STAGE_SUCCEEDED and event.duration_seconds is not None:
        metrics.STAGE_SECONDS.labels(stage=event.stage.value).observe(event.duration_seconds)


def _parse_status(raw: dict[str, Any] | None, logger: Any) -> OnboardingVideoStatus:
    try:
        return OnboardingVideoStatus.model_validate(raw or {})
    except ValidationError:
        logger.warning("status did not parse; rebuilding it from the observed Jobs")
        return OnboardingVideoStatus()


def _status_patch(status: OnboardingVideoStatus) -> dict[str, Any]:
    """A merge patch of the whole status: unset top-level fields become null so they are removed.

    ``delivery`` is the bridge's (the watch page counts views there): left out, so never overwritten.
    """
    data = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    for field_name, info in OnboardingVideoStatus.model_fields.items():
        data.setdefault(info.alias or field_name, None)
    data.pop("delivery", None)
    return data
