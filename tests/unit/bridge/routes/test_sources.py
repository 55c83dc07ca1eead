"""POST /webhooks/sources/{name} on in-memory sources, profiles and Secrets (the `standard` vendor here;
each vendor's own signatures and payloads are tested in tests/unit/bridge/vendors)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from typing import Any

import pytest
from standardwebhooks import Webhook

from preboarding.bridge.sources import refresh_readiness

from ..conftest import Bridge, example_payload

pytestmark = pytest.mark.unit

SOURCE_SECRET = "whsec_" + base64.b64encode(b"a-source-secret-of-32-bytes-long").decode()
PROFILE = {
    "company": {"name": "Northwind", "brandColor": "#0F766E", "logoURL": "https://cdn.northwind.example/logo.png"},
    "defaults": {"script": {"tone": "professional", "targetSeconds": 60}, "delivery": {"linkExpiryHours": 72}},
    "teams": [
        {"match": {"team": "engineering", "location": "berlin office"}, "techStack": ["Go", "Kafka"],
         "schedule": [{"day": "Monday", "items": ["Laptop setup"]}], "buddy": "Ada Quinn"},
        {"techStack": ["Slack"]},
    ],
}


def add_source(bridge: Bridge, name: str = "hris", **spec: Any) -> None:
    bridge.sources.add_source(name, {"vendor": "standard", "secretRef": {"name": "hris-webhook", "key": "secret"},
                                     "profileRef": {"name": "northwind"}, **spec})
    bridge.sources.secrets[("hris-webhook", "secret")] = SOURCE_SECRET
    bridge.sources.add_profile("northwind", PROFILE)


def standard_payload(employee_id: str = "E-1001") -> dict[str, Any]:
    employee = example_payload()["employee"] | {"id": employee_id, "team": "Engineering",
                                                 "location": "Berlin Office", "tech_stack": [], "schedule": []}
    employee.pop("buddy", None)
    return {"employee": employee}


def post(bridge: Bridge, payload: Any, name: str = "hris", *, webhook_id: str = "msg_1",
         secret: str = SOURCE_SECRET) -> Any:
    body = json.dumps(payload).encode()
    sent = dt.datetime.fromtimestamp(bridge.clock(), dt.UTC)
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(sent.timestamp())),
               "webhook-signature": Webhook(secret).sign(webhook_id, sent, body.decode()),
               "content-type": "application/json"}
    return bridge.client.post(f"/webhooks/sources/{name}", content=body, headers=headers)


def counts(bridge: Bridge, name: str = "hris") -> dict[str, int]:
    return {k: v for k, v in bridge.sources.status(name).get("deliveries", {}).items() if v}


def ready(bridge: Bridge, name: str = "hris") -> dict[str, Any]:
    return next(c for c in bridge.sources.status(name)["conditions"] if c["type"] == "Ready")


def test_a_signed_hire_makes_one_video_with_the_profile_copied_in(bridge: Bridge) -> None:
    add_source(bridge)
    response = post(bridge, standard_payload())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "accepted" and answer["source"] == "hris"
    [job] = answer["jobs"]
    assert job["status"] == "queued"
    video = bridge.repository.objects[job["job_id"]]
    spec = video["spec"]
    assert spec["company"]["name"] == "Northwind" and spec["company"]["brandColor"] == "#0F766E"
    assert spec["employee"]["techStack"] == ["Go", "Kafka"]  # the matching team entry, case-insensitively
    assert spec["employee"]["buddy"] == "Ada Quinn"
    assert spec["script"] == {"tone": "professional", "targetSeconds": 60}
    assert spec["delivery"]["linkExpiryHours"] == 72
    assert spec["source"] == {"name": "hris", "vendor": "standard", "deliveryId": "msg_1", "externalIds": {}}
    assert spec["profile"] == {"name": "northwind", "generation": 3}
    assert counts(bridge) == {"accepted": 1}
    assert bridge.sources.status("hris")["lastDelivery"]["outcome"] == "accepted"
    assert ready(bridge)["status"] == "True"


def test_a_redelivery_creates_nothing_and_counts_a_duplicate(bridge: Bridge) -> None:
    add_source(bridge)
    first = post(bridge, standard_payload()).json()
    again = post(bridge, standard_payload())
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["jobs"][0]["job_id"] == first["jobs"][0]["job_id"]
    assert len(bridge.repository.objects) == 1
    assert counts(bridge) == {"accepted": 1, "duplicate": 1}


def test_the_same_person_through_two_sources_gets_two_names_but_one_per_source(bridge: Bridge) -> None:
    add_source(bridge, "hris")
    bridge.sources.add_source("ats", {"vendor": "standard", "secretRef": {"name": "hris-webhook", "key": "secret"},
                                      "profileRef": {"name": "northwind"}})
    a = post(bridge, standard_payload(), "hris").json()["jobs"][0]["job_id"]
    b = post(bridge, standard_payload(), "ats", webhook_id="msg_2").json()["jobs"][0]["job_id"]
    assert a != b and len(bridge.repository.objects) == 2


def test_a_bad_signature_is_401_and_creates_nothing(bridge: Bridge) -> None:
    add_source(bridge)
    wrong = "whsec_" + base64.b64encode(b"some-other-secret-of-32-bytes!!!").decode()
    response = post(bridge, standard_payload(), secret=wrong)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert bridge.repository.objects == {}
    assert counts(bridge) == {"rejected": 1}
    assert bridge.sources.status("hris")["lastDelivery"]["reason"] == "unauthorized"


def test_a_bad_field_is_422_naming_it(bridge: Bridge) -> None:
    add_source(bridge)
    payload = standard_payload()
    payload["employee"]["email"] = "not-an-address"
    response = post(bridge, payload)
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["employee.email"]
    assert bridge.repository.objects == {}


def test_an_unknown_source_is_404(bridge: Bridge) -> None:
    response = post(bridge, standard_payload(), "nope")
    assert response.status_code == 404 and response.json()["error"] == "source_not_found"


@pytest.mark.parametrize(("broken", "reason"), [
    ("secret", "SecretNotFound"), ("profile", "ProfileNotFound"), ("suspend", "Suspended"),
])
def test_a_source_that_is_not_ready_answers_503_so_the_vendor_retries(bridge: Bridge, broken: str,
                                                                       reason: str) -> None:
    add_source(bridge, suspend=broken == "suspend")
    if broken == "secret":
        del bridge.sources.secrets[("hris-webhook", "secret")]
    if broken == "profile":
        del bridge.sources.profiles["northwind"]
    response = post(bridge, standard_payload())
    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert response.json()["message"].startswith(reason)
    assert bridge.repository.objects == {}
    assert (ready(bridge)["status"], ready(bridge)["reason"]) == ("False", reason)


def test_a_vendor_with_id_only_webhooks_needs_an_api_token(bridge: Bridge) -> None:
    bridge.sources.add_source("lever", {"vendor": "lever", "secretRef": {"name": "lever", "key": "token"},
                                        "profileRef": {"name": "northwind"}})
    bridge.sources.secrets[("lever", "token")] = "lever-signature-token"
    bridge.sources.add_profile("northwind", PROFILE)
    asyncio.run(refresh_readiness(bridge.sources))
    assert (ready(bridge, "lever")["status"], ready(bridge, "lever")["reason"]) == ("False", "ApiTokenMissing")


def test_readiness_is_refreshed_without_a_delivery(bridge: Bridge) -> None:
    add_source(bridge)
    del bridge.sources.secrets[("hris-webhook", "secret")]
    asyncio.run(refresh_readiness(bridge.sources))
    assert ready(bridge)["reason"] == "SecretNotFound"
    bridge.sources.secrets[("hris-webhook", "secret")] = SOURCE_SECRET
    asyncio.run(refresh_readiness(bridge.sources))
    assert (ready(bridge)["status"], ready(bridge)["reason"]) == ("True", "Ready")
    writes = bridge.sources.status_writes
    asyncio.run(refresh_readiness(bridge.sources))
    assert bridge.sources.status_writes == writes  # nothing changed, nothing written


def test_concurrent_deliveries_lose_no_count(bridge: Bridge) -> None:
    add_source(bridge)
    for i in range(5):
        assert post(bridge, standard_payload(f"E-{i}"), webhook_id=f"msg_{i}").status_code == 200
    assert counts(bridge) == {"accepted": 5}


def test_a_native_payload_may_name_a_profile_instead_of_its_company(bridge: Bridge) -> None:
    bridge.sources.add_profile("northwind", PROFILE)
    payload = standard_payload() | {"profile": "northwind", "options": {"send_email": False}}
    response = bridge.post_webhook(payload)
    assert response.status_code == 202, response.text
    spec = bridge.repository.objects[response.json()["job_id"]]["spec"]
    assert spec["company"]["name"] == "Northwind"
    assert spec["delivery"] == {"sendEmail": False, "linkValidDays": 30, "linkExpiryHours": 72}  # the payload's wins
    assert spec["profile"]["name"] == "northwind" and "source" not in spec


def test_a_native_payload_naming_an_unknown_profile_is_422(bridge: Bridge) -> None:
    response = bridge.post_webhook(standard_payload() | {"profile": "ghost"})
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["profile"]


def test_a_native_payload_without_company_or_profile_is_422_naming_company(bridge: Bridge) -> None:
    response = bridge.post_webhook(standard_payload())
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["company"]
