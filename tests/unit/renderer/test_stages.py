"""The stage runner: records, idempotency, upstream checks. Stage bodies are replaced by fakes here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preboarding.api.inputs import stage_inputs_hashes
from preboarding.api.layout import INPUT_KEY, record_key
from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.stages import EXIT_INVALID_INPUT, EXIT_RETRYABLE, Stage
from preboarding.renderer import stages
from preboarding.renderer.errors import InvalidInput, PermanentFailure, RetryableFailure
from preboarding.renderer.settings import RendererSettings
from preboarding.renderer.stages import Outcome, VideoWork, load_spec, run_stage
from preboarding.storage import LocalStore

PREFIX = "ns/video/uid-1/"


@pytest.fixture
def work(tmp_path: Path, spec: OnboardingVideoSpec) -> VideoWork:
    return VideoWork(LocalStore(tmp_path / "store"), PREFIX, spec, RendererSettings(), tmp_path / "work")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Stage]:
    ran: list[Stage] = []

    def fake(stage: Stage):  # type: ignore[no-untyped-def]
        def body(work: VideoWork) -> Outcome:
            ran.append(stage)
            work.store.put_bytes(work.key(f"{stage.value}.out"), b"x")
            return Outcome("fake", [f"{stage.value}.out"], {"n": 1})
        return body

    monkeypatch.setattr(stages, "STAGE_FUNCTIONS", {s: fake(s) for s in Stage})
    return ran


def record(work: VideoWork, stage: Stage) -> dict:  # type: ignore[type-arg]
    return json.loads(work.store.get_bytes(work.key(record_key(stage))))


def test_a_stage_writes_its_record(work: VideoWork, calls: list[Stage]) -> None:
    run = run_stage(Stage.SCRIPT, work)
    assert not run.skipped
    rec = record(work, Stage.SCRIPT)
    assert rec == json.loads(run.record.to_json())
    assert rec["state"] == "Succeeded" and rec["provider"] == "fake" and rec["outputs"] == ["script.out"]
    assert rec["inputsHash"] == stage_inputs_hashes(work.spec)[Stage.SCRIPT]
    assert rec["durationSeconds"] >= 0 and rec["cpuSeconds"] >= 0


def test_a_rerun_with_the_same_inputs_does_nothing(work: VideoWork, calls: list[Stage]) -> None:
    run_stage(Stage.SCRIPT, work)
    again = run_stage(Stage.SCRIPT, work)
    assert calls == [Stage.SCRIPT]
    assert again.skipped is True


def test_changed_inputs_or_a_lost_output_run_again(work: VideoWork, calls: list[Stage]) -> None:
    run_stage(Stage.SCRIPT, work)
    work.spec = work.spec.model_copy(update={"script": work.spec.script.model_copy(update={"tone": "playful"})})
    run_stage(Stage.SCRIPT, work)
    work.store.delete_prefix(PREFIX)
    run_stage(Stage.SCRIPT, work)
    assert calls == [Stage.SCRIPT] * 3


def test_a_stage_waits_for_its_upstream_for_these_inputs(work: VideoWork, calls: list[Stage]) -> None:
    with pytest.raises(PermanentFailure, match="script has not finished"):
        run_stage(Stage.AUDIO, work)
    run_stage(Stage.SCRIPT, work)
    run_stage(Stage.AUDIO, work)
    # New voices change audio's inputs: compose must not use the old audio.
    work.spec = work.spec.model_copy(update={"voices": work.spec.voices.model_copy(update={"alex": "awb"})})
    run_stage(Stage.SLIDES, work)
    with pytest.raises(PermanentFailure, match="audio has not finished"):
        run_stage(Stage.COMPOSE, work)


def test_a_failure_is_recorded_with_its_reason(work: VideoWork, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(work: VideoWork) -> Outcome:
        raise RetryableFailure("provider 503", reason="ProviderUnavailable")

    monkeypatch.setitem(stages.STAGE_FUNCTIONS, Stage.SCRIPT, boom)
    with pytest.raises(RetryableFailure) as info:
        run_stage(Stage.SCRIPT, work)
    assert info.value.exit_code == EXIT_RETRYABLE
    rec = record(work, Stage.SCRIPT)
    assert (rec["state"], rec["reason"], rec["message"], rec["exitCode"]) == (
        "Failed", "ProviderUnavailable", "provider 503", EXIT_RETRYABLE)


def test_input_document_errors_name_the_field(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(InvalidInput, match=r"input\.json is missing"):
        load_spec(store, PREFIX)
    store.put_bytes(PREFIX + INPUT_KEY, b"{not json")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_spec(store, PREFIX)
    store.put_bytes(PREFIX + INPUT_KEY, json.dumps({"spec": {"employee": {"name": "x"}}}).encode())
    with pytest.raises(InvalidInput, match=r"spec\.employee\.id: Field required") as info:
        load_spec(store, PREFIX)
    assert info.value.exit_code == EXIT_INVALID_INPUT
