"""``preboarding render``: every stage in one process, a local folder as the store, email to a file."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from preboarding.api import fields
from preboarding.api.inputs import input_document
from preboarding.api.layout import CAPTIONS_KEY, INPUT_KEY, VIDEO_KEY
from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.payload import NewHirePayload, payload_to_spec
from preboarding.api.records import StageRecord
from preboarding.api.stages import Stage, planned_stages
from preboarding.renderer.errors import InvalidInput
from preboarding.renderer.mail import OutboxSender
from preboarding.renderer.settings import RendererSettings
from preboarding.renderer.stages import VideoWork, run_stage, spec_from_document
from preboarding.storage import LocalStore

EMAIL_FILE = "email.eml"


def load_payload(path: Path) -> OnboardingVideoSpec:
    """An HR payload (``examples/new-hire.json``) or an OnboardingVideo document, as a spec."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc}") from exc
    if isinstance(doc, dict) and "spec" in doc:
        return spec_from_document(doc)
    try:
        return payload_to_spec(NewHirePayload.model_validate(doc))
    except ValidationError as exc:
        raise InvalidInput(f"{path}: {fields.summary(exc)}") from exc


@dataclass
class RenderResult:
    out: Path
    records: dict[Stage, StageRecord] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"{'stage':<8} {'provider':<10} {'wall s':>7} {'cpu s':>7}"]
        for stage, rec in self.records.items():
            lines.append(f"{stage.value:<8} {rec.provider or '':<10} {rec.duration_seconds or 0:>7.2f} "
                         f"{rec.cpu_seconds or 0:>7.2f}")
        compose = self.records.get(Stage.COMPOSE)
        video_seconds = compose.usage.get("seconds", 0) if compose else 0
        lines.append(f"rendered {video_seconds:.1f} s of video in {self.seconds:.1f} s")
        lines.append(f"video:    {self.out / VIDEO_KEY}")
        lines.append(f"captions: {self.out / CAPTIONS_KEY}")
        lines.append(f"email:    {self.out / EMAIL_FILE}")
        return "\n".join(lines)


def render_locally(spec: OnboardingVideoSpec, out: Path, settings: RendererSettings) -> RenderResult:
    """All planned stages in order, with ``out`` as the store; the email is written, not sent."""
    out.mkdir(parents=True, exist_ok=True)
    store = LocalStore(out)
    store.put_bytes(INPUT_KEY, input_document(spec), "application/json")
    work_dir = out / ".work"
    work = VideoWork(store, "", spec, settings, work_dir, sender=OutboxSender(out, EMAIL_FILE))
    result = RenderResult(out)
    started = time.perf_counter()
    for stage in planned_stages(spec):
        (work_dir / stage.value).mkdir(parents=True, exist_ok=True)
        work.workdir = work_dir / stage.value
        result.records[stage] = run_stage(stage, work).record
    result.seconds = time.perf_counter() - started
    return result
