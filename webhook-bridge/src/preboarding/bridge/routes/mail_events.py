"""``POST /webhooks/sendgrid/events``: SendGrid's signed Event Webhook -> the videos' ``status.delivery``.

The notify stage sends with the custom arg ``preboarding_video_uid``, which SendGrid repeats on every event of
that message; events are matched to videos by it, never by address. Bad signature: 401, bad body: 422 naming
the field, the apiserver away: 503 (SendGrid retries non-2xx answers for up to 24 hours). A redelivered batch
changes nothing: states only move forward, and ``lastEventAt`` only later.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from functools import partial

from fastapi import APIRouter, Depends, Request

from preboarding.bridge.delivery_status import update_delivery, with_mail_events
from preboarding.bridge.deps import RawBody, StateDep, rate_limit
from preboarding.bridge.errors import ApiError, repository_error
from preboarding.bridge.intake import InvalidPayload
from preboarding.bridge.mail_events import SIGNATURE_HEADER, TIMESTAMP_HEADER, MailEvent, parse_events, verify
from preboarding.bridge.models import MailEventsAnswer
from preboarding.bridge.repository import RepositoryError
from preboarding.bridge.routes import error_responses
from preboarding.bridge.signatures import SignatureError

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"], dependencies=[Depends(rate_limit)])

PATH = "/webhooks/sendgrid/events"


@router.post(
    PATH,
    response_model=MailEventsAnswer,
    summary="Receive SendGrid's delivery events",
    description=(
        "SendGrid's Event Webhook with its signature (X-Twilio-Email-Event-Webhook-Signature, ECDSA over the "
        "timestamp and the raw body; the verification key is PREBOARDING_SENDGRID_EVENT_KEY). Events carrying "
        "the custom arg preboarding_video_uid move that video's status.delivery to Delivered, Opened, "
        "Bounced or Dropped; other events are counted as ignored."
    ),
    responses=error_responses(401, 404, 413, 422, 429, 503),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "array", "items": {"type": "object"}}}}}},
)
async def sendgrid_events(request: Request, state: StateDep, body: RawBody) -> MailEventsAnswer:
    if state.mail_event_key is None:
        raise ApiError(404, "not_found", "SendGrid's Event Webhook is not configured here "
                       "(PREBOARDING_SENDGRID_EVENT_KEY)")
    try:
        verify(state.mail_event_key, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER),
               body, dt.datetime.now(dt.UTC))
    except SignatureError as exc:
        raise ApiError(401, "unauthorized", exc.reason) from None
    try:
        events = parse_events(body)
    except InvalidPayload as exc:
        raise ApiError(422, "invalid_payload", "invalid SendGrid events: " + ", ".join(
            p.field for p in exc.problems), fields=exc.problems) from None
    by_video: dict[str, list[MailEvent]] = defaultdict(list)
    for event in events:
        if event.video_uid is not None:
            by_video[event.video_uid].append(event)
    applied = unknown = 0
    try:
        for uid, theirs in by_video.items():
            video = await state.videos_by_uid.find(uid)
            if video is None:  # deleted since (its data is gone), or not one of ours
                unknown += len(theirs)
                continue
            if await update_delivery(state.deps.repository, video, partial(with_mail_events, events=theirs)):
                applied += len(theirs)
            else:
                unknown += len(theirs)
    except RepositoryError as exc:  # the apiserver away, or a status that kept changing: SendGrid retries
        raise repository_error(exc) from None
    for event in events:
        state.metrics.mail_event(event.kind if event.video_uid is not None else "unmatched")
    return MailEventsAnswer(received=len(events), applied=applied, unknown_video=unknown,
                            ignored=len(events) - applied - unknown)
