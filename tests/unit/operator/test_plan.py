"""Every transition of the operator's state machine, without a cluster."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from preboarding.api.delivery import MIN_EMAIL_INTERVAL
from preboarding.api.inputs import stage_inputs_hashes
from preboarding.api.models import OnboardingVideoSpec, OnboardingVideoStatus
from preboarding.api.payload import NewHirePayload, payload_to_spec
from preboarding.api.stages import Stage
from preboarding.operator.jobs import JobObservation
from preboarding.operator.plan import EventKind, FailureReason, Plan, StageEvent, VideoRef, plan_video

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "new-hire.json"
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
VIDEO = VideoRef(namespace="hr", name="welcome-e-10442-abcd1234", uid="uid-1", generation=1)


def _spec(**changes) -> OnboardingVideoSpec:  # type: ignore[no-untyped-def]
    spec = payload_to_spec(NewHirePayload.model_validate(json.loads(EXAMPLE.read_text())))
    return spec.model_copy(update=changes)


def _job(plan_or_name, state: str = "Succeeded", *, permanent: bool = False, attempts: int = 1,  # type: ignore[no-untyped-def]
         message: str | None = None) -> JobObservation:
    c = plan_or_name
    return JobObservation(name=c.name, stage=c.stage, inputs_hash=c.inputs_hash, run=c.run, state=state,  # type: ignore[arg-type]
                          permanent=permanent, attempts=attempts, reason="PodFailurePolicy" if permanent else
                          ("BackoffLimitExceeded" if state == "Failed" else None), message=message,
                          started_at=NOW, finished_at=NOW + dt.timedelta(seconds=3) if state != "Active" else None)


def _step(spec: OnboardingVideoSpec, status: OnboardingVideoStatus, jobs: list[JobObservation], *,
          free: int = 10, retry: str | None = None, video: VideoRef = VIDEO) -> Plan:
    return plan_video(video, spec, status, jobs, free_slots=free, retry_token=retry, now=NOW)


def _run_to_completion(spec: OnboardingVideoSpec) -> tuple[OnboardingVideoStatus, list[JobObservation]]:
    status, jobs = OnboardingVideoStatus(), []
    for _ in range(10):
        plan = _step(spec, status, jobs)
        status = plan.status
        jobs += [_job(c) for c in plan.create]
        if status.phase == "Succeeded":
            break
    return status, jobs


def _states(status: OnboardingVideoStatus) -> dict[str, str]:
    return {r.name.value: r.state for r in status.stages}


def test_new_video_starts_with_the_script_stage_only() -> None:
    plan = _step(_spec(), OnboardingVideoStatus(), [])
    assert [c.stage for c in plan.create] == [Stage.SCRIPT]
    assert plan.status.phase == "Running" and plan.status.stage == Stage.SCRIPT
    assert plan.status.progress == "0/5"
    assert _states(plan.status) == {"script": "Running", "audio": "Pending", "slides": "Pending",
                                    "compose": "Pending", "notify": "Pending"}
    assert [e.reason for e in plan.events] == ["StageStarted"]


def test_dag_order_audio_and_slides_in_parallel_then_compose_then_notify() -> None:
    spec, status, jobs, order = _spec(), OnboardingVideoStatus(), [], []
    for _ in range(6):
        plan = _step(spec, status, jobs)
        order.append(sorted(c.stage.value for c in plan.create))
        status = plan.status
        jobs += [_job(c) for c in plan.create]
    assert order[:4] == [["script"], ["audio", "slides"], ["compose"], ["notify"]]
    assert status.phase == "Succeeded" and status.progress == "5/5"
    assert status.video_key == f"hr/{VIDEO.name}/uid-1/video.mp4"
    summary = next(c for c in status.conditions if c.type == "Succeeded")
    assert (summary.status, summary.reason) == ("True", "VideoReady")
    assert {c.type for c in status.conditions} == {"Succeeded", "ScriptReady", "AudioReady", "SlidesReady",
                                                  "ComposeReady", "NotifyReady"}


def test_notify_is_skipped_when_email_is_off() -> None:
    spec = _spec(delivery=_spec().delivery.model_copy(update={"send_email": False}))
    status, jobs = _run_to_completion(spec)
    assert status.phase == "Succeeded" and status.progress == "4/4"
    assert _states(status)["notify"] == "Skipped"
    assert Stage.NOTIFY not in {j.stage for j in jobs}


def test_running_job_keeps_the_video_running_and_creates_nothing_new() -> None:
    first = _step(_spec(), OnboardingVideoStatus(), [])
    again = _step(_spec(), first.status, [_job(first.create[0], "Active", attempts=1)])
    assert again.create == [] and again.events == []
    assert again.status.phase == "Running"


def test_restart_with_lost_status_adopts_existing_jobs_instead_of_duplicating() -> None:
    """An operator that restarts with an empty status sees the Jobs and continues from them."""
    _status, jobs = _run_to_completion(_spec())
    plan = _step(_spec(), OnboardingVideoStatus(), jobs)
    assert plan.create == []
    assert plan.status.phase == "Succeeded"


def test_restart_mid_pipeline_recreates_nothing_that_exists() -> None:
    p1 = _step(_spec(), OnboardingVideoStatus(), [])
    jobs = [_job(p1.create[0])]
    p2 = _step(_spec(), p1.status, jobs)
    running = [_job(c, "Active") for c in p2.create]
    # Restart: status written before the Jobs were observed; the same names come out, so creating
    # them again is a 409 the handler treats as "exists".
    p3 = _step(_spec(), p1.status, jobs)
    assert [c.name for c in p3.create] == [c.name for c in p2.create]
    p4 = _step(_spec(), p2.status, jobs + running)
    assert p4.create == []


def test_retryable_failure_after_backoff_limit_fails_the_video_with_stage_and_reason() -> None:
    p1 = _step(_spec(), OnboardingVideoStatus(), [])
    failed = _job(p1.create[0], "Failed", attempts=4, message="Job has reached the specified backoff limit")
    p2 = _step(_spec(), p1.status, [failed])
    assert p2.status.phase == "Failed" and p2.status.stage == Stage.SCRIPT
    assert "script" in (p2.status.message or "") and "backoff limit" in (p2.status.message or "")
    assert p2.status.stages[0].attempts == 4
    assert [e.reason for e in p2.events] == ["StageFailed"]
    summary = next(c for c in p2.status.conditions if c.type == "Succeeded")
    assert (summary.status, summary.reason) == ("False", "StageFailed")
    # Nothing else starts, and a further reconcile changes nothing.
    p3 = _step(_spec(), p2.status, [failed])
    assert p3.create == [] and p3.events == [] and p3.status == p2.status


def test_permanent_failure_is_reported_as_such() -> None:
    p1 = _step(_spec(), OnboardingVideoStatus(), [])
    p2 = _step(_spec(), p1.status, [_job(p1.create[0], "Failed", permanent=True, message="exit code 2")])
    assert p2.status.phase == "Failed"
    assert "permanent failure" in (p2.status.stages[0].message or "")


def test_retry_annotation_restarts_from_the_failed_stage_only() -> None:
    spec = _spec()
    p1 = _step(spec, OnboardingVideoStatus(), [])
    script = _job(p1.create[0])
    p2 = _step(spec, p1.status, [script])
    audio_c = next(c for c in p2.create if c.stage is Stage.AUDIO)
    slides_c = next(c for c in p2.create if c.stage is Stage.SLIDES)
    jobs = [script, _job(audio_c, "Failed", attempts=4), _job(slides_c)]
    failed = _step(spec, p2.status, jobs).status
    assert failed.phase == "Failed" and failed.stage == Stage.AUDIO

    retried = _step(spec, failed, jobs, retry="2026-11-24T12:00")
    assert [c.stage for c in retried.create] == [Stage.AUDIO]
    assert retried.create[0].run == 2 and retried.create[0].name != audio_c.name
    assert retried.status.phase == "Running" and retried.status.observed_retry == "2026-11-24T12:00"
    # The same annotation value again does nothing new.
    again = _step(spec, retried.status, [*jobs, _job(retried.create[0], "Active")], retry="2026-11-24T12:00")
    assert again.create == []


def test_retry_annotation_on_a_healthy_video_changes_nothing() -> None:
    status, jobs = _run_to_completion(_spec())
    plan = _step(_spec(), status, jobs, retry="now")
    assert plan.create == [] and plan.status.phase == "Succeeded"


def test_spec_change_reruns_only_stages_whose_inputs_changed() -> None:
    status, jobs = _run_to_completion(_spec())
    new_voices = _spec().voices.model_copy(update={"alex": "rms"})
    changed = _spec(voices=new_voices)
    plan = _step(changed, status, jobs)
    assert [c.stage for c in plan.create] == [Stage.AUDIO]
    assert _states(plan.status)["script"] == "Succeeded" and _states(plan.status)["slides"] == "Succeeded"
    assert _states(plan.status)["compose"] == "Pending" and _states(plan.status)["notify"] == "Pending"
    assert plan.status.phase == "Running" and plan.status.progress == "2/5"


def test_link_expiry_change_reruns_only_notify() -> None:
    status, jobs = _run_to_completion(_spec())
    changed = _spec(delivery=_spec().delivery.model_copy(update={"link_expiry_hours": 24}))
    # The new email waits until MIN_EMAIL_INTERVAL after the last one, then only notify runs.
    held = _step(changed, status, jobs)
    assert held.create == [] and _states(held.status)["notify"] == "Scheduled"
    assert held.wake_at == NOW + dt.timedelta(seconds=3) + MIN_EMAIL_INTERVAL
    plan = plan_video(VIDEO, changed, held.status, jobs, free_slots=10, retry_token=None, now=held.wake_at)
    assert [c.stage for c in plan.create] == [Stage.NOTIFY]


# -- a resend: the email again, with a fresh link ------------------------------------------------------------


def _resend(status: OnboardingVideoStatus, jobs: list[JobObservation], token: str | None,
            now: dt.datetime) -> Plan:
    return plan_video(VIDEO, _spec(), status, jobs, free_slots=10, retry_token=None, now=now, resend_token=token)


def test_a_resend_runs_notify_again_once_per_new_annotation_value() -> None:
    status, jobs = _run_to_completion(_spec())
    later = NOW + dt.timedelta(hours=1)
    plan = _resend(status, jobs, "r1", later)
    [again] = plan.create
    assert again.stage is Stage.NOTIFY and again.run == 2 and plan.status.observed_resend == "r1"
    done = _resend(plan.status, [*jobs, _job(again)], "r1", later)
    assert done.create == [] and done.status.phase == "Succeeded"
    assert done.status.delivery is not None and done.status.delivery.sends == 2
    # The same value again does nothing; a new one sends once more.
    assert _resend(done.status, [*jobs, _job(again)], "r1", later).create == []
    assert [c.run for c in _resend(done.status, [*jobs, _job(again)], "r2", later).create] == [3]


def test_a_resend_right_after_an_email_waits_for_the_minimum_interval() -> None:
    status, jobs = _run_to_completion(_spec())
    plan = _resend(status, jobs, "r1", NOW + dt.timedelta(minutes=1))
    assert plan.create == [] and _states(plan.status)["notify"] == "Scheduled"
    assert plan.wake_at == NOW + dt.timedelta(seconds=3) + MIN_EMAIL_INTERVAL
    due = _resend(plan.status, jobs, "r1", plan.wake_at)
    assert [(c.stage, c.run) for c in due.create] == [(Stage.NOTIFY, 2)]


def test_a_resend_of_a_video_still_rendering_is_not_queued() -> None:
    plan = _resend(OnboardingVideoStatus(), [], "r1", NOW)
    assert [c.stage for c in plan.create] == [Stage.SCRIPT] and plan.status.observed_resend == "r1"


def test_finished_stage_is_kept_after_its_job_is_gone() -> None:
    status, _ = _run_to_completion(_spec())
    plan = _step(_spec(), status, [])  # Jobs deleted by ttlSecondsAfterFinished
    assert plan.create == [] and plan.status.phase == "Succeeded"


def test_no_free_slot_waits_in_pending_with_a_message() -> None:
    plan = _step(_spec(), OnboardingVideoStatus(), [], free=0)
    assert plan.create == []
    assert plan.status.phase == "Pending"
    assert "free Job slot" in (plan.status.message or "")
    assert _states(plan.status)["script"] == "Waiting"
    later = _step(_spec(), plan.status, [], free=1)
    assert [c.stage for c in later.create] == [Stage.SCRIPT]


def test_free_slots_limit_parallel_stages() -> None:
    p1 = _step(_spec(), OnboardingVideoStatus(), [])
    p2 = _step(_spec(), p1.status, [_job(p1.create[0])], free=1)
    assert [c.stage for c in p2.create] == [Stage.AUDIO]
    assert _states(p2.status)["slides"] == "Waiting"


def test_conditions_keep_transition_time_when_status_does_not_change() -> None:
    p1 = _step(_spec(), OnboardingVideoStatus(), [])
    later = NOW + dt.timedelta(minutes=5)
    p2 = plan_video(VIDEO, _spec(), p1.status, [_job(p1.create[0], "Active")], free_slots=5,
                    retry_token=None, now=later)
    c1 = {c.type: c for c in p1.status.conditions}
    c2 = {c.type: c for c in p2.status.conditions}
    assert c2["ScriptReady"].last_transition_time == c1["ScriptReady"].last_transition_time


def test_inputs_hashes_chain_through_dependencies() -> None:
    a = stage_inputs_hashes(_spec())
    b = stage_inputs_hashes(_spec(script=_spec().script.model_copy(update={"tone": "playful"})))
    assert {s for s in Stage if a[s] != b[s]} == set(Stage)  # everything follows the script
    c = stage_inputs_hashes(_spec(company=_spec().company.model_copy(update={"brand_color": "#112233"})))
    assert {s for s in Stage if a[s] != c[s]} == {Stage.SLIDES, Stage.COMPOSE, Stage.NOTIFY}


def test_events_carry_no_personal_data() -> None:
    status, jobs, events = OnboardingVideoStatus(), [], []
    for _ in range(6):
        plan = _step(_spec(), status, jobs)
        events += plan.events
        status = plan.status
        jobs += [_job(c) for c in plan.create]
    text = " ".join(e.message for e in events)
    for personal in ("Priya", "Raman", "priya.raman@example.com", "Northwind"):
        assert personal not in text


def test_events_carry_their_data_and_derive_the_kubernetes_event_from_it() -> None:
    p1 = _step(_spec(), OnboardingVideoStatus(), [])
    script = p1.create[0]
    [started] = p1.events
    assert (started.kind, started.stage, started.job_name) == (EventKind.STAGE_STARTED, Stage.SCRIPT, script.name)
    assert (started.type, started.reason, started.message) == (
        "Normal", "StageStarted", f"Started script in Job {script.name}")

    done = _step(_spec(), p1.status, [_job(script)])
    succeeded = next(e for e in done.events if e.kind is EventKind.STAGE_SUCCEEDED)
    assert (succeeded.stage, succeeded.duration_seconds) == (Stage.SCRIPT, 3.0)
    assert (succeeded.type, succeeded.reason, succeeded.message) == (
        "Normal", "StageSucceeded", "Stage script succeeded in 3.0s")

    waiting = _step(_spec(), OnboardingVideoStatus(), [], free=0).events
    assert [(e.kind, e.stage, e.type, e.reason, e.message) for e in waiting] == [
        (EventKind.WAITING_FOR_CAPACITY, Stage.SCRIPT, "Normal", "WaitingForCapacity",
         "Stage script waits for a Job slot")]


@pytest.mark.parametrize(("permanent", "failure", "message"), [
    (True, FailureReason.PERMANENT, "Stage script failed: permanent failure: exit code 2"),
    (False, FailureReason.RETRIES_EXHAUSTED, "Stage script failed: retries exhausted: exit code 2"),
])
def test_failure_events_carry_the_failure_reason(permanent: bool, failure: FailureReason, message: str) -> None:
    p1 = _step(_spec(), OnboardingVideoStatus(), [])
    p2 = _step(_spec(), p1.status, [_job(p1.create[0], "Failed", permanent=permanent, message="exit code 2")])
    [failed] = p2.events
    assert (failed.kind, failed.stage, failed.failure) == (EventKind.STAGE_FAILED, Stage.SCRIPT, failure)
    assert (failed.type, failed.reason, failed.message) == ("Warning", "StageFailed", message)
    assert f"Stage script failed: {p2.status.stages[0].message}" == message


def test_a_failure_event_without_its_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="failure reason"):
        StageEvent(EventKind.STAGE_FAILED, Stage.AUDIO, failure_message="retries exhausted: boom")


@pytest.mark.parametrize("stage", list(Stage))
def test_status_validates_against_the_crd_models(stage: Stage) -> None:
    status, _ = _run_to_completion(_spec())
    dumped = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert OnboardingVideoStatus.model_validate(dumped) == status
    assert any(r["name"] == stage.value for r in dumped["stages"])


# -- a held email: notify waits for its send time ------------------------------------------------------------


def _rendered(spec: OnboardingVideoSpec, send_at: dt.datetime | None) -> tuple[Plan, list[JobObservation]]:
    """Run every stage but notify to success; the last plan is the one made with all four finished."""
    status, jobs = OnboardingVideoStatus(), []
    for _ in range(5):
        plan = plan_video(VIDEO, spec, status, jobs, free_slots=10, retry_token=None, now=NOW, send_at=send_at)
        status = plan.status
        jobs += [_job(c) for c in plan.create if c.stage is not Stage.NOTIFY]
    return plan, jobs


def test_an_email_due_later_is_held_after_rendering_with_a_wake_up_time() -> None:
    due = NOW + dt.timedelta(days=3)
    plan, _ = _rendered(_spec(), due)
    assert plan.create == [] and plan.wake_at == due
    assert _states(plan.status)["notify"] == "Scheduled"
    assert plan.status.phase == "Running" and plan.status.stage == Stage.NOTIFY and plan.status.progress == "4/5"
    assert plan.status.message == "The video is ready; the email is scheduled for 2026-11-27T12:00:00Z."
    notify = next(c for c in plan.status.conditions if c.type == "NotifyReady")
    assert (notify.status, notify.reason) == ("False", "Scheduled")
    assert plan.status.delivery is not None
    assert (plan.status.delivery.state, plan.status.delivery.scheduled_at) == ("Scheduled", due)


def test_a_held_email_posts_one_scheduled_event() -> None:
    due = NOW + dt.timedelta(days=3)
    spec, status, jobs, reasons = _spec(), OnboardingVideoStatus(), [], []
    for _ in range(6):
        plan = plan_video(VIDEO, spec, status, jobs, free_slots=10, retry_token=None, now=NOW, send_at=due)
        status, reasons = plan.status, reasons + [e.reason for e in plan.events]
        jobs += [_job(c) for c in plan.create]
    assert reasons.count("EmailScheduled") == 1
    event = next(e for e in plan_video(VIDEO, spec, OnboardingVideoStatus(stages=[r for r in status.stages
                                                                                  if r.name is not Stage.NOTIFY]),
                                       jobs, free_slots=10, retry_token=None, now=NOW, send_at=due).events
                 if e.reason == "EmailScheduled")
    assert event.message == "The video is ready; the email to the new hire is scheduled for 2026-11-27T12:00:00Z"


def test_the_held_email_is_sent_once_due_and_counted_as_sent() -> None:
    due = NOW + dt.timedelta(days=3)
    plan, jobs = _rendered(_spec(), due)
    later = plan_video(VIDEO, _spec(), plan.status, jobs, free_slots=10, retry_token=None, now=due, send_at=due)
    assert [c.stage for c in later.create] == [Stage.NOTIFY] and later.wake_at is None
    assert later.status.delivery is not None and later.status.delivery.state == "Scheduled"
    done = plan_video(VIDEO, _spec(), later.status, [*jobs, _job(later.create[0])], free_slots=10,
                      retry_token=None, now=due, send_at=due)
    assert done.status.phase == "Succeeded" and done.status.delivery is not None
    assert (done.status.delivery.state, done.status.delivery.sends) == ("Sent", 1)
    assert done.status.delivery.sent_at == NOW + dt.timedelta(seconds=3)  # the Job's finish time
    # Seen again (a resync, a restart): still one email.
    again = plan_video(VIDEO, _spec(), done.status, [*jobs, _job(later.create[0])], free_slots=10,
                       retry_token=None, now=due + dt.timedelta(hours=1), send_at=due)
    assert again.create == [] and again.status.delivery is not None and again.status.delivery.sends == 1


def test_a_send_time_already_past_sends_when_ready() -> None:
    plan, _ = _rendered(_spec(), NOW - dt.timedelta(days=1))
    assert [c.stage for c in plan.create] == [Stage.NOTIFY] and plan.wake_at is None


def test_moving_the_send_time_moves_the_wake_up_and_reruns_nothing() -> None:
    plan, jobs = _rendered(_spec(), NOW + dt.timedelta(days=3))
    moved = plan_video(VIDEO, _spec(), plan.status, jobs, free_slots=10, retry_token=None, now=NOW,
                       send_at=NOW + dt.timedelta(days=1))
    assert moved.create == [] and moved.wake_at == NOW + dt.timedelta(days=1)
    assert moved.status.delivery is not None and moved.status.delivery.scheduled_at == NOW + dt.timedelta(days=1)


def test_the_send_time_is_not_what_the_email_says_so_it_changes_no_digest() -> None:
    from preboarding.api.models import Delivery

    spec = _spec()
    held = spec.model_copy(update={"delivery": Delivery(days_before_start=3,
                                                        send_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))})
    assert stage_inputs_hashes(held) == stage_inputs_hashes(spec)


def test_a_failed_notify_marks_the_delivery_failed() -> None:
    plan, jobs = _rendered(_spec(), None)
    failed = plan_video(VIDEO, _spec(), plan.status, [*jobs, _job(plan.create[0], "Failed", permanent=True)],
                        free_slots=10, retry_token=None, now=NOW)
    assert failed.status.phase == "Failed" and failed.status.delivery is not None
    assert failed.status.delivery.state == "Failed"


# -- failure mail: once per failure ----------------------------------------------------------------------------


def test_a_terminal_failure_is_alerted_once_with_the_retry_command() -> None:
    spec, status, jobs = _spec(), OnboardingVideoStatus(), []
    for _ in range(3):
        plan = plan_video(VIDEO, spec, status, jobs, free_slots=10, retry_token=None, now=NOW, alerts=True)
        status = plan.status
        jobs += [_job(c, "Failed" if c.stage is Stage.AUDIO else "Succeeded", permanent=c.stage is Stage.AUDIO,
                      message="no such voice") for c in plan.create]
    failed = plan_video(VIDEO, spec, status, jobs, free_slots=10, retry_token=None, now=NOW, alerts=True)
    alerts = [*plan.alerts, *failed.alerts]
    assert [(a.about, a.reason) for a in alerts] == [("audio", "permanent failure: no such voice")]
    assert alerts[0].fix == f'kubectl annotate ov {VIDEO.name} -n hr preboarding.dev/retry="$(date +%s)" --overwrite'
    # Seen again (a resync, a restart): no second mail.
    again = plan_video(VIDEO, spec, failed.status, jobs, free_slots=10, retry_token=None, now=NOW, alerts=True)
    assert again.alerts == [] and len(again.status.alerted) == 1


def test_a_bounce_is_alerted_once_per_email_and_not_without_alerts() -> None:
    from preboarding.api.models import DeliveryStatus

    status, jobs = _run_to_completion(_spec())
    bounced = status.model_copy(update={"delivery": DeliveryStatus(state="Bounced", sends=1)})
    plan = plan_video(VIDEO, _spec(), bounced, jobs, free_slots=10, retry_token=None, now=NOW, alerts=True)
    [alert] = plan.alerts
    assert (alert.about, alert.key) == ("delivery", "delivery.Bounced.1") and "preboarding.dev/resend" in alert.fix
    assert plan_video(VIDEO, _spec(), plan.status, jobs, free_slots=10, retry_token=None, now=NOW,
                      alerts=True).alerts == []
    assert plan_video(VIDEO, _spec(), bounced, jobs, free_slots=10, retry_token=None, now=NOW).alerts == []
