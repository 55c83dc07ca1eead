"""Reading the welcome emails the test ground's SMTP server stored."""

from __future__ import annotations

import mailbox
import re
from pathlib import Path


def mails_to(mail_dir: Path, address: str) -> list[mailbox.MaildirMessage]:
    """Every stored message addressed to ``address``."""
    return [m for m in mailbox.Maildir(mail_dir, create=False) if address in (m["To"] or "")]


def video_link(message: mailbox.MaildirMessage) -> str:
    """The presigned video link in a welcome email's plain-text part."""
    text = message.get_payload(0).get_payload(decode=True).decode()
    link = re.search(r"(http://\S+video\.mp4\?\S+)", text)
    assert link, text
    return link.group(1)
