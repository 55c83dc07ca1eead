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
from preboarding.api.delivery import send_time
from preboarding.api.inputs import input_document
from preboarding.api.layout import INPUT_KEY, record_key, video_prefix
from preboarding.api.models import DeliveryStatus, OnboardingVideoSpec, OnboardingVideoStatus
from preboarding.api.records import StageRecord
from preboarding.api.stages import Stage
from preboarding.operator import metrics
from preboarding.operator.jobs import JobObservation, build_alert_job, build_stage_job
from preboarding.operator.kube import ClusterApi
from preboarding.operator.plan import EventKind, StageEvent, VideoRef, plan_video
from preboarding.operator.settings import OperatorSettings
from preboarding.storage import Store, StoreError

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
        self.wakeups = WakeUps()

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
            annotations = meta.get("annotations") or {}
            retry, resend = annotations.get(api.ANNOTATION_RETRY), annotations.get(api.ANNOTATION_RESEND)
            due = send_time(spec.delivery, spec.employee.start_date, default_days=self.settings.days_before_start,
                            time_of_day=self.settings.send_time_utc)
            async with self._namespace_locks[namespace]:
                free = self.settings.max_running_jobs_per_namespace - self._active(namespace, active(namespace))
                plan = plan_video(video, spec, status, list(jobs(namespace, name)), free_slots=max(0, free),
                                  retry_token=retry, now=dt.datetime.now(dt.UTC).replace(microsecond=0),
                                  send_at=due, resend_token=resend,
                                  min_email_interval=dt.timedelta(seconds=self.settings.min_email_interval_seconds),
                                  alerts=self.settings.failure_alerts or spec.delivery.hr_contact is not None)
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
                for alert in plan.alerts:  # no slot needed: a mail, not a render
                    manifest = build_alert_job(namespace=namespace, video=name, uid=video.uid, key=alert.key,
                                               about=alert.about, reason=alert.reason, fix=alert.fix,
                                               settings=self.settings)
                    self.kube.adopt(manifest, body)
                    await self.kube.create_job(namespace, manifest)
                    logger.info("failure of %s: alert Job %s", alert.about, manifest["metadata"]["name"])
            # Status goes through the API here, not kopf's ``patch``: four handlers reconcile a video (its own
            # events, its Jobs' events, the resync timer, wake-ups after a Job finishes), serialized by this
            # video's lock, each recomputing the plan from the observed Jobs. For Job events and wake-ups
            # kopf's ``patch`` is the Job's, not the video's; and kopf applies a ``patch`` only after the
            # handler returns, outside the lock, where it could land after a newer plan's write. One merge
            # patch of the whole status, written under the lock from the plan just made, keeps it consistent.
            if plan.status.delivery is not None and plan.status.delivery.state == "Sent" and (
                    status.delivery is None or plan.status.delivery.sends != status.delivery.sends):
                plan.status.delivery.message_id = await asyncio.to_thread(self._sent_message_id, video)
            new_status = _status_patch(plan.status, status)
            if new_status != _status_patch(status, status):
                await self.kube.patch_video_status(namespace, name, new_status)
            self.wakeups.set(namespace, name, plan.wake_at)
            for event in plan.events:
                self.kube.post_event(body, event.type, event.reason, event.message)
                _record_stage_metrics(event)
            metrics.record_phase(namespace, name, plan.status.phase)
            metrics.RECONCILES.labels(outcome="ok").inc()
            return plan.status.phase

    def _sent_message_id(self, video: VideoRef) -> str | None:
        """The message id the notify stage recorded (SMTP's Message-ID, SendGrid's X-Message-Id), if readable."""
        key = video_prefix(video.namespace, video.name, video.uid) + record_key(Stage.NOTIFY)
        try:
            record = StageRecord.model_validate_json(self.store.get_bytes(key))
        except (StoreError, ValidationError):
            return None
        found = record.usage.get("messageId") if isinstance(record.usage, dict) else None
        return str(found)[:998] if found else None

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
        await self.kube.patch_video_status(meta["namespace"], meta["name"], _status_patch(status, status))
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


# The fields of ``status.delivery`` the operator writes; the bridge writes the others (views) and may advance
# the state (Opened, Delivered, Bounced), so the operator patches only the fields its plan changed.
_OPERATOR_DELIVERY_FIELDS = ("state", "scheduled_at", "sent_at", "message_id", "sends")


def _status_patch(status: OnboardingVideoStatus, before: OnboardingVideoStatus) -> dict[str, Any]:
    """A merge patch of the whole status: unset top-level fields become null so they are removed.

    Of ``delivery`` only the operator's fields that differ from ``before`` (what was read), so a view or a
    mail event the bridge wrote meanwhile is never overwritten.
    """
    data = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    for field_name, info in OnboardingVideoStatus.model_fields.items():
        data.setdefault(info.alias or field_name, None)
    data.pop("delivery", None)
    new, old = status.delivery or DeliveryStatus(), before.delivery or DeliveryStatus()
    changed = {f for f in _OPERATOR_DELIVERY_FIELDS if getattr(new, f) != getattr(old, f)}
    if changed:  # a null removes the field (merge patch)
        data["delivery"] = new.model_dump(mode="json", by_alias=True, include=changed)
    return data


class WakeUps:
    """When each held email is due, for the ``scheduled_email`` daemon to sleep until (and wake when it moves).

    In memory: a restarted operator reconciles every video at start-up (kopf's resume), which fills it again.
    """

    def __init__(self) -> None:
        self._due: dict[tuple[str, str], dt.datetime] = {}
        self._moved: dict[tuple[str, str], asyncio.Event] = {}

    def set(self, namespace: str, name: str, at: dt.datetime | None) -> None:
        key = (namespace, name)
        if self._due.get(key) == at:
            return
        if at is None:
            self._due.pop(key, None)
        else:
            self._due[key] = at
        self._moved.pop(key, asyncio.Event()).set()

    def due(self, namespace: str, name: str) -> dt.datetime | None:
        return self._due.get((namespace, name))

    def moved(self, namespace: str, name: str) -> asyncio.Event:
        """An event set the next time this video's due time changes (or is cleared)."""
        return self._moved.setdefault((namespace, name), asyncio.Event())
