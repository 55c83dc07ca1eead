from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from preboarding.api.models import OnboardingVideoSpec
from preboarding.renderer.mail import OutboxSender, build_welcome_email, to_mime
from preboarding.renderer.palette import contrast_ratio, derive_palette

LINK = "https://media.example.com/bucket/ns/v/uid/video.mp4?X-Amz-Signature=abc&X-Amz-Expires=604800"
EXPIRES = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def test_welcome_email_is_personal_with_both_parts(spec: OnboardingVideoSpec) -> None:
    email = build_welcome_email(spec, LINK, EXPIRES, "Northwind <hr@example.com>")
    assert email.to == "priya.raman@example.com"
    assert "Priya" in email.subject and "Northwind Labs" in email.subject
    for part in (email.text, email.html):
        assert "Priya" in part and "Backend Engineer" in part and "Marcus Holt" in part
        assert "01 December 2026, 09:30 UTC" in part
    assert LINK in email.text
    assert LINK.replace("&", "&amp;") in email.html  # the link survives HTML escaping
    assert derive_palette("#0F766E").accent in email.html


def test_the_thumbnail_opens_the_video(spec: OnboardingVideoSpec) -> None:
    thumb = "https://media.example.com/b/thumbnail.jpg?X-Amz-Signature=1&a=<b>"
    email = build_welcome_email(spec, LINK, EXPIRES, "hr@example.com", thumbnail=thumb)
    escaped = thumb.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f'<a href="{LINK.replace("&", "&amp;")}"><img src="{escaped}"' in email.html
    assert "<img" not in build_welcome_email(spec, LINK, EXPIRES, "hr@example.com").html


def test_html_escapes_employee_data(spec: OnboardingVideoSpec) -> None:
    e = spec.employee.model_copy(update={"name": "<script>alert(1)</script> & Co", "role": 'Dev "ops" <b>'})
    email = build_welcome_email(spec.model_copy(update={"employee": e}), LINK, EXPIRES, "hr@example.com")
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "<b>" not in email.html and "&quot;ops&quot;" in email.html


def test_button_colours_are_readable_for_any_brand(spec: OnboardingVideoSpec) -> None:
    for colour in ("#FFFF00", "#FFFFFF", "#000000", "#777777", "#0F766E"):
        p = derive_palette(colour)
        assert contrast_ratio(p.accent, p.on_accent) >= 4.5


def test_mime_is_multipart_alternative(spec: OnboardingVideoSpec, tmp_path: Path) -> None:
    email = build_welcome_email(spec, LINK, EXPIRES, "Northwind <hr@example.com>")
    path = Path(OutboxSender(tmp_path, "email.eml").send(email))
    msg = message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(msg, EmailMessage)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["To"] == "Priya Raman <priya.raman@example.com>"
    assert msg["Message-ID"].endswith("@example.com>")
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and LINK in plain.get_content()
    assert html is not None and "Watch your welcome video" in html.get_content()
    assert bytes(to_mime(email))  # serializable with non-ASCII names too
