"""``preboarding alert``: mail the administrator and the HR contact about one terminal failure of one video.

The operator creates one such Job per failure (a stage Failed for good, the email Bounced or Dropped), never
per retry. The mail names the new hire, what failed and why, and the exact command that mends it; for a
failure to reach the new hire it carries the watch link to pass on by hand.
"""

from __future__ import annotations

import html
import logging

from preboarding.renderer import mail
from preboarding.renderer.stages import VideoWork, watch_link

log = logging.getLogger(__name__)

# Failures of these mean the new hire has no working email: the administrator gets the link to pass on.
_UNDELIVERED = frozenset({"notify", "delivery"})


def recipients(work: VideoWork) -> list[str]:
    """The operator's administrator and the video's HR contact, each once."""
    found = [work.settings.admin_email, work.spec.delivery.hr_contact]
    return list(dict.fromkeys(str(a).strip() for a in found if a and str(a).strip()))


def build_failure_email(work: VideoWork, to: str, *, video: str, about: str, reason: str, fix: str,
                        link: str | None) -> mail.Email:
    e = work.spec.employee
    what = "the welcome email" if about == "delivery" else f"the {about} stage"
    lines = [f"The welcome video for {e.name} <{e.email}> (employee {e.id}, starting {e.start_date:%Y-%m-%d}) "
             f"needs attention: {what} failed.", "", f"Why: {reason}", "", "To fix it, mend the cause, then run:",
             f"  {fix}"]
    if work.settings.watch_url and about != "delivery":
        lines += ["", f"or POST {work.settings.watch_url.rstrip('/')}/jobs/{video}/retry on the bridge "
                  "(signed or with a bearer token)."]
    if link:
        lines += ["", "Until then, you can pass this link on to the new hire:", link]
    lines += ["", f"OnboardingVideo: {work.prefix.split('/')[0]}/{video}. You get one mail per failure."]
    text = "\n".join(lines) + "\n"
    return mail.Email(sender=work.settings.mail_from, to=to, subject=f"Preboarding: {what} failed for {e.name}",
                      text=text, html=f"<pre>{html.escape(text)}</pre>")


def run_alert(work: VideoWork, *, video: str, about: str, reason: str, fix: str) -> list[str]:
    """Mail everyone in ``recipients``; returns the accepted message ids (none when nobody is configured)."""
    to = recipients(work)
    if not to:
        log.info("no PREBOARDING_ADMIN_EMAIL and no hrContact: nobody to tell about the failure of %s", about)
        return []
    link = None
    if about in _UNDELIVERED:
        watch = watch_link(work)
        link = watch[0] if watch is not None else None
    sender = work.sender or mail.make_sender(work.settings)
    return [sender.send(build_failure_email(work, address, video=video, about=about, reason=reason, fix=fix,
                                            link=link)) for address in to]
