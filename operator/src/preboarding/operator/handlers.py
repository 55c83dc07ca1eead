"""kopf registrations. Each handler is thin: it finds the video and hands it to the Reconciler.

Progress comes from watch events on our Jobs (label-selected), not from polling; a slow resync timer
covers videos waiting for capacity and anything a missed event left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kopf

from preboarding import api
from preboarding.api import labels
from preboarding.api.delivery import parse_iso
from preboarding.api.layout import video_prefix
from preboarding.operator.jobs import JobObservation, observe_job
from preboarding.operator.kube import KubeApi
from preboarding.operator.reconciler import Reconciler
from preboarding.operator.settings import OperatorSettings
from preboarding.storage import S3Store, Store, StoreError

OV = (api.GROUP, api.VERSION, api.PLURAL)
# Values are str or kopf.PRESENT; kopf does not export its label-filter value type.
JOB_LABELS: Mapping[str, Any] = {labels.MANAGED_BY: labels.OPERATOR, api.LABEL_STAGE: kopf.PRESENT}
RESYNC_SECONDS = 30.0
_CLEANUP_RETRY_SECONDS = 15
_WAKE_PER_FINISHED_JOB = 3
# A held email's daemon looks again at least this often (a clock jump, a missed change): no API call unless due.
_SCHEDULE_RECHECK_SECONDS = 3600.0
# The memo key under which ``preboarding operator`` hands its validated settings to ``kopf.run``.
MEMO_SETTINGS = "operator_settings"


@dataclass(frozen=True)
class Runtime:
    """What the handlers share, built once by the startup handler."""

    settings: OperatorSettings
    store: Store
    reconciler: Reconciler


_runtime: Runtime | None = None


def runtime() -> Runtime:
    """The operator's runtime; an error if kopf's startup handler (``configure``) has not run."""
    if _runtime is None:
        raise RuntimeError("the operator is not configured yet: kopf's startup handler `configure` has not run")
    return _runtime


def _owner_video(body: kopf.Body) -> str | None:
    for ref in body.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("kind") == api.KIND and ref.get("apiVersion", "").startswith(f"{api.GROUP}/"):
            return str(ref.get("name"))
    return None


def _namespaced(namespace: str | None) -> str:
    """Our videos and Jobs are namespaced; kopf types ``namespace`` as optional for cluster-scoped kinds."""
    if namespace is None:
        raise kopf.PermanentError("expected a namespaced object, got one without a namespace")
    return namespace


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """Set kopf up and build the runtime from the settings ``preboarding operator`` validated."""
    global _runtime
    config = memo.get(MEMO_SETTINGS)
    if not isinstance(config, OperatorSettings):
        # Settings are read and validated once, by the CLI, which reports a bad one without a traceback.
        raise kopf.PermanentError(f"start the operator with `preboarding operator` (no {MEMO_SETTINGS} in memo)")
    settings.persistence.finalizer = api.FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=api.GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=api.GROUP, key="last-handled-configuration"
    )
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    store = S3Store(config.store)
    _runtime = Runtime(settings=config, store=store, reconciler=Reconciler(config, KubeApi(), store))
    logger.info("configured: renderer image %s, %d Job slots per namespace",
                config.renderer_image, config.max_running_jobs_per_namespace)


@kopf.index("batch", "v1", "jobs", labels=JOB_LABELS)
def video_jobs(body: kopf.Body, namespace: str | None, **_: Any) -> dict[tuple[str, str], JobObservation] | None:
    """Our Jobs by (namespace, owning video), reduced to what planning needs."""
    owner = _owner_video(body)
    observation = observe_job(dict(body))
    if owner is None or observation is None:
        return None
    return {(_namespaced(namespace), owner): observation}


def _job_is_active(body: kopf.Body, **_: Any) -> bool:
    observation = observe_job(dict(body))
    return observation is not None and observation.state == "Active"


# Filters, not None results, take objects out of a kopf index: kopf keeps the last value otherwise.
@kopf.index("batch", "v1", "jobs", labels=JOB_LABELS, when=_job_is_active)
def active_jobs(namespace: str | None, name: str, **_: Any) -> dict[str, str]:
    """Names of our Jobs still running, by namespace (for the per-namespace cap)."""
    return {_namespaced(namespace): name}


@kopf.index(*OV, when=lambda status, **_: status.get("phase") == "Pending" and bool(status.get("stage")))
def waiting_videos(namespace: str | None, name: str, **_: Any) -> dict[str, str]:
    """Videos waiting for a Job slot, by namespace, to wake when a Job finishes."""
    return {_namespaced(namespace): name}


# Handlers below take indexes as keyword arguments (kopf passes them by name). kopf's callback protocols
# cannot express such extra required keywords, hence `type: ignore[arg-type]  # index kwargs` on those
# registrations only.
VideoJobs = kopf.Index[tuple[str, str], JobObservation]
NamesByNamespace = kopf.Index[str, str]


async def _reconcile(namespace: str, name: str, video_jobs: VideoJobs, active_jobs: NamesByNamespace,
                     logger: kopf.Logger) -> str | None:
    def jobs(ns: str, video: str) -> list[JobObservation]:
        return list(video_jobs.get((ns, video), []))

    def active(ns: str) -> set[str]:
        return set(active_jobs.get(ns, []))

    return await runtime().reconciler.reconcile(namespace, name, jobs=jobs, active=active, logger=logger)


@kopf.on.event(*OV)  # type: ignore[arg-type]  # index kwargs
async def video_changed(type: str, namespace: str | None, name: str, video_jobs: VideoJobs,
                        active_jobs: NamesByNamespace, logger: kopf.Logger, **_: Any) -> None:
    """Any change of a video (created, spec edited, retry annotated, resumed at start-up)."""
    if type == "DELETED":
        return
    await _reconcile(_namespaced(namespace), name, video_jobs, active_jobs, logger)


@kopf.on.event("batch", "v1", "jobs", labels=JOB_LABELS)  # type: ignore[arg-type]  # index kwargs
async def job_changed(body: kopf.Body, namespace: str | None, name: str, video_jobs: VideoJobs,
                      active_jobs: NamesByNamespace, waiting_videos: NamesByNamespace, logger: kopf.Logger,
                      **_: Any) -> None:
    """A stage Job started, progressed, finished or went away: move its video on."""
    owner = _owner_video(body)
    if owner is None:
        return
    namespace = _namespaced(namespace)
    await _reconcile(namespace, owner, video_jobs, active_jobs, logger)
    observation = observe_job(dict(body))
    if observation is not None and observation.state != "Active":
        runtime().reconciler.forget_created(namespace, name)
        # A slot is free: wake a few waiting videos now; the resync timer covers the rest.
        for waiting in sorted(set(waiting_videos.get(namespace, [])) - {owner})[:_WAKE_PER_FINISHED_JOB]:
            await _reconcile(namespace, waiting, video_jobs, active_jobs, logger)


def _email_scheduled(status: Mapping[str, Any], **_: Any) -> bool:
    """The notify stage waits for the email's send time (everything else is done)."""
    return any(isinstance(s, Mapping) and s.get("name") == "notify" and s.get("state") == "Scheduled"
               for s in status.get("stages") or [])


@kopf.timer(  # type: ignore[arg-type]  # index kwargs
    *OV, interval=RESYNC_SECONDS, initial_delay=RESYNC_SECONDS, idle=RESYNC_SECONDS,
    when=lambda status, **kw: status.get("phase") not in ("Succeeded", "Failed") and not _email_scheduled(status),
)
async def resync(namespace: str | None, name: str, video_jobs: VideoJobs, active_jobs: NamesByNamespace,
                 logger: kopf.Logger, **_: Any) -> None:
    """Safety net for unfinished videos: capacity freed elsewhere, or an event that was missed."""
    await _reconcile(_namespaced(namespace), name, video_jobs, active_jobs, logger)


@kopf.daemon(*OV, when=_email_scheduled, cancellation_timeout=1.0)  # type: ignore[arg-type]  # index kwargs
async def scheduled_email(namespace: str | None, name: str, body: kopf.Body, stopped: kopf.DaemonStopped,
                          video_jobs: VideoJobs, active_jobs: NamesByNamespace, logger: kopf.Logger,
                          **_: Any) -> None:
    """A video whose email is held: sleep until it is due, then reconcile (which creates the notify Job).

    One sleeping task per held video, no API traffic while it waits. A moved send time (HR moved the start
    date, someone set sendAt) wakes it early through ``WakeUps``; kopf stops it once the email is no longer
    Scheduled, and starts it again for every held video after an operator restart.
    """
    namespace = _namespaced(namespace)
    wakeups = runtime().reconciler.wakeups
    while not stopped:
        moved = wakeups.moved(namespace, name)
        due = wakeups.due(namespace, name) or _scheduled_at(body)
        wait = (due - dt.datetime.now(dt.UTC)).total_seconds() if due is not None else _SCHEDULE_RECHECK_SECONDS
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moved.wait(), timeout=min(wait, _SCHEDULE_RECHECK_SECONDS))
            continue
        logger.info("the email is due: reconciling")
        await _reconcile(namespace, name, video_jobs, active_jobs, logger)
        # Sent (or rescheduled): kopf stops this daemon when the status says so; until then, not in a loop.
        await stopped.wait(RESYNC_SECONDS)


def _scheduled_at(body: kopf.Body) -> dt.datetime | None:
    return parse_iso(((body.get("status") or {}).get("delivery") or {}).get("scheduledAt"))


@kopf.on.delete(*OV)
async def cleanup_video(namespace: str | None, name: str, uid: str, patch: kopf.Patch, logger: kopf.Logger,
                        **_: Any) -> None:
    """Delete the video's stored objects (the new hire's personal data); Jobs go by garbage collection.

    If the store is unreachable the finalizer stays, the status says why, and kopf retries. In an
    emergency the finalizer can be removed by hand (see README: "Deleting a stuck video").
    """
    import asyncio

    prefix = video_prefix(_namespaced(namespace), name, uid)
    try:
        removed = await asyncio.to_thread(runtime().store.delete_prefix, prefix)
    except StoreError as exc:  # the store unreachable or failing: report and retry later
        patch.status["message"] = f"Deleting: could not remove stored objects yet ({type(exc).__name__}); retrying."
        raise kopf.TemporaryError(f"store cleanup of {prefix} failed: {exc}", delay=_CLEANUP_RETRY_SECONDS) from exc
    logger.info("removed %d stored objects under %s", removed, prefix)
