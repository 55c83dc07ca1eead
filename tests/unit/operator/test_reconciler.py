"""``Reconciler.reconcile`` against an in-memory apiserver and a folder store: Jobs, status, events, metrics."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from preboarding import api
from preboarding.api.layout import INPUT_KEY, video_prefix
from preboarding.api.payload import NewHirePayload, payload_to_spec
from preboarding.api.stages import Stage
from preboarding.operator.jobs import JobObservation
from preboarding.operator.reconciler import Reconciler
from preboarding.operator.settings import OperatorSettings
from preboarding.storage import LocalStore

from .fake_kube import FakeKube

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "new-hire.json"
NS = "hr"
LOG = logging.getLogger("test-reconciler")


def video_body(name: str = "welcome-priya", uid: str = "uid-1", **spec_changes: Any) -> dict[str, Any]:
    spec = payload_to_spec(NewHirePayload.model_validate(json.loads(EXAMPLE.read_text())))
    dumped = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    for path, value in spec_changes.items():  # employee__email="x" sets spec.employee.email
        *parents, leaf = path.split("__")
        target = dumped
        for part in parents:
            target = target[part]
        target[leaf] = value
    return {"apiVersion": api.API_VERSION, "kind": api.KIND,
            "metadata": {"name": name, "namespace": NS, "uid": uid, "generation": 1}, "spec": dumped}


class Harness:
    """A Reconciler wired to a FakeKube and a LocalStore, reconciling as kopf's handlers would."""

    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        self.kube = FakeKube()
        self.store = LocalStore(tmp_path / "store")
        self.settings = OperatorSettings(**settings)
        self.reconciler = Reconciler(self.settings, self.kube, self.store)

    async def reconcile(self, name: str = "welcome-priya", *,
                        jobs: Callable[[str, str], Iterable[JobObservation]] | None = None) -> str | None:
        return await self.reconciler.reconcile(NS, name, jobs=jobs or self.kube.observed_jobs,
                                               active=self.kube.active_jobs, logger=LOG)

    def status(self, name: str = "welcome-priya") -> dict[str, Any]:
        status: dict[str, Any] = self.kube.video(NS, name)["status"]
        return status

    def stage(self, stage: Stage, name: str = "welcome-priya") -> dict[str, Any]:
        return next(s for s in self.status(name)["stages"] if s["name"] == stage.value)

    def job_of(self, stage: Stage, name: str = "welcome-priya") -> str:
        job_name = self.stage(stage, name)["jobName"]
        assert isinstance(job_name, str)
        return job_name

    def started_at(self, stage: Stage, name: str = "welcome-priya") -> dt.datetime:
        return dt.datetime.fromisoformat(self.stage(stage, name)["startedAt"].replace("Z", "+00:00"))

    def created_stages(self) -> list[str]:
        return [self.kube.jobs[(NS, n)]["metadata"]["labels"][api.LABEL_STAGE] for n in self.kube.created_jobs]


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_new_video_creates_the_script_job_and_writes_its_input(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    body = video_body()
    h.kube.add_video(body)
    created_before = sample("preboarding_jobs_created_total", stage="script")

    async def scenario() -> None:
        assert await h.reconcile() == "Running"

    run(scenario)
    assert h.created_stages() == ["script"]
    job = h.kube.jobs[(NS, h.kube.created_jobs[0])]
    assert job["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == h.settings.renderer_service_account
    assert h.kube.service_accounts == {(NS, h.settings.renderer_service_account)}
    document = json.loads(h.store.get_bytes(video_prefix(NS, "welcome-priya", "uid-1") + INPUT_KEY))
    assert document["spec"] == body["spec"]
    assert document["metadata"] == {"name": "welcome-priya", "namespace": NS, "uid": "uid-1", "generation": 1}
    status = h.status()
    assert (status["phase"], status["stage"], status["progress"]) == ("Running", "script", "0/5")
    assert h.stage(Stage.SCRIPT)["jobName"] == job["metadata"]["name"]
    assert [(e.type, e.reason, e.message) for e in h.kube.events] == [
        ("Normal", "StageStarted", f"Started script in Job {job['metadata']['name']}")]
    assert sample("preboarding_jobs_created_total", stage="script") == created_before + 1


def test_finished_script_job_starts_audio_and_slides(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.kube.add_video(video_body())

    async def scenario() -> None:
        await h.reconcile()
        script = h.job_of(Stage.SCRIPT)
        h.kube.start_job(NS, script, h.started_at(Stage.SCRIPT))
        h.kube.finish_job(NS, script, h.started_at(Stage.SCRIPT) + dt.timedelta(seconds=2))
        assert await h.reconcile() == "Running"

    run(scenario)
    assert h.created_stages() == ["script", "audio", "slides"]
    status = h.status()
    assert status["progress"] == "1/5" and status["message"] == "Rendering: audio, slides."
    assert h.stage(Stage.SCRIPT)["state"] == "Succeeded"
    assert [e.reason for e in h.kube.events] == ["StageStarted", "StageSucceeded", "StageStarted", "StageStarted"]


def test_capacity_cap_leaves_a_video_waiting_until_a_job_finishes(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_running_jobs_per_namespace=1)
    h.kube.add_video(video_body("first", uid="uid-1"))
    h.kube.add_video(video_body("second", uid="uid-2"))

    async def scenario() -> None:
        assert await h.reconcile("first") == "Running"
        assert await h.reconcile("second") == "Pending"
        assert len(h.kube.created_jobs) == 1
        status = h.status("second")
        assert (status["stage"], status["message"]) == ("script", "Waiting for a free Job slot to start script.")
        assert h.stage(Stage.SCRIPT, "second")["state"] == "Waiting"
        assert h.kube.events[-1].object_name == "second"
        assert (h.kube.events[-1].reason, h.kube.events[-1].message) == (
            "WaitingForCapacity", "Stage script waits for a Job slot")
        # Still no slot on a resync: still waiting, and no second WaitingForCapacity event.
        assert await h.reconcile("second") == "Pending"
        assert [e.reason for e in h.kube.events if e.object_name == "second"] == ["WaitingForCapacity"]

        # The first video's Job finishes (the Job handler forgets it); the waiting video gets the slot.
        first_job = h.job_of(Stage.SCRIPT, "first")
        h.kube.finish_job(NS, first_job, h.started_at(Stage.SCRIPT, "first") + dt.timedelta(seconds=1))
        h.reconciler.forget_created(NS, first_job)
        assert await h.reconcile("second") == "Running"

    run(scenario)
    assert len(h.kube.created_jobs) == 2 and h.status("second")["stage"] == "script"


def test_repeated_reconcile_creates_no_duplicate_job(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.kube.add_video(video_body())
    created_before = sample("preboarding_jobs_created_total", stage="script")

    async def scenario() -> None:
        await h.reconcile()
        patches = len(h.kube.status_patches)
        # Another event for the same video while its Job runs: nothing to create, nothing to write.
        await h.reconcile()
        assert len(h.kube.status_patches) == patches
        # A restarted operator with the status lost and the Job not yet seen by its watch plans the
        # same Job again: the create is the 409 path and the existing Job is kept.
        h.kube.video(NS, "welcome-priya").pop("status")
        restarted = Reconciler(h.settings, h.kube, h.store)
        await restarted.reconcile(NS, "welcome-priya", jobs=lambda ns, video: [], active=h.kube.active_jobs,
                                  logger=LOG)

    run(scenario)
    assert len(h.kube.created_jobs) == 1 and h.kube.jobs.keys() == {(NS, h.kube.created_jobs[0])}
    assert h.kube.duplicate_creates == h.kube.created_jobs
    assert sample("preboarding_jobs_created_total", stage="script") == created_before + 1
    assert h.status()["phase"] == "Running"


def test_invalid_spec_fails_the_video_with_an_event_naming_the_field(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.kube.add_video(video_body(employee__email="priya-at-example"))

    async def scenario() -> None:
        assert await h.reconcile() == "Failed"

    run(scenario)
    assert h.kube.created_jobs == []
    status = h.status()
    assert status["phase"] == "Failed"
    assert status["message"].startswith("Invalid spec: spec.employee.email: ")
    [event] = h.kube.events
    assert (event.type, event.reason) == ("Warning", "InvalidSpec")
    assert event.message == status["message"] and "spec.employee.email" in event.message
    assert "priya-at-example" not in event.message  # the rejected value is personal data


@pytest.mark.parametrize(("permanent", "reason", "message"), [
    (True, "permanent", "permanent failure: Container renderer exited with code 3"),
    (False, "exhausted", "retries exhausted: Job has reached the specified backoff limit"),
])
def test_failed_job_counts_a_failure_with_its_reason(tmp_path: Path, permanent: bool, reason: str,
                                                    message: str) -> None:
    h = Harness(tmp_path)
    h.kube.add_video(video_body())
    other = "exhausted" if permanent else "permanent"
    before = sample("preboarding_stage_failures_total", stage="script", reason=reason)
    other_before = sample("preboarding_stage_failures_total", stage="script", reason=other)

    async def scenario() -> None:
        await h.reconcile()
        script = h.job_of(Stage.SCRIPT)
        h.kube.start_job(NS, script, h.started_at(Stage.SCRIPT))
        h.kube.finish_job(NS, script, h.started_at(Stage.SCRIPT) + dt.timedelta(seconds=5), succeeded=False,
                          permanent=permanent, attempts=1 if permanent else 4)
        assert await h.reconcile() == "Failed"
        await h.reconcile()  # the failure is counted once, not per reconcile

    run(scenario)
    assert sample("preboarding_stage_failures_total", stage="script", reason=reason) == before + 1
    assert sample("preboarding_stage_failures_total", stage="script", reason=other) == other_before
    assert h.stage(Stage.SCRIPT)["message"] == message
    failed = [e for e in h.kube.events if e.reason == "StageFailed"]
    assert [(e.type, e.message) for e in failed] == [("Warning", f"Stage script failed: {message}")]


def test_a_later_failure_is_counted_for_its_own_stage(tmp_path: Path) -> None:
    """Audio failed earlier and the video is Failed; slides failing next counts for slides, not audio."""
    h = Harness(tmp_path)
    h.kube.add_video(video_body())
    audio_before = sample("preboarding_stage_failures_total", stage="audio", reason="exhausted")
    slides_before = sample("preboarding_stage_failures_total", stage="slides", reason="permanent")

    async def scenario() -> None:
        await h.reconcile()
        script = h.job_of(Stage.SCRIPT)
        h.kube.finish_job(NS, script, h.started_at(Stage.SCRIPT) + dt.timedelta(seconds=1))
        await h.reconcile()
        at = h.started_at(Stage.AUDIO) + dt.timedelta(seconds=4)
        h.kube.finish_job(NS, h.job_of(Stage.AUDIO), at, succeeded=False, attempts=4)
        assert await h.reconcile() == "Failed"
        h.kube.finish_job(NS, h.job_of(Stage.SLIDES), at, succeeded=False, permanent=True)
        assert await h.reconcile() == "Failed"

    run(scenario)
    assert sample("preboarding_stage_failures_total", stage="audio", reason="exhausted") == audio_before + 1
    assert sample("preboarding_stage_failures_total", stage="slides", reason="permanent") == slides_before + 1


def test_succeeded_stage_observes_its_duration(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.kube.add_video(video_body())
    count_before = sample("preboarding_stage_duration_seconds_count", stage="script")
    sum_before = sample("preboarding_stage_duration_seconds_sum", stage="script")

    async def scenario() -> None:
        await h.reconcile()
        script, started = h.job_of(Stage.SCRIPT), h.started_at(Stage.SCRIPT)
        h.kube.start_job(NS, script, started)
        h.kube.finish_job(NS, script, started + dt.timedelta(seconds=3))
        await h.reconcile()
        await h.reconcile()  # observed once, not per reconcile

    run(scenario)
    assert sample("preboarding_stage_duration_seconds_count", stage="script") == count_before + 1
    assert sample("preboarding_stage_duration_seconds_sum", stage="script") == pytest.approx(sum_before + 3.0)
    assert h.stage(Stage.SCRIPT)["durationSeconds"] == 3.0
    assert "Stage script succeeded in 3.0s" in [e.message for e in h.kube.events]


def test_a_video_that_is_gone_is_left_alone(tmp_path: Path) -> None:
    h = Harness(tmp_path)

    async def scenario() -> None:
        assert await h.reconcile("never-created") is None

    run(scenario)
    assert h.kube.created_jobs == [] and h.kube.status_patches == [] and h.kube.events == []


def test_the_status_patch_never_touches_the_bridges_delivery_counts() -> None:
    """A merge patch without ``delivery`` leaves the watch page's view counts as they are."""
    from preboarding.api.models import DeliveryStatus, OnboardingVideoStatus
    from preboarding.operator.reconciler import _status_patch

    read = OnboardingVideoStatus(phase="Running", delivery=DeliveryStatus(views=3, state="Opened"))
    patch = _status_patch(OnboardingVideoStatus(phase="Succeeded", delivery=DeliveryStatus(views=3, state="Opened")),
                          read)
    assert "delivery" not in patch and patch["phase"] == "Succeeded" and patch["stage"] is None


def test_the_status_patch_carries_only_the_delivery_fields_the_plan_changed() -> None:
    from preboarding.api.models import DeliveryStatus, OnboardingVideoStatus
    from preboarding.operator.reconciler import _status_patch

    at = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
    read = OnboardingVideoStatus(delivery=DeliveryStatus(state="Scheduled", scheduled_at=at, views=2,
                                                         message_id="<old@x>"))
    planned = OnboardingVideoStatus(delivery=DeliveryStatus(state="Sent", scheduled_at=at, sent_at=at, views=2,
                                                            sends=1, message_id=None))
    assert _status_patch(planned, read)["delivery"] == {"state": "Sent", "sentAt": "2027-01-04T09:00:00Z",
                                                         "sends": 1, "messageId": None}
