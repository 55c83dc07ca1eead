"""``preboarding stage`` (what a stage Job runs) and ``preboarding render`` (all stages, locally)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from preboarding.api.stages import EXIT_INVALID_INPUT, EXIT_PERMANENT, EXIT_RETRYABLE, STAGES

if TYPE_CHECKING:
    from preboarding.renderer.settings import RendererSettings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    stage = subparsers.add_parser("stage", help="run one pipeline stage for one OnboardingVideo (Job entry point)")
    stage.add_argument("name", choices=[s.value for s in STAGES], help="the stage to run")
    stage.add_argument("--video", required=True, metavar="NAMESPACE/NAME", help="the OnboardingVideo")
    stage.add_argument("--uid", help="its metadata.uid (default: $PREBOARDING_VIDEO_UID)")
    stage.add_argument("--run", type=int, default=1, help="the operator's run of the stage (a retry or resend: 2+)")
    stage.set_defaults(handler=_stage)

    alert = subparsers.add_parser("alert", help="mail the administrator and HR contact about a failure (Job entry)")
    alert.add_argument("--video", required=True, metavar="NAMESPACE/NAME", help="the OnboardingVideo")
    alert.add_argument("--uid", help="its metadata.uid (default: $PREBOARDING_VIDEO_UID)")
    alert.add_argument("--about", required=True, help='what failed: a stage name or "delivery"')
    alert.add_argument("--reason", required=True, help="why, as the video's status says")
    alert.add_argument("--fix", required=True, help="the command that retries or resends")
    alert.set_defaults(handler=_alert)

    render = subparsers.add_parser("render", help="render a video from an HR payload locally, no cluster needed")
    render.add_argument("payload", type=Path, help="the new-hire JSON (as HR sends it) or an OnboardingVideo")
    render.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: %(default)s)")
    render.set_defaults(handler=_render)


def _setup(log_format: str, level: str) -> None:
    from preboarding.logs import configure_logging

    if log_format == "auto":
        log_format = "text" if sys.stderr.isatty() else "json"
    configure_logging(level, log_format)


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _settings() -> RendererSettings:
    """The renderer's settings; a bad variable is named and exits 3 (permanent: retrying cannot help)."""
    from pydantic import ValidationError

    from preboarding.api.fields import describe_settings_error
    from preboarding.renderer.settings import RendererSettings

    try:
        return RendererSettings()
    except ValidationError as exc:
        print(describe_settings_error(exc, "renderer"), file=sys.stderr)
        raise SystemExit(EXIT_PERMANENT) from exc


def _stage(args: argparse.Namespace) -> int:
    import tempfile

    from preboarding.api.layout import video_prefix
    from preboarding.api.stages import Stage
    from preboarding.renderer.errors import StageError
    from preboarding.renderer.stages import VideoWork, load_spec, run_stage
    from preboarding.storage import S3Store, StoreSettings, StoreUnavailable

    settings = _settings()
    _setup(settings.log_format, settings.log_level)
    namespace, _, name = args.video.partition("/")
    uid = args.uid or settings.video_uid
    if not namespace or not name:
        return _fail("--video must be NAMESPACE/NAME", EXIT_INVALID_INPUT)
    if not uid:
        return _fail("the video's uid is needed: --uid or PREBOARDING_VIDEO_UID", EXIT_INVALID_INPUT)
    prefix = video_prefix(namespace, name, uid)
    try:
        store = S3Store(StoreSettings())
        with tempfile.TemporaryDirectory(prefix=f"preboarding-{args.name}-") as tmp:
            work = VideoWork(store, prefix, load_spec(store, prefix), settings, Path(tmp), run=max(1, args.run))
            run = run_stage(Stage(args.name), work)
    except StageError as exc:
        return _fail(f"{args.name}: {exc.reason}: {exc}", exc.exit_code)
    except StoreUnavailable as exc:
        return _fail(f"{args.name}: StoreUnavailable: {exc}", EXIT_RETRYABLE)
    print(json.dumps({"stage": args.name, "state": run.record.state, "provider": run.record.provider,
                      "durationSeconds": run.record.duration_seconds, "skipped": run.skipped}))
    return 0


def _alert(args: argparse.Namespace) -> int:
    import tempfile

    from preboarding.api.layout import video_prefix
    from preboarding.renderer.alert import run_alert
    from preboarding.renderer.errors import StageError
    from preboarding.renderer.stages import VideoWork, load_spec
    from preboarding.storage import S3Store, StoreSettings, StoreUnavailable

    settings = _settings()
    _setup(settings.log_format, settings.log_level)
    namespace, _, name = args.video.partition("/")
    uid = args.uid or settings.video_uid
    if not namespace or not name or not uid:
        return _fail("--video NAMESPACE/NAME and --uid (or PREBOARDING_VIDEO_UID) are needed", EXIT_INVALID_INPUT)
    if settings.video_uid is None:
        settings = settings.model_copy(update={"video_uid": uid})
    prefix = video_prefix(namespace, name, uid)
    try:
        store = S3Store(StoreSettings())
        with tempfile.TemporaryDirectory(prefix="preboarding-alert-") as tmp:
            work = VideoWork(store, prefix, load_spec(store, prefix), settings, Path(tmp))
            sent = run_alert(work, video=name, about=args.about, reason=args.reason, fix=args.fix)
    except StageError as exc:
        return _fail(f"alert: {exc.reason}: {exc}", exc.exit_code)
    except StoreUnavailable as exc:
        return _fail(f"alert: StoreUnavailable: {exc}", EXIT_RETRYABLE)
    print(json.dumps({"alert": args.about, "sent": len(sent)}))
    return 0


def _render(args: argparse.Namespace) -> int:
    from preboarding.renderer.errors import StageError
    from preboarding.renderer.local import load_payload, render_locally

    settings = _settings()
    _setup("text", settings.log_level)
    try:
        spec = load_payload(args.payload)
    except StageError as exc:
        return _fail(str(exc), exc.exit_code)
    try:
        result = render_locally(spec, args.out, settings)
    except StageError as exc:
        return _fail(f"{exc.reason}: {exc}", exc.exit_code)
    print(result.summary())
    return 0
