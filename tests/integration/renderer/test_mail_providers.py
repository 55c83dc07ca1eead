"""Mail providers over real protocols: SendGrid's v3 API (protocol server) and SMTP (the ground's aiosmtpd)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import html
import json
import mailbox
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from preboarding.api.inputs import stage_inputs_hashes
from preboarding.api.layout import INPUT_KEY, VIDEO_KEY, record_key
from preboarding.api.models import OnboardingVideoSpec
from preboarding.api.records import StageRecord
from preboarding.api.stages import EXIT_PERMANENT, Stage
from preboarding.renderer.alert import run_alert
from preboarding.renderer.errors import PermanentFailure, RetryableFailure
from preboarding.renderer.mail import Email, SendGridSender, SmtpSender, build_welcome_email
from preboarding.renderer.settings import RendererSettings
from preboarding.renderer.stages import VideoWork, run_stage
from preboarding.storage import LocalStore
from preboarding.testenv.ground import GroundInfo
from preboarding.testenv.processes import free_port
from tests.protocol_servers import SendGridServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

MAIL_FROM = "Northwind Labs <onboarding@northwind.example>"
ADMIN = "hr-admin@northwind.example"
LINK = ("https://media.example.com/preboarding/default/welcome-priya/uid-1/video.mp4"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=604800&X-Amz-Signature=0123abcd")
EXPIRES = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)

def new_hire(name: str = "Priya Raman", email_address: str = "priya.raman@example.com") -> OnboardingVideoSpec:
    return OnboardingVideoSpec.model_validate({
        "employee": {"id": "E-10442", "name": name, "email": email_address, "role": "Backend Engineer",
                     "team": "Payments Platform", "manager": "Marcus Holt", "buddy": "Lena Fischer",
                     "start_date": dt.date(2026, 12, 7)},
        "company": {"name": "Northwind Labs", "brand_color": "#0F766E"},
    })


def sendgrid_settings(server: SendGridServer, **overrides: Any) -> RendererSettings:
    values: dict[str, Any] = {"mail_provider": "sendgrid", "sendgrid_api_key": "SG.test",
                              "sendgrid_host": server.url, "mail_from": MAIL_FROM, "admin_email": None}
    return RendererSettings(**(values | overrides))


# --- SendGrid -----------------------------------------------------------------------------------------------------


def test_sendgrid_delivers_the_welcome_email(sendgrid_server: SendGridServer) -> None:
    welcome = build_welcome_email(new_hire(), LINK, EXPIRES, MAIL_FROM)

    message_id = SendGridSender(sendgrid_settings(sendgrid_server)).send(welcome)

    [message] = sendgrid_server.messages
    assert message_id == message.message_id
    [request] = sendgrid_server.requests
    assert request.header("authorization") == "Bearer SG.test"
    assert message.to == ["priya.raman@example.com"]
    assert message.payload["personalizations"][0]["to"][0]["name"] == "Priya Raman"
    assert message.from_email == "onboarding@northwind.example"
    assert message.payload["from"]["name"] == "Northwind Labs"
    assert message.subject == "Welcome to Northwind Labs, Priya! Your welcome video is ready"
    assert [part["type"] for part in message.payload["content"]] == ["text/plain", "text/html"]
    assert message.text is not None and message.html is not None
    assert LINK in message.text
    assert "Hi Priya," in message.text
    assert "your manager Marcus Holt and your buddy Lena Fischer" in message.text
    assert "01 December 2026, 09:30 UTC" in message.text
    # In HTML the link's & are escaped, and it is both the button and the copyable address.
    assert message.html.count(f'href="{html.escape(LINK)}"') == 2
    assert "<p>Hi Priya,</p>" in message.html


def test_sendgrid_html_escapes_names(sendgrid_server: SendGridServer) -> None:
    welcome = build_welcome_email(new_hire(name="<b>&Ana Smith"), LINK, EXPIRES, MAIL_FROM)

    SendGridSender(sendgrid_settings(sendgrid_server)).send(welcome)

    [message] = sendgrid_server.messages
    assert message.html is not None and message.text is not None
    assert "<b>&Ana" not in message.html
    assert "&lt;b&gt;&amp;Ana" in message.html
    assert "Hi <b>&Ana," in message.text  # plain text is shown as is
    assert message.payload["personalizations"][0]["to"][0]["name"] == "<b>&Ana Smith"


@pytest.mark.parametrize("status", [401, 403])
def test_sendgrid_refused_key_is_permanent(sendgrid_server: SendGridServer, status: int) -> None:
    if status == 401:
        settings = sendgrid_settings(sendgrid_server, sendgrid_api_key="SG.wrong")  # the server's own key check
    else:
        sendgrid_server.fail_next(403)
        settings = sendgrid_settings(sendgrid_server)

    with pytest.raises(PermanentFailure) as failure:
        SendGridSender(settings).send(build_welcome_email(new_hire(), LINK, EXPIRES, MAIL_FROM))

    assert failure.value.reason == "ProviderAuth"
    assert "SG.wrong" not in str(failure.value)
    assert sendgrid_server.messages == []


@pytest.mark.parametrize("status", [503, 429, 500, 502, 504])
def test_sendgrid_unavailable_is_retryable(sendgrid_server: SendGridServer, status: int) -> None:
    sendgrid_server.fail_next(status)

    with pytest.raises(RetryableFailure) as failure:
        SendGridSender(sendgrid_settings(sendgrid_server)).send(
            build_welcome_email(new_hire(), LINK, EXPIRES, MAIL_FROM))

    assert failure.value.reason == "ProviderUnavailable"
    assert len(sendgrid_server.requests) == 1
    assert sendgrid_server.messages == []


def test_sendgrid_bad_request_is_permanent_with_the_reason(sendgrid_server: SendGridServer) -> None:
    # SendGrid's own validation: an address whose domain has no dot is refused.
    bad = Email(sender=MAIL_FROM, to="priya@localhost", subject="Welcome", text="Hi", html="<p>Hi</p>")

    with pytest.raises(PermanentFailure) as failure:
        SendGridSender(sendgrid_settings(sendgrid_server)).send(bad)

    assert failure.value.reason == "MailRejected"
    assert "(400)" in str(failure.value)
    assert "Does not contain a valid address." in str(failure.value)
    assert sendgrid_server.messages == []


def test_sendgrid_unreachable_is_retryable() -> None:
    settings = RendererSettings(mail_provider="sendgrid", sendgrid_api_key=SecretStr("SG.test"),
                                sendgrid_host=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(RetryableFailure) as failure:
        SendGridSender(settings).send(build_welcome_email(new_hire(), LINK, EXPIRES, MAIL_FROM))

    assert failure.value.reason == "ProviderUnavailable"


# --- SMTP ---------------------------------------------------------------------------------------------------------


def received(ground: GroundInfo, message_id: str) -> EmailMessage:
    """The message with ``message_id`` from the ground's maildir (aiosmtpd stores it before it answers 250)."""
    box = mailbox.Maildir(ground.mail_dir, factory=None, create=False)
    found = []
    for key in box.iterkeys():
        msg = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        if msg["Message-ID"] == message_id:
            found.append(msg)
    assert len(found) == 1, f"{len(found)} messages with Message-ID {message_id}"
    return found[0]  # type: ignore[return-value]


def test_smtp_delivers_the_welcome_email(ground: GroundInfo) -> None:
    settings = RendererSettings(mail_provider="smtp", smtp_host=ground.smtp_host, smtp_port=ground.smtp_port,
                                smtp_timeout_seconds=10, mail_from=MAIL_FROM)
    welcome = build_welcome_email(new_hire(), LINK, EXPIRES, MAIL_FROM)

    message_id = SmtpSender(settings).send(welcome)

    msg = received(ground, message_id)
    assert message_id.endswith("@northwind.example>")
    assert msg["From"] == MAIL_FROM
    assert msg["To"] == "Priya Raman <priya.raman@example.com>"
    assert msg["X-RcptTo"] == "priya.raman@example.com"  # the envelope recipient, as the server saw it
    assert msg["Subject"] == welcome.subject
    assert msg.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in msg.iter_parts()] == ["text/plain", "text/html"]
    text = msg.get_body(("plain",))
    body = msg.get_body(("html",))
    assert text is not None and body is not None
    assert LINK in text.get_content()
    assert f'href="{html.escape(LINK)}"' in body.get_content()


def test_smtp_refused_connection_is_retryable() -> None:
    settings = RendererSettings(mail_provider="smtp", smtp_host="127.0.0.1", smtp_port=free_port(),
                                smtp_timeout_seconds=5)

    with pytest.raises(RetryableFailure) as failure:
        SmtpSender(settings).send(build_welcome_email(new_hire(), LINK, EXPIRES, MAIL_FROM))

    assert failure.value.reason == "ProviderUnavailable"


# --- the notify stage and its administrator fallback --------------------------------------------------------------

PREFIX = "default/welcome-priya/uid-1/"


def composed_video(tmp_path: Path, spec: OnboardingVideoSpec, settings: RendererSettings) -> VideoWork:
    """A store holding what notify needs: the input, the video, and compose's record for the current spec."""
    store = LocalStore(tmp_path / "store")
    store.put_bytes(PREFIX + INPUT_KEY, json.dumps({"spec": spec.model_dump(mode="json", by_alias=True)}).encode())
    store.put_bytes(PREFIX + VIDEO_KEY, b"\x00\x00\x00\x18ftypmp42 not really a video")
    compose_record = StageRecord(stage=Stage.COMPOSE, state="Succeeded", provider="ffmpeg",
                                 started_at=dt.datetime.now(dt.UTC),
                                 inputs_hash=stage_inputs_hashes(spec)[Stage.COMPOSE], outputs=[VIDEO_KEY])
    store.put_bytes(PREFIX + record_key(Stage.COMPOSE), compose_record.to_json())
    return VideoWork(store=store, prefix=PREFIX, spec=spec, settings=settings, workdir=tmp_path / "work")


def notify_record(work: VideoWork) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(work.store.get_bytes(PREFIX + record_key(Stage.NOTIFY)))
    return record


def test_notify_sends_once_and_records_the_message(sendgrid_server: SendGridServer, tmp_path: Path) -> None:
    work = composed_video(tmp_path, new_hire(), sendgrid_settings(sendgrid_server, admin_email=ADMIN,
                                                                  video_uid="0b8f6a52-uid"))
    link = work.store.presigned_get_url(PREFIX + VIDEO_KEY, dt.timedelta(hours=1))

    record = run_stage(Stage.NOTIFY, work).record

    [message] = sendgrid_server.messages
    assert message.to == ["priya.raman@example.com"]
    assert message.text is not None and link in message.text
    assert record.state == "Succeeded"
    assert record.provider == "sendgrid"
    assert record.usage["messageId"] == message.message_id
    # SendGrid repeats the custom arg on every event of this message: how the bridge finds the video.
    assert message.payload["custom_args"] == {"preboarding_video_uid": "0b8f6a52-uid"}
    # A retried Job for the same inputs emails nobody twice.
    assert run_stage(Stage.NOTIFY, work).skipped is True
    assert len(sendgrid_server.requests) == 1


def test_a_resend_run_emails_again_once(sendgrid_server: SendGridServer, tmp_path: Path) -> None:
    work = composed_video(tmp_path, new_hire(), sendgrid_settings(sendgrid_server))
    assert run_stage(Stage.NOTIFY, work).skipped is False
    resend = dataclasses.replace(work, run=2)  # the operator's run 2 of notify (preboarding.dev/resend)
    again = run_stage(Stage.NOTIFY, resend)
    assert again.skipped is False and again.record.run == 2
    assert run_stage(Stage.NOTIFY, resend).skipped is True  # a retried pod of that Job: no third email
    assert len(sendgrid_server.messages) == 2


def test_the_admin_is_told_once_when_the_new_hire_cannot_be_emailed(
    sendgrid_server: SendGridServer, tmp_path: Path
) -> None:
    sendgrid_server.fail_next(400, message="The to address is on the bounce suppression list.")
    work = composed_video(tmp_path, new_hire(), sendgrid_settings(sendgrid_server, admin_email=ADMIN))
    link = work.store.presigned_get_url(PREFIX + VIDEO_KEY, dt.timedelta(hours=1))

    with pytest.raises(PermanentFailure) as failure:
        run_stage(Stage.NOTIFY, work)
    assert failure.value.reason == "MailRejected"
    assert len(sendgrid_server.requests) == 1  # the stage itself tells nobody: the operator's alert Job does
    record = notify_record(work)
    assert (record["state"], record["reason"], record["exitCode"]) == ("Failed", "MailRejected", EXIT_PERMANENT)

    # What the operator's `preboarding alert` Job then does, once for this failure.
    run_alert(work, video="welcome-priya", about="notify", reason=f"permanent failure: {failure.value}",
              fix='kubectl annotate ov welcome-priya -n hr preboarding.dev/retry="$(date +%s)" --overwrite')
    [admin] = sendgrid_server.messages  # only the administrator's message was accepted
    assert admin.to == [ADMIN]
    assert admin.from_email == "onboarding@northwind.example"
    assert admin.subject == "Preboarding: the notify stage failed for Priya Raman"
    assert admin.text is not None and admin.html is not None
    assert "bounce suppression list" in admin.text and "priya.raman@example.com" in admin.text
    assert "preboarding.dev/retry" in admin.text and html.escape("$(date +%s)") in admin.html
    assert link not in admin.text  # no watch page configured here: nothing to pass on but the fix


def test_no_admin_email_means_nobody_is_mailed(sendgrid_server: SendGridServer, tmp_path: Path) -> None:
    sendgrid_server.fail_next(400)
    work = composed_video(tmp_path, new_hire(), sendgrid_settings(sendgrid_server, admin_email=None))

    with pytest.raises(PermanentFailure):
        run_stage(Stage.NOTIFY, work)
    assert run_alert(work, video="welcome-priya", about="notify", reason="r", fix="f") == []

    assert len(sendgrid_server.requests) == 1
    assert sendgrid_server.messages == []


def test_a_retryable_failure_does_not_bother_the_admin(sendgrid_server: SendGridServer, tmp_path: Path) -> None:
    sendgrid_server.fail_next(503)
    work = composed_video(tmp_path, new_hire(), sendgrid_settings(sendgrid_server, admin_email=ADMIN))

    with pytest.raises(RetryableFailure):
        run_stage(Stage.NOTIFY, work)

    assert len(sendgrid_server.requests) == 1  # the Job retries; the admin hears only of a permanent failure
    assert sendgrid_server.messages == []
    assert notify_record(work)["state"] == "Failed"


def test_notify_waits_for_compose_of_the_current_spec(sendgrid_server: SendGridServer, tmp_path: Path) -> None:
    work = composed_video(tmp_path, new_hire(), sendgrid_settings(sendgrid_server))
    work.spec = new_hire(name="Priya R. Raman")  # the spec changed after compose ran

    with pytest.raises(PermanentFailure) as failure:
        run_stage(Stage.NOTIFY, work)

    assert failure.value.reason == "UpstreamNotReady"
    assert sendgrid_server.requests == []
