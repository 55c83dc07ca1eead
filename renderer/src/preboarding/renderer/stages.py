"""The five stages as functions of (store, prefix, spec), plus the runner that makes them idempotent.

Each stage reads its inputs from the store and writes its outputs there, under the video's prefix,
then a record (``records/<stage>.json``). A rerun whose record already carries the current inputs
digest does nothing, so a retried or duplicated Job never renders, or emails, twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from preboarding.api import fields
from preboarding.api.inputs import stage_inputs_hashes
from preboarding.api.layout import (
    CAPTIONS_KEY,
    INPUT_KEY,
    MIX_KEY,
    SCRIPT_KEY,
    THUMBNAIL_KEY,
    TIMELINE_KEY,
    VIDEO_KEY,
    record_key,
    segment_key,
    slide_key,
)
from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.records import SlideRef, StageRecord
from preboarding.api.stages import STAGE_DEPENDENCIES, Stage
from preboarding.api.watch import WatchKeyError, WatchKeys, link_expiry, mint
from preboarding.renderer import audio, compose, logo, mail
from preboarding.renderer.captions import build_webvtt
from preboarding.renderer.errors import InvalidInput, PermanentFailure, StageError
from preboarding.renderer.llm import OpenAIWriter
from preboarding.renderer.logo import LogoPolicy
from preboarding.renderer.script import Script, TemplateWriter
from preboarding.renderer.settings import RendererSettings
from preboarding.renderer.slides import render_slides
from preboarding.renderer.voices import GOOGLE_USD_PER_MILLION_CHARS, make_synthesizer
from preboarding.storage import ObjectNotFound, Store

log = logging.getLogger("preboarding.renderer")


@dataclass
class VideoWork:
    """Everything a stage needs: where the video lives, what it is, and how to reach providers."""

    store: Store
    prefix: str
    spec: OnboardingVideoSpec
    settings: RendererSettings
    workdir: Path
    sender: mail.Sender | None = None  # None: the configured mail provider
    run: int = 1  # the operator's run of the stage: a record of an earlier run does not count as done

    def key(self, name: str) -> str:
        return self.prefix + name

    def fetch(self, name: str, path: Path | None = None) -> Path:
        """Download one of the video's objects into the work folder."""
        target = path or self.workdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.store.get_file(self.key(name), target)
        except ObjectNotFound as exc:
            raise PermanentFailure(f"{name} is missing from the store", reason="MissingInput") from exc
        return target


@dataclass
class Outcome:
    """What a stage function returns; the runner turns it into the stage's record."""

    provider: str
    outputs: list[str]
    usage: dict[str, Any] = field(default_factory=dict)
    cost_usd: float | None = 0.0
    slides: list[SlideRef] = field(default_factory=list)


def spec_from_document(doc: Any) -> OnboardingVideoSpec:
    """The spec from an input document (an OnboardingVideo resource); errors name the field."""
    try:
        return OnboardingVideoSpec.model_validate((doc or {}).get("spec") if isinstance(doc, dict) else None)
    except ValidationError as exc:
        raise InvalidInput(fields.summary(exc, "spec")) from exc


def load_spec(store: Store, prefix: str) -> OnboardingVideoSpec:
    try:
        raw = store.get_bytes(prefix + INPUT_KEY)
    except ObjectNotFound as exc:
        raise InvalidInput(f"{prefix}{INPUT_KEY} is missing: the operator writes it before the first Job") from exc
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"{prefix}{INPUT_KEY} is not valid JSON: {exc}") from exc
    return spec_from_document(doc)


# -- the stages --------------------------------------------------------------------------------


def run_script(work: VideoWork) -> Outcome:
    usage: dict[str, Any] = {}
    cost: float | None = 0.0
    if work.settings.chosen_script_provider() == "openai":
        writer = OpenAIWriter(work.settings)
        script = writer.write(work.spec)
        usage = {"promptTokens": writer.usage.prompt_tokens, "completionTokens": writer.usage.completion_tokens,
                 "attempts": writer.usage.attempts, "model": writer.model}
        cost = writer.usage.cost_usd(writer.model)
        provider = writer.provider
    else:
        script = TemplateWriter().write(work.spec)
        provider = TemplateWriter.provider
    usage |= {"lines": len(script.lines), "words": script.words(), "characters": sum(len(x.text) for x in script.lines)}
    work.store.put_bytes(work.key(SCRIPT_KEY), script.model_dump_json(indent=2).encode(), "application/json")
    return Outcome(provider, [SCRIPT_KEY], usage, cost)


def load_script(work: VideoWork) -> Script:
    try:
        return Script.model_validate_json(work.store.get_bytes(work.key(SCRIPT_KEY)))
    except ObjectNotFound as exc:
        raise PermanentFailure(f"{SCRIPT_KEY} is missing from the store", reason="MissingInput") from exc
    except ValidationError as exc:
        raise InvalidInput(f"{SCRIPT_KEY} is invalid: {fields.summary(exc)}") from exc


def run_audio(work: VideoWork) -> Outcome:
    script = load_script(work)
    synth = make_synthesizer(work.settings)
    overrides = {"Alex": work.spec.voices.alex, "Jordan": work.spec.voices.jordan}
    voices = {speaker: synth.voice_for(speaker, overrides[speaker]) for speaker in ("Alex", "Jordan")}  # type: ignore[arg-type]
    clips = audio.synthesize_lines(script, synth, voices, work.settings.tts_concurrency)
    timeline, pcm = audio.build_timeline(script, clips, voices)
    wav, m4a = work.workdir / "mix.wav", work.workdir / "mix.m4a"
    audio.write_wav(pcm, wav)
    loudness = audio.normalize_to_aac(wav, m4a)
    outputs = []
    for i, clip in enumerate(clips):
        seg = work.workdir / f"segment-{i:03d}.wav"
        audio.write_wav(clip, seg)
        name = segment_key(i)
        work.store.put_file(work.key(name), seg, "audio/wav")
        outputs.append(name)
    work.store.put_file(work.key(MIX_KEY), m4a, "audio/mp4")
    work.store.put_bytes(work.key(TIMELINE_KEY), timeline.to_json(), "application/json")
    chars = sum(len(line.text) for line in script.lines)
    cost = round(chars * GOOGLE_USD_PER_MILLION_CHARS / 1e6, 6) if synth.provider == "google" else 0.0
    usage = {"characters": chars, "segments": len(clips), "seconds": timeline.duration, "voices": voices,
             "inputLUFS": loudness}
    return Outcome(synth.provider, [MIX_KEY, TIMELINE_KEY, *outputs], usage, cost)


def fetch_logo(work: VideoWork) -> bytes | None:
    """The company logo, if any; a logo that is refused or cannot be fetched is left out, never a failure."""
    url = work.spec.company.logo_url
    if url is None:
        return None
    policy = LogoPolicy(max_bytes=work.settings.logo_max_bytes, timeout_seconds=work.settings.logo_timeout_seconds,
                        allow_private_networks=work.settings.logo_allow_private_networks)
    try:
        return logo.fetch_logo(str(url), policy)
    except logo.LogoRefused as exc:
        log.warning("logo not fetched, rendering without it: %s", exc)
        return None


def run_slides(work: VideoWork) -> Outcome:
    folder = work.workdir / "slides"
    rendered = render_slides(work.spec, folder, logo_bytes=fetch_logo(work))
    # Compose shows exactly these, in this order: slides left over from an earlier spec never appear.
    refs = []
    for position, slide in enumerate(rendered, start=1):
        ref = SlideRef(key=slide_key(position, slide.section), section=slide.section)
        work.store.put_file(work.key(ref.key), slide.path, "image/png")
        refs.append(ref)
    return Outcome("pillow", [r.key for r in refs], {"slides": len(refs)}, slides=refs)


def run_compose(work: VideoWork) -> Outcome:
    slides_record = read_record(work, Stage.SLIDES)
    slides = [(ref.section, work.fetch(ref.key)) for ref in (slides_record.slides if slides_record else [])]
    mix = work.fetch(MIX_KEY)
    timeline = audio.Timeline.from_json(work.fetch(TIMELINE_KEY).read_bytes())
    captions = work.workdir / CAPTIONS_KEY
    captions.write_text(build_webvtt(timeline.segments), encoding="utf-8")
    spans = compose.slide_spans(slides, timeline)
    video, thumb = work.workdir / VIDEO_KEY, work.workdir / THUMBNAIL_KEY
    compose.compose_video(spans, mix, captions, video)
    compose.make_thumbnail(spans[0].path, thumb)
    work.store.put_file(work.key(VIDEO_KEY), video, "video/mp4")
    work.store.put_file(work.key(THUMBNAIL_KEY), thumb, "image/jpeg")
    work.store.put_file(work.key(CAPTIONS_KEY), captions, "text/vtt")
    usage = {"seconds": timeline.duration, "bytes": video.stat().st_size, "slides": len(spans)}
    return Outcome("ffmpeg", [VIDEO_KEY, THUMBNAIL_KEY, CAPTIONS_KEY], usage)


def watch_link(work: VideoWork) -> tuple[str, str | None, dt.datetime] | None:
    """The watch page's link, a poster through it, and when the link ends; None without a watch page.

    The token binds the resource's uid (never employee data) and lives until ``linkValidDays`` after the
    start date; the page presigns fresh short-lived URLs on every visit (``preboarding.api.watch``).
    """
    settings = work.settings
    if not (settings.watch_url and settings.watch_keys and settings.video_uid):
        return None
    try:
        keys = WatchKeys.parse(settings.watch_keys.get_secret_value())
    except WatchKeyError as exc:
        raise PermanentFailure(f"PREBOARDING_WATCH_KEYS: {exc}", reason="InvalidSettings") from None
    expires_at = link_expiry(work.spec.employee.start_date, work.spec.delivery.link_valid_days,
                             dt.datetime.now(dt.UTC))
    page = f"{settings.watch_url.rstrip('/')}/watch/{mint(keys, settings.video_uid, expires_at)}"
    return page, f"{page}/poster.jpg", expires_at


def run_notify(work: VideoWork) -> Outcome:
    spec, settings = work.spec, work.settings
    if not work.store.exists(work.key(VIDEO_KEY)):
        raise PermanentFailure(f"{VIDEO_KEY} is missing from the store", reason="MissingInput")
    watch = watch_link(work)
    if watch is not None:
        link, thumbnail, expires_at = watch
    else:  # no watch page configured: a direct presigned link, at most 7 days (SigV4)
        expiry = dt.timedelta(hours=spec.delivery.link_expiry_hours)
        link = work.store.presigned_get_url(work.key(VIDEO_KEY), expiry)
        expires_at = dt.datetime.now(dt.UTC) + expiry
        thumbnail = (work.store.presigned_get_url(work.key(THUMBNAIL_KEY), expiry)
                     if work.store.exists(work.key(THUMBNAIL_KEY)) else None)
    sender = work.sender or mail.make_sender(settings)
    email = mail.build_welcome_email(spec, link, expires_at, settings.mail_from, thumbnail, settings.video_uid)
    # A permanent failure fails the Job; the operator then runs `preboarding alert`, which mails the
    # administrator (and HR contact) once, with this link to pass on.
    message_id = sender.send(email)
    usage = {"messageId": message_id, "linkExpiresAt": expires_at.isoformat(timespec="seconds"),
             "link": "watch" if watch is not None else "presigned"}
    return Outcome(sender.provider, [], usage)


STAGE_FUNCTIONS: dict[Stage, Callable[[VideoWork], Outcome]] = {
    Stage.SCRIPT: run_script,
    Stage.AUDIO: run_audio,
    Stage.SLIDES: run_slides,
    Stage.COMPOSE: run_compose,
    Stage.NOTIFY: run_notify,
}


# -- the runner --------------------------------------------------------------------------------


def read_record(work: VideoWork, stage: Stage) -> StageRecord | None:
    """The stage's last record; None when there is none or it does not parse (the stage then runs)."""
    try:
        return StageRecord.model_validate_json(work.store.get_bytes(work.key(record_key(stage))))
    except (ObjectNotFound, ValidationError):
        return None


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def is_done(work: VideoWork, record: StageRecord | None, inputs_hash: str) -> bool:
    """Whether ``record`` says the stage succeeded for these inputs and its outputs are all still there."""
    return bool(
        record
        and record.state == "Succeeded"
        and record.inputs_hash == inputs_hash
        and all(work.store.exists(work.key(name)) for name in record.outputs)
    )


@dataclass(frozen=True)
class StageRun:
    """A stage's record, and whether this call did the work or found it done for these inputs."""

    record: StageRecord
    skipped: bool


def run_stage(stage: Stage, work: VideoWork) -> StageRun:
    """Run one stage unless it already ran for these inputs; write and return its record."""
    hashes = stage_inputs_hashes(work.spec)
    previous = read_record(work, stage)
    if previous is not None and previous.run >= work.run and is_done(work, previous, hashes[stage]):
        log.info("stage %s already done for these inputs; nothing to do", stage.value)
        return StageRun(previous, skipped=True)
    for dependency in STAGE_DEPENDENCIES[stage]:
        if not is_done(work, read_record(work, dependency), hashes[dependency]):
            raise PermanentFailure(f"stage {dependency.value} has not finished for the current spec",
                                   reason="UpstreamNotReady")
    wall0, cpu0 = time.perf_counter(), _cpu_seconds()
    record = StageRecord(stage=stage, state="Failed", inputs_hash=hashes[stage], run=work.run, started_at=_now())
    try:
        outcome = STAGE_FUNCTIONS[stage](work)
    except StageError as exc:
        record.reason, record.message, record.exit_code = exc.reason, str(exc), exc.exit_code
        raise
    except Exception as exc:  # a bug or an unclassified error: recorded, then the Job fails (retried)
        record.reason, record.message = "InternalError", f"{exc.__class__.__name__}: {exc}"
        raise
    else:
        record.state, record.provider, record.outputs = "Succeeded", outcome.provider, outcome.outputs
        record.usage, record.estimated_cost_usd, record.slides = outcome.usage, outcome.cost_usd, outcome.slides
    finally:
        record.finished_at = _now()
        record.duration_seconds = round(time.perf_counter() - wall0, 3)
        record.cpu_seconds = round(_cpu_seconds() - cpu0, 3)
        work.store.put_bytes(work.key(record_key(stage)), record.to_json(), "application/json")
    log.info("stage %s succeeded in %.2fs with %s", stage.value, record.duration_seconds, outcome.provider)
    return StageRun(record, skipped=False)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
