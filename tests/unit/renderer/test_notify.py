"""The notify stage's link: the bridge's watch page when one is configured, else a presigned MP4."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.watch import WatchKeys, verify
from preboarding.renderer.mail import Email
from preboarding.renderer.settings import RendererSettings
from preboarding.renderer.stages import VideoWork, run_notify
from preboarding.storage import LocalStore

pytestmark = pytest.mark.unit

UID = "0f9a3c2e-5b1d-4e8f-a7c6-d5e4f3a2b1c0"
KEYS = "k1:" + "n" * 40


class CapturingSender:
    provider = "capture"

    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> str:
        self.sent.append(email)
        return f"<msg-{len(self.sent)}@test>"


def notify(tmp_path: Path, spec: OnboardingVideoSpec, **settings: object) -> tuple[Email, dict[str, object]]:
    store = LocalStore(tmp_path / "store")
    store.put_bytes("hr/v/u/video.mp4", b"mp4", "video/mp4")
    sender = CapturingSender()
    work = VideoWork(store, "hr/v/u/", spec, RendererSettings(**settings), tmp_path / "work", sender)  # type: ignore[arg-type]
    outcome = run_notify(work)
    [email] = sender.sent
    return email, outcome.usage


def test_with_a_watch_page_the_email_links_to_it_until_thirty_days_after_the_start_at_least(
        tmp_path: Path, spec: OnboardingVideoSpec) -> None:
    email, usage = notify(tmp_path, spec, watch_url="https://onboarding.acme.example/", watch_keys=SecretStr(KEYS),
                          video_uid=UID)
    [link] = {word for word in email.text.split() if word.startswith("https://onboarding.acme.example/watch/")}
    token = link.rsplit("/", 1)[1]
    claim = verify(WatchKeys.parse(KEYS), token, dt.datetime.now(dt.UTC))
    assert claim.uid == UID
    after_start = spec.employee.start_date + dt.timedelta(days=30)
    after_sending = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).date()
    assert claim.expires_at.date() in {max(after_start, after_sending), after_sending + dt.timedelta(days=1)}
    assert spec.employee.id not in token and "video.mp4" not in email.text
    assert f"{link}/poster.jpg" in email.html
    assert usage["link"] == "watch"


def test_without_a_watch_page_the_email_carries_a_presigned_link(tmp_path: Path, spec: OnboardingVideoSpec) -> None:
    email, usage = notify(tmp_path, spec, video_uid=UID)
    assert "video.mp4" in email.text and "/watch/" not in email.text
    assert usage["link"] == "presigned"


def test_bad_watch_keys_stop_the_renderer_at_start_without_quoting_them() -> None:
    with pytest.raises(ValidationError, match="at least 32") as error:
        RendererSettings(watch_keys=SecretStr("k1:tooshort"))
    assert "tooshort" not in str(error.value)
