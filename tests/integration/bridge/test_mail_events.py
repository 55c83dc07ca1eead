"""SendGrid's Event Webhook on the real apiserver: signed batches move a video's status.delivery forward only.

The bridge runs as a process with the verification key of a key pair the test holds (SendGrid's side,
``tests.protocol_servers.sendgrid_events``); events name the video by the custom arg the notify stage sets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.protocol_servers.sendgrid_events import SendGridEventSigner, batch, event

from .conftest import unique_id
from .harness import BridgeProcess, example_payload
from .test_bridge import post, read_video, set_status

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PATH = "/webhooks/sendgrid/events"


@pytest.fixture
def signer() -> SendGridEventSigner:
    return SendGridEventSigner()


@pytest.fixture
def events_bridge(bridge_factory: Callable[..., BridgeProcess], bridge_kubeconfig: Path,
                  signer: SendGridEventSigner) -> BridgeProcess:
    return bridge_factory(bridge_kubeconfig, PREBOARDING_SENDGRID_EVENT_KEY=signer.verification_key)


def test_signed_events_move_the_delivery_forward_and_a_replay_changes_nothing(
        events_bridge: BridgeProcess, signer: SendGridEventSigner, kube_api: Any, namespace: str) -> None:
    with httpx.Client(base_url=events_bridge.url, timeout=30) as http:
        job_id = post(http, events_bridge, example_payload(unique_id()), "msg-mail-events").json()["job_id"]
        uid = read_video(kube_api, namespace, job_id)["metadata"]["uid"]
        set_status(kube_api, namespace, job_id, {"phase": "Succeeded", "delivery": {
            "state": "Sent", "sentAt": "2026-12-01T09:00:00Z", "messageId": "msg-1", "sends": 1}})
        now = int(time.time())

        first = batch(event("processed", uid, now - 60), event("delivered", uid, now - 30),
                      event("delivered", None, now - 20),  # mail we did not send: ignored
                      event("open", "0b8f6a52-0000-4000-8000-000000000000", now - 10))  # a video long gone
        answer = http.post(PATH, content=first, headers=signer.headers(first))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"received": 4, "applied": 2, "unknown_video": 1, "ignored": 1}
        delivery = read_video(kube_api, namespace, job_id)["status"]["delivery"]
        assert (delivery["state"], delivery["messageId"], delivery["sends"]) == ("Delivered", "msg-1", 1)
        last = delivery["lastEventAt"]

        # SendGrid redelivers the batch (it retries on any non-2xx): nothing moves.
        again = http.post(PATH, content=first, headers=signer.headers(first))
        assert again.status_code == 200
        assert read_video(kube_api, namespace, job_id)["status"]["delivery"] == delivery

        # A bounce reported late, after the new hire opened the email, does not undo the open.
        opened = batch(event("open", uid, now - 5))
        assert http.post(PATH, content=opened, headers=signer.headers(opened)).status_code == 200
        late = batch(event("bounce", uid, now - 40, type="bounce", reason="550 5.1.1 <zoe@example.com> unknown"))
        assert http.post(PATH, content=late, headers=signer.headers(late)).status_code == 200
        delivery = read_video(kube_api, namespace, job_id)["status"]["delivery"]
        assert delivery["state"] == "Opened" and delivery["lastEventAt"] > last
        assert "zoe@example.com" not in str(delivery)


def test_a_bounce_is_recorded_and_bad_deliveries_change_nothing(
        events_bridge: BridgeProcess, signer: SendGridEventSigner, kube_api: Any, namespace: str) -> None:
    with httpx.Client(base_url=events_bridge.url, timeout=30) as http:
        job_id = post(http, events_bridge, example_payload(unique_id()), "msg-mail-bounce").json()["job_id"]
        uid = read_video(kube_api, namespace, job_id)["metadata"]["uid"]
        set_status(kube_api, namespace, job_id, {"phase": "Succeeded", "delivery": {"state": "Sent", "sends": 1}})
        now = int(time.time())
        bounce = batch(event("bounce", uid, now, type="blocked"))

        forged = SendGridEventSigner().headers(bounce)  # another account's key
        assert http.post(PATH, content=bounce, headers=forged).status_code == 401
        stale = signer.headers(bounce, timestamp=now - 3600)
        refused = http.post(PATH, content=bounce, headers=stale)
        assert refused.status_code == 401 and "old" in refused.json()["message"]
        bad = b'[{"event": "bounce", "timestamp": "soon", "preboarding_video_uid": "%s"}]' % uid.encode()
        invalid = http.post(PATH, content=bad, headers=signer.headers(bad))
        assert invalid.status_code == 422 and invalid.json()["fields"][0]["field"] == "body[0].timestamp"
        assert read_video(kube_api, namespace, job_id)["status"]["delivery"]["state"] == "Sent"

        assert http.post(PATH, content=bounce, headers=signer.headers(bounce)).status_code == 200
        assert read_video(kube_api, namespace, job_id)["status"]["delivery"]["state"] == "Bounced"


def test_without_a_verification_key_the_route_is_not_there(bridge: BridgeProcess) -> None:
    with httpx.Client(base_url=bridge.url, timeout=30) as http:
        body = batch(event("delivered", "x", int(time.time())))
        answer = http.post(PATH, content=body, headers=SendGridEventSigner().headers(body))
        assert answer.status_code == 404 and "PREBOARDING_SENDGRID_EVENT_KEY" in answer.json()["message"]
