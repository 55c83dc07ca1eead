"""The operator's state machine: (spec, status, observed Jobs, capacity) -> (new status, actions).

Pure: no API calls, no clock (``now`` is passed in). The kopf handlers observe, call ``plan_video``,
and carry out the actions. Because the plan is recomputed from what is observed each time, a
restarted operator converges to the same answer, and a lost status write is repaired next time.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from preboarding import api
from preboarding.api import delivery as deliveries
from preboarding.api.inputs import stage_inputs_hashes
from preboarding.api.layout import VIDEO_KEY, video_prefix
from preboarding.api.models import (
    Condition,
    DeliveryStatus,
    OnboardingVideoSpec,
    OnboardingVideoStatus,
    StageStatus,
)
from preboarding.api.stages import STAGE_DEPENDENCIES, STAGES, Stage, planned_stages
from preboarding.operator.jobs import JobObservation, job_name


@dataclass(frozen=True)
class VideoRef:
    namespace: str
    name: str
    uid: str
    generation: int


@dataclass(frozen=True)
class CreateJob:
    stage: Stage
    inputs_hash: str
    run: int
    name: str


class EventKind(enum.Enum):
    """A stage transition worth an Event; the value is the Kubernetes Event's reason."""

    STAGE_STARTED = "StageStarted"
    STAGE_SUCCEEDED = "StageSucceeded"
    STAGE_FAILED = "StageFailed"
    WAITING_FOR_CAPACITY = "WaitingForCapacity"
    EMAIL_SCHEDULED = "EmailScheduled"


class FailureReason(enum.Enum):
    """Why a stage failed; the value is the ``reason`` label of ``preboarding_stage_failures_total``."""

    PERMANENT = "permanent"  # invalid input or a permanent error: the podFailurePolicy failed the Job at once
    RETRIES_EXHAUSTED = "exhausted"  # retryable failures until the Job's backoffLimit

    @property
    def description(self) -> str:
        """How the stage's failure message starts: ``permanent failure: ...``, ``retries exhausted: ...``."""
        return "permanent failure" if self is FailureReason.PERMANENT else "retries exhausted"


@dataclass(frozen=True)
class StageEvent:
    """A stage transition, with its data; the Kubernetes Event's type, reason and message derive from it.

    No personal data: only stage names, Job names, durations and the stage's failure message.
    """

    kind: EventKind
    stage: Stage
    job_name: str | None = None  # StageStarted: the Job that runs the stage
    duration_seconds: float | None = None  # StageSucceeded, when start and finish are known
    failure: FailureReason | None = None  # StageFailed
    failure_message: str | None = None  # StageFailed: the stage's message ("<failure description>: <why>")
    scheduled_for: dt.datetime | None = None  # EmailScheduled: when the email is due

    def __post_init__(self) -> None:
        if self.kind is EventKind.STAGE_FAILED and self.failure is None:
            raise ValueError("a StageFailed event needs its failure reason")

    @property
    def type(self) -> str:
        """The Kubernetes Event type: ``Warning`` for a failure, else ``Normal``."""
        return "Warning" if self.kind is EventKind.STAGE_FAILED else "Normal"

    @property
    def reason(self) -> str:
        """The Kubernetes Event reason (CamelCase)."""
        return self.kind.value

    @property
    def message(self) -> str:
        """The Kubernetes Event message."""
        stage = self.stage.value
        if self.kind is EventKind.STAGE_STARTED:
            return f"Started {stage} in Job {self.job_name}"
        if self.kind is EventKind.STAGE_SUCCEEDED:
            took = f" in {self.duration_seconds:.1f}s" if self.duration_seconds is not None else ""
            return f"Stage {stage} succeeded{took}"
        if self.kind is EventKind.STAGE_FAILED:
            return f"Stage {stage} failed: {self.failure_message}"
        if self.kind is EventKind.EMAIL_SCHEDULED:
            due = deliveries.iso(self.scheduled_for) if self.scheduled_for else "later"
            return f"The video is ready; the email to the new hire is scheduled for {due}"
        return f"Stage {stage} waits for a Job slot"


@dataclass(frozen=True)
class Alert:
    """A failure the administrator and HR contact are mailed about, once (``key`` is kept in status.alerted)."""

    key: str  # "<stage>.<inputs hash>.<run>" or "delivery.<state>.<sends>": one per failure, not per retry
    about: str  # the stage's name, or "delivery"
    reason: str
    fix: str  # the exact command that retries (or resends)


@dataclass
class Plan:
    status: OnboardingVideoStatus
    create: list[CreateJob] = field(default_factory=list)
    events: list[StageEvent] = field(default_factory=list)
    wake_at: dt.datetime | None = None  # the email is held until then: reconcile again at that time
    alerts: list[Alert] = field(default_factory=list)


def plan_video(
    video: VideoRef,
    spec: OnboardingVideoSpec,
    status: OnboardingVideoStatus,
    jobs: list[JobObservation],
    *,
    free_slots: int,
    retry_token: str | None,
    now: dt.datetime,
    send_at: dt.datetime | None = None,
    resend_token: str | None = None,
    min_email_interval: dt.timedelta = deliveries.MIN_EMAIL_INTERVAL,
    alerts: bool = False,
) -> Plan:
    """Decide the next status and the Jobs to create for one video.

    ``send_at``: when the email is due (``preboarding.api.delivery.send_time``); until then the notify stage
    is ``Scheduled`` and ``Plan.wake_at`` says when to look again. None or a time past: send when ready.
    ``resend_token``: the resend annotation; a new value sends the email again (a new notify run). No
    email goes out sooner than ``min_email_interval`` after the last one: it is held until then.
    ``alerts``: mail each terminal failure (a stage Failed, the email Bounced or Dropped) once.
    """
    hashes = stage_inputs_hashes(spec)
    planned = planned_stages(spec)
    old = {r.name: r for r in status.stages}
    new_status = status.model_copy(deep=True)
    plan = Plan(status=new_status)

    # A new value of the retry annotation starts a new run of every failed stage.
    retry = retry_token is not None and retry_token != status.observed_retry
    if retry:
        new_status.observed_retry = retry_token
    resend = resend_token is not None and resend_token != status.observed_resend
    if resend:
        new_status.observed_resend = resend_token
    last_sent = status.delivery.sent_at if status.delivery is not None else None
    hold = max((t for t in (send_at, last_sent and last_sent + min_email_interval) if t is not None),
               default=None)

    by_name = {j.name: j for j in jobs}
    records: dict[Stage, StageStatus] = {}
    failures: dict[Stage, FailureReason] = {}  # stages whose current Job failed, and why
    for stage in STAGES:
        prev = old.get(stage)
        h = hashes[stage]
        if stage not in planned:
            records[stage] = StageStatus(name=stage, state="Skipped", inputs_hash=h)
            continue
        # Keep the run number while the inputs are unchanged; a retry bumps it for a failed stage.
        run = prev.run if prev and prev.inputs_hash == h else 1
        if retry and prev and prev.state == "Failed" and prev.inputs_hash == h:
            run += 1
        if resend and stage is Stage.NOTIFY and prev and prev.state == "Succeeded" and prev.inputs_hash == h:
            run += 1  # the email again, with a fresh link
        rec = StageStatus(name=stage, run=run, inputs_hash=h)
        if prev and prev.inputs_hash == h and prev.run == run:
            rec = prev.model_copy(deep=True)
        deps_ok = all(records[d].state in ("Succeeded", "Skipped") for d in STAGE_DEPENDENCIES[stage])
        name = job_name(video.name, video.uid, stage, h, run)
        job = by_name.get(name)
        if prev and prev.state == "Succeeded" and prev.inputs_hash == h and prev.run == run:
            records[stage] = rec  # finished with these inputs: keep it (its Job may be gone by TTL)
            continue
        if job is not None:
            rec.job_name = name
            rec.attempts = max(rec.attempts, job.attempts)
            rec.started_at = rec.started_at or job.started_at
            if job.state == "Succeeded":
                rec.state, rec.finished_at, rec.message = "Succeeded", job.finished_at or now, None
            elif job.state == "Failed":
                rec.state, rec.finished_at = "Failed", job.finished_at or now
                failures[stage] = FailureReason.PERMANENT if job.permanent else FailureReason.RETRIES_EXHAUSTED
                rec.message = rec.message if prev and prev.state == "Failed" and prev.message else (
                    f"{failures[stage].description}: {job.message or job.reason or 'the Job failed'}")
            else:
                rec.state = "Running"
            if rec.started_at and rec.finished_at:
                rec.duration_seconds = max(0.0, (rec.finished_at - rec.started_at).total_seconds())
        elif rec.state == "Failed" and not retry:
            pass  # failed for these inputs and this run; waits for the retry annotation
        elif not deps_ok:
            rec = StageStatus(name=stage, run=run, inputs_hash=h, state="Pending")
        elif stage is Stage.NOTIFY and hold is not None and now < hold:
            rec = StageStatus(name=stage, run=run, inputs_hash=h, state="Scheduled",
                              message=f"the email is scheduled for {deliveries.iso(hold)}")
            plan.wake_at = hold
        elif free_slots > 0:
            free_slots -= 1
            plan.create.append(CreateJob(stage=stage, inputs_hash=h, run=run, name=name))
            rec = StageStatus(name=stage, run=run, inputs_hash=h, state="Running", job_name=name,
                              started_at=now, attempts=0)
        else:
            rec = StageStatus(name=stage, run=run, inputs_hash=h, state="Waiting", started_at=None,
                              message="waiting for a free Job slot in this namespace")
        records[stage] = rec

    new_status.stages = [records[s] for s in STAGES]
    _summarize(video, spec, new_status, planned, now)
    plan.events = stage_events(old, records, failures, plan.wake_at)
    if Stage.NOTIFY in planned:
        new_status.delivery = _delivery(status.delivery, records[Stage.NOTIFY], old.get(Stage.NOTIFY), plan.wake_at)
    if alerts:
        plan.alerts = [a for a in failure_alerts(video, new_status) if a.key not in status.alerted]
        new_status.alerted = [*status.alerted, *(a.key for a in plan.alerts)][-ALERTS_KEPT:]
    return plan


ALERTS_KEPT = 20


def failure_alerts(video: VideoRef, status: OnboardingVideoStatus) -> list[Alert]:
    """Every terminal failure in ``status``, each with the command that mends it."""
    target = f"ov {video.name} -n {video.namespace}"
    found = [Alert(key=f"{r.name.value}.{r.inputs_hash}.{r.run}", about=r.name.value,
                   reason=r.message or f"{r.name.value} failed",
                   fix=f'kubectl annotate {target} {retry_hint().split("=")[0]}="$(date +%s)" --overwrite')
             for r in status.stages if r.state == "Failed"]
    delivery = status.delivery
    if delivery is not None and delivery.state in ("Bounced", "Dropped"):
        found.append(Alert(
            key=f"delivery.{delivery.state}.{delivery.sends}", about="delivery",
            reason=f"the welcome email {'bounced' if delivery.state == 'Bounced' else 'was dropped'}"
                   " (SendGrid's event; check the new hire's address in the HR system)",
            fix=f'kubectl annotate {target} {api.ANNOTATION_RESEND}="$(date +%s)" --overwrite'))
    return found


def _delivery(current: DeliveryStatus | None, notify: StageStatus, before: StageStatus | None,
              send_at: dt.datetime | None) -> DeliveryStatus:
    """The operator's part of ``status.delivery``: Scheduled while held, Sent once per email, Failed.

    A notify record that turns Succeeded is a new email (the first, a resend or a re-render's): it is Sent
    again and counted; what the bridge heard about an earlier email (Opened, Bounced) is replaced.
    """
    out = current.model_copy(deep=True) if current is not None else DeliveryStatus()
    same_run = before is not None and before.inputs_hash == notify.inputs_hash and before.run == notify.run
    if notify.state == "Scheduled":
        out.scheduled_at = send_at
        if out.state in (None, "Scheduled") or not same_run:
            out.state = "Scheduled"
    elif notify.state == "Succeeded" and not (same_run and before is not None and before.state == "Succeeded"):
        out.state, out.sent_at, out.message_id = "Sent", notify.finished_at, None
        out.sends += 1
    elif notify.state == "Failed":
        out.state = deliveries.advance(out.state, "Failed")
    return out


def _summarize(video: VideoRef, spec: OnboardingVideoSpec, st: OnboardingVideoStatus,
               planned: list[Stage], now: dt.datetime) -> None:
    recs = {r.name: r for r in st.stages}
    done = sum(1 for s in planned if recs[s].state == "Succeeded")
    st.progress = f"{done}/{len(planned)}"
    st.storage_prefix = video_prefix(video.namespace, video.name, video.uid)
    st.observed_generation = video.generation
    failed = [s for s in planned if recs[s].state == "Failed"]
    running = [s for s in planned if recs[s].state == "Running"]
    waiting = [s for s in planned if recs[s].state == "Waiting"]
    scheduled = [s for s in planned if recs[s].state == "Scheduled"]
    if recs[Stage.COMPOSE].state == "Succeeded":
        st.video_key = st.storage_prefix + VIDEO_KEY
    if failed:
        st.phase, st.stage = "Failed", failed[0]
        st.message = f"Stage {failed[0].value} failed ({recs[failed[0]].message}). " \
                     f"Annotate {retry_hint()} to retry it."
        summary = ("False", "StageFailed", st.message)
    elif done == len(planned):
        st.phase, st.stage = "Succeeded", None
        st.message = "The video is ready" + (" and the new hire was emailed." if spec.delivery.send_email
                                             else "; email delivery is off.")
        summary = ("True", "VideoReady", st.message)
    elif running:
        st.phase, st.stage = "Running", running[0]
        st.message = "Rendering: " + ", ".join(s.value for s in running) + "."
        summary = ("Unknown", "Rendering", st.message)
    elif scheduled:
        st.phase, st.stage = "Running", scheduled[0]
        st.message = f"The video is ready; {recs[scheduled[0]].message}."
        summary = ("Unknown", "Scheduled", st.message)
    elif waiting:
        st.phase, st.stage = "Pending", waiting[0]
        st.message = f"Waiting for a free Job slot to start {waiting[0].value}."
        summary = ("Unknown", "WaitingForCapacity", st.message)
    else:
        st.phase, st.stage = "Pending", None
        st.message = "Waiting to start."
        summary = ("Unknown", "Pending", st.message)
    conditions = [_condition(st, "Succeeded", *summary, video.generation, now)]
    for stage in STAGES:
        conditions.append(_condition(st, f"{stage.value.capitalize()}Ready", *_stage_condition(recs[stage]),
                                     video.generation, now))
    st.conditions = conditions


def retry_hint() -> str:
    return f"{api.ANNOTATION_RETRY}=<new value>"


def _stage_condition(rec: StageStatus) -> tuple[str, str, str]:
    return {
        "Succeeded": ("True", "StageSucceeded", f"{rec.name.value} finished"),
        "Skipped": ("True", "StageSkipped", f"{rec.name.value} is not needed (email delivery is off)"),
        "Failed": ("False", "StageFailed", rec.message or f"{rec.name.value} failed"),
        "Running": ("False", "StageRunning", f"{rec.name.value} is running in Job {rec.job_name}"),
        "Waiting": ("False", "WaitingForCapacity", rec.message or "waiting for capacity"),
        "Scheduled": ("False", "Scheduled", rec.message or f"{rec.name.value} waits for its send time"),
    }.get(rec.state, ("False", "WaitingForDependencies", f"{rec.name.value} waits for earlier stages"))


def _condition(st: OnboardingVideoStatus, type_: str, status: str, reason: str, message: str,
               generation: int, now: dt.datetime) -> Condition:
    prev = next((c for c in st.conditions if c.type == type_), None)
    changed = prev is None or prev.status != status
    return Condition(
        type=type_, status=status, reason=reason, message=message[:32768],  # type: ignore[arg-type]
        last_transition_time=now if changed or prev is None else prev.last_transition_time,
        observed_generation=generation,
    )


def stage_events(old: dict[Stage, StageStatus], new: dict[Stage, StageStatus],
                 failures: dict[Stage, FailureReason], send_at: dt.datetime | None = None) -> list[StageEvent]:
    """Events for stage transitions. ``failures``: why each stage whose current Job failed did so."""
    events = []
    for stage in STAGES:
        before, after = old.get(stage), new[stage]
        same_run = before is not None and before.inputs_hash == after.inputs_hash and before.run == after.run
        if same_run and before is not None and before.state == after.state:
            continue
        if after.state == "Running":
            events.append(StageEvent(EventKind.STAGE_STARTED, stage, job_name=after.job_name))
        elif after.state == "Succeeded" and not (same_run and before and before.state == "Succeeded"):
            events.append(StageEvent(EventKind.STAGE_SUCCEEDED, stage, duration_seconds=after.duration_seconds))
        elif after.state == "Failed":
            # A stage only turns Failed from its observed Job (a Failed record carried over from the old
            # status is the same run in the same state, skipped above), so ``failures`` names it.
            events.append(StageEvent(EventKind.STAGE_FAILED, stage, failure=failures[stage],
                                     failure_message=after.message))
        elif after.state == "Scheduled":
            events.append(StageEvent(EventKind.EMAIL_SCHEDULED, stage, scheduled_for=send_at))
        elif after.state == "Waiting" and (before is None or before.state != "Waiting"):
            events.append(StageEvent(EventKind.WAITING_FOR_CAPACITY, stage))
    return events
