"""The welcome email: built as data (pure), sent by SendGrid, SMTP, or written to an outbox folder."""

from __future__ import annotations

import datetime as dt
import html
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from importlib import resources
from pathlib import Path
from string import Template
from typing import Protocol

from preboarding.api.delivery import MAIL_VIDEO_ARG
from preboarding.api.models import OnboardingVideoSpec
from preboarding.renderer.dates import spoken_date
from preboarding.renderer.errors import PermanentFailure, RetryableFailure
from preboarding.renderer.palette import derive_palette
from preboarding.renderer.script import first_name
from preboarding.renderer.settings import RendererSettings

WELCOME_HTML = Template(
    resources.files("preboarding.renderer").joinpath("templates/welcome_email.html").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Email:
    sender: str
    to: str
    subject: str
    text: str
    html: str
    to_name: str = ""
    video_uid: str | None = None  # the OnboardingVideo's uid: SendGrid's events name it (custom arg)


def build_welcome_email(spec: OnboardingVideoSpec, link: str, expires_at: dt.datetime, sender: str,
                        thumbnail: str | None = None, video_uid: str | None = None) -> Email:
    """The new hire's email: plain text and HTML, personalized, in the company's colour.

    ``thumbnail`` is a link to the video's first frame, shown in the HTML part as a picture that opens
    the video.
    """
    e, c = spec.employee, spec.company
    first = first_name(e.name)
    start = spoken_date(e.start_date)
    until = f"{expires_at:%d %B %Y, %H:%M} UTC"
    subject = f"Welcome to {c.name}, {first}! Your welcome video is ready"
    people = [p for p in (f"your manager {e.manager}" if e.manager else "",
                          f"your buddy {e.buddy}" if e.buddy else "") if p]
    meet = f" You'll meet {' and '.join(people)}." if people else ""
    text = (
        f"Hi {first},\n\n"
        f"Welcome to {c.name}! Alex and Jordan recorded a short video about your first week as {e.role}: "
        f"who you'll work with, what's planned and the tools you'll use.{meet}\n\n"
        f"Watch it here:\n{link}\n\n"
        f"The link works until {until}.\n\n"
        f"See you on {start}!\n{c.name}\n"
    )
    p = derive_palette(c.brand_color)
    values = {"lang": e.language, "company": c.name, "first": first, "role": e.role, "meet": meet,
              "link": link, "until": until, "start": start}
    escaped = {k: html.escape(v, quote=True) for k, v in values.items()}
    picture = ""
    if thumbnail:
        picture = (f'<p style="margin:24px 0 0;"><a href="{escaped["link"]}"><img src="{html.escape(thumbnail)}"'
                   ' width="536" alt="Your welcome video" style="display:block;width:100%;height:auto;'
                   'border-radius:6px;border:0;"></a></p>\n')
    html_body = WELCOME_HTML.substitute(escaped, accent=p.accent, on_accent=p.on_accent, thumbnail=picture)
    return Email(sender=sender, to=str(e.email), to_name=e.name, subject=subject, text=text, html=html_body,
                 video_uid=video_uid)


def to_mime(email: Email) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = email.sender
    msg["To"] = formataddr((email.to_name, email.to)) if email.to_name else email.to
    msg["Subject"] = email.subject
    msg["Message-ID"] = make_msgid(domain=parseaddr(email.sender)[1].rpartition("@")[2] or None)
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    return msg


class Sender(Protocol):
    provider: str

    def send(self, email: Email) -> str: ...


class OutboxSender:
    """Writes each email as an .eml file: the offline provider, and what ``preboarding render`` uses."""

    provider = "outbox"

    def __init__(self, folder: Path, filename: str | None = None) -> None:
        self.folder = folder
        self.filename = filename

    def send(self, email: Email) -> str:
        msg = to_mime(email)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = self.filename or f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{email.to}.eml"
        path = self.folder / name
        path.write_bytes(bytes(msg))
        return str(path)


class SmtpSender:
    provider = "smtp"

    def __init__(self, settings: RendererSettings) -> None:
        if not settings.smtp_host:
            raise PermanentFailure("the smtp mail provider needs PREBOARDING_SMTP_HOST", reason="MissingConfiguration")
        self.s = settings

    def send(self, email: Email) -> str:
        s = self.s
        msg = to_mime(email)
        try:
            with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username and s.smtp_password:
                    smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"the mail server refused the address {email.to}",
                                   reason="RecipientRefused") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure("the mail server rejected the SMTP credentials", reason="ProviderAuth") from exc
        except smtplib.SMTPResponseException as exc:
            failure = RetryableFailure if 400 <= exc.smtp_code < 500 else PermanentFailure
            raise failure(f"the mail server answered {exc.smtp_code}: {exc.smtp_error!r}",
                          reason="MailRejected") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise RetryableFailure(f"mail server {s.smtp_host}:{s.smtp_port} unavailable: {exc}",
                                   reason="ProviderUnavailable") from exc
        return str(msg["Message-ID"])


class SendGridSender:
    provider = "sendgrid"

    def __init__(self, settings: RendererSettings) -> None:
        from sendgrid import SendGridAPIClient

        if not settings.sendgrid_api_key:
            raise PermanentFailure("the sendgrid mail provider needs SENDGRID_API_KEY", reason="MissingConfiguration")
        self._client = SendGridAPIClient(api_key=settings.sendgrid_api_key.get_secret_value(),
                                         host=settings.sendgrid_host)

    def send(self, email: Email) -> str:
        from python_http_client import exceptions as hexc
        from sendgrid.helpers.mail import Content, CustomArg, From, Mail, To

        name, address = parseaddr(email.sender)
        mail = Mail(from_email=From(address, name or None), to_emails=To(email.to, email.to_name or None),
                    subject=email.subject)
        mail.add_content(Content("text/plain", email.text))
        mail.add_content(Content("text/html", email.html))
        if email.video_uid:
            mail.custom_arg = CustomArg(MAIL_VIDEO_ARG, email.video_uid)
        try:
            response = self._client.send(mail)
        except hexc.HTTPError as exc:
            # By status, not class: python-http-client has classes for some codes only (no 502, for one).
            status = int(getattr(exc, "status_code", 0) or 0)
            if status == 429 or status >= 500:
                raise RetryableFailure(f"SendGrid unavailable ({status})", reason="ProviderUnavailable") from exc
            if status in (401, 403):
                raise PermanentFailure(f"SendGrid refused the API key ({status})", reason="ProviderAuth") from exc
            raise PermanentFailure(f"SendGrid rejected the email ({status}): {_body(exc)}",
                                   reason="MailRejected") from exc
        except OSError as exc:  # urllib's URLError, connection refused, timeouts
            raise RetryableFailure(f"SendGrid unreachable: {exc}", reason="ProviderUnavailable") from exc
        headers = getattr(response, "headers", {}) or {}
        return str(headers.get("X-Message-Id", "")) or f"sendgrid:{response.status_code}"


def _body(exc: object) -> str:
    body = getattr(exc, "body", b"")
    return (body.decode(errors="replace") if isinstance(body, bytes) else str(body))[:300]


def make_sender(settings: RendererSettings) -> Sender:
    provider = settings.chosen_mail_provider()
    if provider == "sendgrid":
        return SendGridSender(settings)
    if provider == "smtp":
        return SmtpSender(settings)
    return OutboxSender(settings.outbox_dir)
