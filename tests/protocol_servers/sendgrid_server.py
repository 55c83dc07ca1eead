"""SendGrid v3 Mail Send over real HTTP, for testing code that uses the official ``sendgrid`` client.

Client construction that works (sendgrid 6.x, which speaks through ``python_http_client`` and ``urllib``)::

    client = sendgrid.SendGridAPIClient(api_key="SG.test", host=server.url)
    response = client.send(Mail(from_email=..., to_emails=..., subject=..., plain_text_content=...,
                                html_content=...))
    assert response.status_code == 202

``python_http_client`` builds ``host + "/v3" + "/mail/send"``, so ``host`` is the bare server URL.

What it speaks:

* ``POST /v3/mail/send`` with ``Authorization: Bearer <server.api_key>`` (``"SG.test"`` by default; 401 otherwise,
  which the client raises as ``python_http_client.exceptions.UnauthorizedError``).
* The body is validated the way SendGrid does before accepting a message: ``personalizations[]`` with
  ``to[].email``, ``from.email``, a subject (top-level, per personalization, or a ``template_id``), ``content[]``
  with ``type``/``value`` (``text/plain`` first when present) unless a ``template_id`` is given, and attachments
  with ``content`` and ``filename``. Failures are 400 in SendGrid's shape
  ``{"errors": [{"message", "field", "help": null}]}`` (``python_http_client.exceptions.BadRequestsError``).
* Success is 202 with an empty body and an ``X-Message-Id`` header; the message lands in ``server.messages``.
* ``fail_next(status)`` answers in the same error shape (429 -> ``TooManyRequestsError``, 500 ->
  ``InternalServerError``, 503 -> ``ServiceUnavailableError``). ``python_http_client`` does not retry.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from .base import ProtocolServer, RecordedRequest, Reply

MAIL_SEND_PATH = "/v3/mail/send"

# Deliberately loose, like SendGrid's own check: something@something.something.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_DEFAULT_MESSAGES: dict[int, str] = {
    401: "The provided authorization grant is invalid, expired, or revoked",
    403: "access forbidden",
    413: "The JSON payload you have included in your request is too large.",
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


def sendgrid_errors(*errors: tuple[str, str | None]) -> dict[str, Any]:
    """SendGrid's error body from ``(message, field)`` pairs."""
    return {"errors": [{"message": message, "field": field, "help": None} for message, field in errors]}


@dataclass(frozen=True)
class SentMessage:
    """A message SendGrid accepted, with the parts tests usually look at."""

    message_id: str
    payload: dict[str, Any]

    @property
    def to(self) -> list[str]:
        """Every ``to`` address across personalizations."""
        return [r["email"] for p in self.payload.get("personalizations", []) for r in p.get("to", [])]

    @property
    def from_email(self) -> str:
        """The sender address."""
        return str(self.payload["from"]["email"])

    @property
    def subject(self) -> str | None:
        """The top-level subject, else the first personalization's."""
        if self.payload.get("subject"):
            return str(self.payload["subject"])
        for personalization in self.payload.get("personalizations", []):
            if personalization.get("subject"):
                return str(personalization["subject"])
        return None

    def content(self, mime_type: str) -> str | None:
        """The ``value`` of the first content part of ``mime_type``, or ``None``."""
        for part in self.payload.get("content", []):
            if part.get("type") == mime_type:
                return str(part.get("value"))
        return None

    @property
    def text(self) -> str | None:
        """The ``text/plain`` part."""
        return self.content("text/plain")

    @property
    def html(self) -> str | None:
        """The ``text/html`` part."""
        return self.content("text/html")

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """The attachments as sent (base64 ``content``, ``filename``, ``type``, ...)."""
        return list(self.payload.get("attachments", []))


def validate_mail(payload: Any) -> list[tuple[str, str | None]]:
    """SendGrid-style validation errors for a mail/send body, as ``(message, field)`` pairs; empty if valid."""
    if not isinstance(payload, dict):
        return [("Bad Request", None)]
    errors: list[tuple[str, str | None]] = []
    has_template = bool(payload.get("template_id"))

    personalizations = payload.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        errors.append(
            ("The personalizations field is required and must have at least one personalization.", "personalizations")
        )
        personalizations = []
    for i, personalization in enumerate(personalizations):
        to = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(to, list) or not to:
            errors.append(
                (
                    "The to array is required for all personalization objects, and must have at least one email "
                    "object with a valid email address.",
                    f"personalizations.{i}.to",
                )
            )
            continue
        for j, recipient in enumerate(to):
            email = recipient.get("email") if isinstance(recipient, dict) else None
            if not isinstance(email, str) or not _EMAIL.match(email):
                errors.append(("Does not contain a valid address.", f"personalizations.{i}.to.{j}.email"))

    sender = payload.get("from")
    if not isinstance(sender, dict) or not sender.get("email"):
        errors.append(
            (
                "The from object must be provided for every email send. It is an object that requires the email "
                "parameter, but may also contain a name parameter.",
                "from",
            )
        )
    elif not _EMAIL.match(str(sender["email"])):
        errors.append(("The from email does not contain a valid address.", "from.email"))

    every_personalization_has_subject = bool(personalizations) and all(
        isinstance(p, dict) and p.get("subject") for p in personalizations
    )
    if not payload.get("subject") and not every_personalization_has_subject and not has_template:
        errors.append(
            (
                "The subject is required. You can get around this requirement if you use a template with a subject "
                "defined or if every personalization has a subject defined.",
                "subject",
            )
        )

    content = payload.get("content")
    if content is None or content == []:
        if not has_template:
            errors.append(
                (
                    "Unless a valid template_id is provided, the content parameter is required. There must be at "
                    "least one defined content block. We typically suggest both text/plain and text/html blocks are "
                    "included, but only one block is required.",
                    "content",
                )
            )
    elif not isinstance(content, list):
        errors.append(("Invalid type. Expected: array, given: " + type(content).__name__ + ".", "content"))
    else:
        for k, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str) or not part["type"]:
                errors.append(
                    ("The content type must be a string at least one character in length.", f"content.{k}.type")
                )
            elif not isinstance(part.get("value"), str) or not part["value"]:
                errors.append(
                    ("The content value must be a string at least one character in length.", f"content.{k}.value")
                )
        types = [part.get("type") for part in content if isinstance(part, dict)]
        if "text/plain" in types and types[0] != "text/plain":
            errors.append(
                (
                    "If present, text/plain content must be first, followed by text/html, followed by any other "
                    "content.",
                    "content.0.type",
                )
            )

    attachments = payload.get("attachments") or []
    for k, attachment in enumerate(attachments if isinstance(attachments, list) else []):
        if not isinstance(attachment, dict) or not attachment.get("content"):
            errors.append(("The attachment content is required.", f"attachments.{k}.content"))
        elif not attachment.get("filename"):
            errors.append(("The attachment filename parameter is required.", f"attachments.{k}.filename"))
    return errors


class SendGridServer(ProtocolServer):
    """The v3 ``mail/send`` endpoint of SendGrid."""

    name: ClassVar[str] = "sendgrid"

    def __init__(self, api_key: str = "SG.test") -> None:
        super().__init__()
        #: The key the client must send as ``Authorization: Bearer``; ``None`` disables the check.
        self.api_key: str | None = api_key
        self._messages: list[SentMessage] = []
        self._messages_lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def messages(self) -> list[SentMessage]:
        """Messages accepted (202) so far, oldest first."""
        with self._messages_lock:
            return list(self._messages)

    def clear(self) -> None:
        super().clear()
        with self._messages_lock:
            self._messages.clear()

    def error_reply(self, status: int, message: str | None = None) -> Reply:
        text = message or _DEFAULT_MESSAGES.get(status) or f"HTTP {status}"
        return Reply.json(status, sendgrid_errors((text, None)))

    def handle(self, request: RecordedRequest) -> Reply:
        if request.path != MAIL_SEND_PATH:
            return Reply.json(404, sendgrid_errors(("resource not found", None)))
        if request.method != "POST":
            return Reply.json(405, sendgrid_errors(("method not allowed", None)))
        header = request.header("authorization") or ""
        if not header.startswith("Bearer "):
            return Reply.json(401, sendgrid_errors(("authorization required", None)))
        if self.api_key is not None and header[len("Bearer ") :].strip() != self.api_key:
            return self.error_reply(401)
        errors = validate_mail(request.json)
        if errors:
            return Reply.json(400, sendgrid_errors(*errors))
        with self._messages_lock:
            message_id = f"test-message-{next(self._ids)}"
            self._messages.append(SentMessage(message_id=message_id, payload=request.json))
        return Reply(status=202, headers={"X-Message-Id": message_id})
