"""What a stage writes about its run: ``records/<stage>.json`` under the video's prefix.

A *record* is this document and nothing else (the resource's ``status.stages[]`` entries are
``StageStatus``). The renderer writes one per stage run and reads it back to make reruns idempotent
(a record that carries the current inputs digest and whose outputs exist means "already done");
compose reads the slides record to know which slides to show, in which order, for which section.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from preboarding.api.models import ApiModel
from preboarding.api.stages import Stage

RecordState = Literal["Succeeded", "Failed"]


class SlideRef(ApiModel):
    """One rendered slide: where it is stored and which script section it illustrates."""

    key: str = Field(description="Key relative to the video's prefix, e.g. slides/02-team.png.")
    section: str = Field(description='The script section the slide is shown for, e.g. "team".')


class StageRecord(ApiModel):
    """One run of one stage, as the renderer recorded it."""

    stage: Stage
    state: RecordState
    inputs_hash: str = Field(description="Digest of the spec fields the stage read (preboarding.api.inputs).")
    run: int = Field(default=1, ge=1, description="The operator's run of the stage (a retry or a resend adds one).")
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    duration_seconds: float | None = None
    cpu_seconds: float | None = None
    provider: str | None = Field(default=None, description='Who did the work: "openai", "flite", "ffmpeg", ...')
    outputs: list[str] = Field(
        default_factory=list, description="Keys the stage wrote, relative to the video's prefix."
    )
    slides: list[SlideRef] = Field(default_factory=list, description="The slides stage's slides, in order.")
    usage: dict[str, Any] = Field(default_factory=dict, description="Provider usage: tokens, characters, ...")
    estimated_cost_usd: float | None = Field(default=None, alias="estimatedCostUSD")
    reason: str | None = Field(default=None, description="CamelCase reason of a failure.")
    message: str | None = None
    exit_code: int | None = None

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=True, indent=2).encode()
