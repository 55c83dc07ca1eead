"""Lever: the in-body signature, parsing each sample, and the pure mapping of API answers to a NewHire."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pytest

from preboarding.api.sources import Vendor
from preboarding.bridge.vendor_api import VendorApiBadAnswer, VendorApiNotFound
from preboarding.bridge.vendors import lever
from preboarding.bridge.vendors.base import (
    EventKind,
    InvalidPayload,
    NewHire,
    SignatureError,
    VendorAdapter,
)
from preboarding.bridge.vendors.lever import ADAPTER, OfferTerms, lever_new_hire, manager_user_id, offer_terms
from tests.unit.bridge.vendors import VendorSamples, only

pytestmark = pytest.mark.unit

SAMPLES = VendorSamples("lever")
SECRET = SAMPLES.secret("signature_token")
OPPORTUNITY_ID = "3410c8b9-5c31-4bab-b7e9-9f710206d647"
CONTACT_ID = "05c248f9-ccb1-435f-bab5-0ec608aec263"
POSTING_PATH = "postings/80fd493b-3e01-4e05-82df-464d3ae2a7b8"
USER_PATH = "users/ac92b6db-6e40-4b08-ae7b-236ba24f0a82"


def sent_at(name: str) -> float:
    return int(SAMPLES.json(name)["triggeredAt"]) / 1000


def body_of(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def signed_body(**fields: Any) -> bytes:
    """A body carrying a valid signature for its token and triggeredAt."""
    body = {"token": "t" * 48, "triggeredAt": 1787241900000, **fields}
    body["signature"] = lever.sign(SECRET, body["token"], str(body["triggeredAt"]))
    return body_of(body)


def problems(exc: pytest.ExceptionInfo[InvalidPayload]) -> dict[str, str]:
    return {p.field: p.type for p in exc.value.problems}


# --- signature ---------------------------------------------------------------------------------------------


def test_the_adapter_is_a_vendor_adapter() -> None:
    adapter: VendorAdapter = ADAPTER
    assert adapter.vendor is Vendor.LEVER
    assert adapter.default_api_url == "https://api.lever.co/v1"
    assert adapter.api_credentials("KEY") == ("KEY", "")


@pytest.mark.parametrize("name", ["hire.json", "ping.json", "ignored.json", "archive-change.json"])
def test_every_sample_verifies_with_the_test_token(name: str) -> None:
    ADAPTER.verify(SAMPLES.request(name), SECRET, now=sent_at(name) + 60)


def test_a_changed_triggered_at_breaks_the_signature() -> None:
    body = SAMPLES.json("hire.json")
    body["triggeredAt"] += 1
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SAMPLES.request("hire.json", body_of(body)), SECRET, now=sent_at("hire.json"))


def test_a_changed_token_breaks_the_signature() -> None:
    body = SAMPLES.json("hire.json")
    body["token"] = body["token"][:-1] + "0"
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SAMPLES.request("hire.json", body_of(body)), SECRET, now=sent_at("hire.json"))


def test_the_signature_does_not_cover_data_which_is_why_hires_come_from_the_api() -> None:
    body = SAMPLES.json("hire.json")
    body["data"]["opportunityId"] = "someone-else"
    ADAPTER.verify(SAMPLES.request("hire.json", body_of(body)), SECRET, now=sent_at("hire.json"))
    assert ADAPTER.needs_lookup(only(ADAPTER.parse(SAMPLES.request("hire.json", body_of(body)))).hires[0])


def test_a_wrong_token_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(SAMPLES.request("hire.json"), "another-signature-token", now=sent_at("hire.json"))


def test_a_missing_signature_is_refused_with_the_fix() -> None:
    body = SAMPLES.json("hire.json")
    del body["signature"]
    with pytest.raises(SignatureError, match="generate a webhook signature token"):
        ADAPTER.verify(SAMPLES.request("hire.json", body_of(body)), SECRET, now=sent_at("hire.json"))


@pytest.mark.parametrize("field", ["token", "triggeredAt"])
def test_a_missing_token_or_timestamp_is_refused(field: str) -> None:
    body = SAMPLES.json("hire.json")
    del body[field]
    with pytest.raises(SignatureError, match="token and triggeredAt"):
        ADAPTER.verify(SAMPLES.request("hire.json", body_of(body)), SECRET, now=sent_at("hire.json"))


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b""])
def test_a_body_that_is_not_a_json_object_is_refused(raw: bytes) -> None:
    with pytest.raises(SignatureError, match="JSON"):
        ADAPTER.verify(SAMPLES.request("hire.json", raw), SECRET, now=sent_at("hire.json"))


def test_an_old_delivery_is_refused_but_a_rerun_within_two_weeks_is_not() -> None:
    sent = sent_at("hire.json")
    ADAPTER.verify(SAMPLES.request("hire.json"), SECRET, now=sent + 13 * 86400)
    with pytest.raises(SignatureError, match="14 days old"):
        ADAPTER.verify(SAMPLES.request("hire.json"), SECRET, now=sent + 15 * 86400)


def test_a_delivery_from_the_future_is_refused() -> None:
    with pytest.raises(SignatureError, match="future"):
        ADAPTER.verify(SAMPLES.request("hire.json"), SECRET, now=sent_at("hire.json") - 301)


def test_triggered_at_as_a_digit_string_or_integral_float_signs_like_the_number() -> None:
    body = json.loads(signed_body(event="candidateHired", data={}))
    for value in (str(body["triggeredAt"]), float(body["triggeredAt"])):
        ADAPTER.verify(SAMPLES.request("hire.json", body_of({**body, "triggeredAt": value})), SECRET, now=1787241900)


def test_the_ping_is_signed_so_it_is_not_an_unsigned_ping() -> None:
    assert not ADAPTER.unsigned_ping(SAMPLES.request("ping.json"))


# --- parsing -----------------------------------------------------------------------------------------------


def test_a_hire_carries_only_ids_and_the_event_id_as_delivery_id() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("hire.json"))
    assert event.kind is EventKind.HIRE
    assert event.action == "candidateHired"
    assert event.delivery_id == "b2f1c7e0-6a0d-4c1e-9f3a-0e5d7c9a1b22"
    (hire,) = event.hires
    assert hire.person_id == CONTACT_ID
    assert dict(hire.external_ids) == {"opportunityId": OPPORTUNITY_ID, "contactId": CONTACT_ID}
    assert hire.full_name() is None
    assert ADAPTER.needs_lookup(hire)


def test_the_ping_is_candidate_hired_with_empty_data_and_its_token_is_the_delivery_id() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("ping.json"))
    assert event.kind is EventKind.PING
    assert event.delivery_id == SAMPLES.json("ping.json")["token"]
    assert event.hires == ()


def test_a_stage_change_is_ignored() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("ignored.json"))
    assert event.kind is EventKind.IGNORED
    assert event.action == "candidateStageChange"
    assert event.delivery_id == SAMPLES.json("ignored.json")["token"]  # no id in the documented example


def test_unarchiving_a_hired_opportunity_removes_the_person() -> None:
    (event,) = ADAPTER.parse(SAMPLES.request("archive-change.json"))
    assert event.kind is EventKind.REMOVE
    assert event.person_ids == (CONTACT_ID,)


def test_archiving_is_how_a_hire_ends_so_it_removes_nothing() -> None:
    data = {**SAMPLES.json("archive-change.json")["data"], "fromArchived": None,
            "toArchived": {"archivedAt": 1787241900000, "reason": "63dd55b2-a99f-4e7b-985f-22c7bf80ab42"}}
    (event,) = ADAPTER.parse(SAMPLES.request("hire.json", signed_body(event="candidateArchiveChange", data=data)))
    assert event.kind is EventKind.IGNORED


def test_changing_the_archive_reason_of_a_hire_removes_the_person() -> None:
    data = {**SAMPLES.json("archive-change.json")["data"], "toArchived": {"archivedAt": 1, "reason": "rejected-reason"}}
    (event,) = ADAPTER.parse(SAMPLES.request("hire.json", signed_body(event="candidateArchiveChange", data=data)))
    assert event.kind is EventKind.REMOVE


def test_a_deleted_candidate_is_removed() -> None:
    data = {"opportunityId": OPPORTUNITY_ID, "contactId": CONTACT_ID}
    (event,) = ADAPTER.parse(SAMPLES.request("hire.json", signed_body(event="candidateDeleted", data=data)))
    assert (event.kind, event.person_ids) == (EventKind.REMOVE, (CONTACT_ID,))


def test_a_removal_without_contact_id_names_the_field() -> None:
    body = signed_body(event="candidateDeleted", data={"opportunityId": OPPORTUNITY_ID})
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(SAMPLES.request("hire.json", body))
    assert problems(exc) == {"data.contactId": "missing"}


def test_a_hire_without_ids_names_every_missing_field() -> None:
    body = signed_body(event="candidateHired", data={"candidateId": OPPORTUNITY_ID})
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(SAMPLES.request("hire.json", body))
    assert problems(exc) == {"data.opportunityId": "missing", "data.contactId": "missing"}


def test_an_id_that_could_leave_the_url_path_is_refused_without_echoing_it() -> None:
    data = {"opportunityId": "../users/secret-ünïcode", "contactId": CONTACT_ID}
    body = signed_body(event="candidateHired", data=data)
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(SAMPLES.request("hire.json", body))
    assert problems(exc) == {"data.opportunityId": "id"}
    assert all("secret" not in p.message and "users" not in p.message for p in exc.value.problems)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b'"a string"', "body"),
        (b'{"data": {}}', "event"),
        (b'{"event": "candidateHired", "data": []}', "data"),
        (b'{"event": "candidateHired", "data": {}, "id": "caf\xc3\xa9 id"}', "id"),
    ],
)
def test_malformed_deliveries_name_the_field(body: bytes, field: str) -> None:
    with pytest.raises(InvalidPayload) as exc:
        ADAPTER.parse(SAMPLES.request("hire.json", body))
    assert [p.field for p in exc.value.problems] == [field]


# --- mapping API answers -----------------------------------------------------------------------------------


def test_the_signed_offer_gives_title_start_date_manager_and_posting() -> None:
    terms = offer_terms(SAMPLES.json("api-offers.json"))
    assert terms == OfferTerms(role="Data Platform Engineer", start_date=dt.date(2026, 9, 14),
                               manager_user_id="ac92b6db-6e40-4b08-ae7b-236ba24f0a82",
                               posting_id="80fd493b-3e01-4e05-82df-464d3ae2a7b8")


def offer(status: str, created: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"offer-{status}-{created}", "status": status, "createdAt": created,
            "fields": [{"identifier": k, "value": v} for k, v in fields.items()]}


def test_a_signed_offer_wins_over_a_newer_sent_one_and_denied_offers_never_count() -> None:
    answer = {"data": [offer("sent", 3, job_title="Newer"), offer("signed", 1, job_title="Signed"),
                       offer("denied", 5, job_title="Denied")], "hasNext": False}
    assert offer_terms(answer).role == "Signed"
    assert offer_terms({"data": [offer("denied", 5, job_title="Denied")]}) == OfferTerms()
    assert offer_terms({"data": [offer("sent", 1, job_title="Old"), offer("sent", 2, job_title="New")]}).role == "New"


def test_the_hiring_manager_and_then_the_posting_stand_in_for_the_direct_manager() -> None:
    only_hiring = {"data": [offer("signed", 1, hiring_manager="hiring-manager-id")]}
    assert offer_terms(only_hiring).manager_user_id == "hiring-manager-id"
    assert manager_user_id(OfferTerms(), SAMPLES.json("api-posting.json")) == "aa290857-ef5a-4696-8b85-62e8d495dc4b"
    assert manager_user_id(OfferTerms(), None) is None


def test_an_unreadable_start_date_is_a_bad_answer() -> None:
    with pytest.raises(VendorApiBadAnswer, match="anticipated_start_date"):
        offer_terms({"data": [offer("signed", 1, anticipated_start_date="next monday")]})


def hire_from_webhook() -> NewHire:
    return only(ADAPTER.parse(SAMPLES.request("hire.json"))).hires[0]


def test_the_api_answers_map_into_a_new_hire_with_non_ascii_names_intact() -> None:
    hire = lever_new_hire(hire_from_webhook(), SAMPLES.json("api-opportunity.json"),
                          offer_terms(SAMPLES.json("api-offers.json")), SAMPLES.json("api-posting.json"),
                          SAMPLES.json("api-user.json"))
    assert hire == NewHire(
        person_id=CONTACT_ID, name="Zoë Ångström-Núñez", personal_email="zoe.angstrom@example.com",
        role="Data Platform Engineer", department="Data", team="Platform", location="Berlin",
        start_date=dt.date(2026, 9, 14), manager="Mara Manager",
        external_ids={"opportunityId": OPPORTUNITY_ID, "contactId": CONTACT_ID},
    )


def test_the_person_id_comes_from_the_api_not_the_unsigned_body() -> None:
    spoofed = NewHire(person_id="spoofed-contact", external_ids={"opportunityId": OPPORTUNITY_ID})
    hire = lever_new_hire(spoofed, SAMPLES.json("api-opportunity.json"), OfferTerms())
    assert hire.person_id == CONTACT_ID
    assert hire.external_ids["contactId"] == CONTACT_ID


def test_missing_optional_answers_leave_fields_empty() -> None:
    opportunity = {"data": {"id": OPPORTUNITY_ID, "contact": CONTACT_ID, "name": "Tomás", "emails": []}}
    hire = lever_new_hire(hire_from_webhook(), opportunity, OfferTerms())
    assert (hire.name, hire.personal_email, hire.role, hire.department, hire.start_date, hire.manager) == (
        "Tomás", None, None, None, None, None)


def test_the_posting_title_stands_in_for_a_missing_job_title() -> None:
    hire = lever_new_hire(hire_from_webhook(), SAMPLES.json("api-opportunity.json"), OfferTerms(),
                          SAMPLES.json("api-posting.json"))
    assert hire.role == "Data Platform Engineer"


@pytest.mark.parametrize(
    "answer",
    [
        {"data": {"id": OPPORTUNITY_ID, "name": "No contact"}},
        {"data": {"id": "another-opportunity", "contact": CONTACT_ID}},
        {"data": []},
        ["not", "an", "envelope"],
    ],
)
def test_an_opportunity_answer_that_cannot_be_trusted_is_a_bad_answer(answer: Any) -> None:
    with pytest.raises(VendorApiBadAnswer):
        lever_new_hire(hire_from_webhook(), answer, OfferTerms())


class FakeLever:
    """Answers from the samples; ``missing`` paths raise VendorApiNotFound."""

    def __init__(self, missing: tuple[str, ...] = ()) -> None:
        self.missing = missing
        self.paths: list[str] = []

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        self.paths.append(path)
        if path in self.missing:
            raise VendorApiNotFound("not found")
        name = {f"opportunities/{OPPORTUNITY_ID}": "api-opportunity.json",
                f"opportunities/{OPPORTUNITY_ID}/offers": "api-offers.json",
                POSTING_PATH: "api-posting.json", USER_PATH: "api-user.json"}[path]
        return SAMPLES.json(name)

    async def post(self, path: str, json: Any) -> Any:
        raise AssertionError("Lever lookups are GETs")


def test_complete_fetches_opportunity_offers_posting_and_manager() -> None:
    api = FakeLever()
    hire = asyncio.run(ADAPTER.complete(hire_from_webhook(), api))
    assert api.paths == [f"opportunities/{OPPORTUNITY_ID}", f"opportunities/{OPPORTUNITY_ID}/offers",
                         POSTING_PATH, USER_PATH]
    assert (hire.department, hire.manager) == ("Data", "Mara Manager")


def test_a_deleted_posting_or_manager_does_not_block_the_hire() -> None:
    api = FakeLever(missing=(POSTING_PATH, USER_PATH))
    hire = asyncio.run(ADAPTER.complete(hire_from_webhook(), api))
    assert (hire.name, hire.department, hire.manager) == ("Zoë Ångström-Núñez", None, None)


def test_an_unknown_opportunity_propagates_not_found() -> None:
    with pytest.raises(VendorApiNotFound):
        asyncio.run(ADAPTER.complete(hire_from_webhook(), FakeLever(missing=(f"opportunities/{OPPORTUNITY_ID}",))))
