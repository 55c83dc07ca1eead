"""The failure mail: whom it goes to and what it says (no mail server: an in-memory sender)."""

from __future__ import annotations

from pathlib import Path

import pytest

from preboarding.api.models import OnboardingVideoSpec
from preboarding.renderer.alert import build_failure_email, recipients, run_alert
from preboarding.renderer.mail import Email
from preboarding.renderer.settings import RendererSettings
from preboarding.renderer.stages import VideoWork
from preboarding.storage import LocalStore

pytestmark = pytest.mark.unit

FIX = 'kubectl annotate ov welcome-priya -n hr preboarding.dev/retry="$(date +%s)" --overwrite'
KEYS = "k1:" + "s" * 40


class Captured:
    provider = "captured"

    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> str:
        self.sent.append(email)
        return f"<{len(self.sent)}@test>"


def work(tmp_path: Path, spec: OnboardingVideoSpec, **settings: object) -> tuple[VideoWork, Captured]:
    sender = Captured()
    values: dict[str, object] = {"mail_from": "Preboarding <onboarding@northwind.example>", "admin_email": None}
    return VideoWork(LocalStore(tmp_path), "hr/welcome-priya/uid-1/", spec, RendererSettings(**(values | settings)),
                     tmp_path / "work", sender=sender), sender


def test_the_admin_and_the_hr_contact_each_get_one(tmp_path: Path, spec: OnboardingVideoSpec) -> None:
    spec = spec.model_copy(update={"delivery": spec.delivery.model_copy(update={"hr_contact": "people@example.com"})})
    job, sender = work(tmp_path, spec, admin_email="it@example.com")
    assert recipients(job) == ["it@example.com", "people@example.com"]
    assert run_alert(job, video="welcome-priya", about="audio", reason="permanent failure: no voice", fix=FIX) == [
        "<1@test>", "<2@test>"]
    assert [m.to for m in sender.sent] == ["it@example.com", "people@example.com"]
    assert sender.sent[0].subject == "Preboarding: the audio stage failed for Priya Raman"


def test_nobody_configured_sends_nothing(tmp_path: Path, spec: OnboardingVideoSpec) -> None:
    job, sender = work(tmp_path, spec)
    assert run_alert(job, video="welcome-priya", about="audio", reason="x", fix=FIX) == [] and sender.sent == []


def test_the_mail_names_the_hire_the_reason_the_fix_and_for_a_lost_email_the_link(
        tmp_path: Path, spec: OnboardingVideoSpec) -> None:
    job, sender = work(tmp_path, spec, admin_email="it@example.com", watch_url="https://welcome.example.com",
                       watch_keys=KEYS, video_uid="0b8f6a52-4c1e-4f3a-9d2e-5a7c1b3e9f10")
    run_alert(job, video="welcome-priya", about="delivery", fix=FIX.replace("retry", "resend"),
              reason="the welcome email bounced")
    [mail] = sender.sent
    assert "Priya Raman <priya.raman@example.com>" in mail.text and "E-10442" in mail.text
    assert "Why: the welcome email bounced" in mail.text and "preboarding.dev/resend" in mail.text
    assert "https://welcome.example.com/watch/v1." in mail.text  # to pass on by hand
    other = build_failure_email(job, "it@example.com", video="welcome-priya", about="slides", reason="r",
                                fix=FIX, link=None)
    assert "POST https://welcome.example.com/jobs/welcome-priya/retry" in other.text
    assert "/watch/" not in other.text
