"""A vendor-neutral new hire + a profile -> the OnboardingVideo spec: matching, fallbacks, what is missing."""

from __future__ import annotations

import datetime as dt

import pytest

from preboarding.api.models import Company
from preboarding.api.profiles import HireFacts, team_entry
from preboarding.api.sources import OnboardingProfileSpec, Vendor
from preboarding.bridge.hires import SourceContext, chosen_email, company_for, hire_manifest, hire_spec
from preboarding.bridge.intake import InvalidPayload
from preboarding.bridge.vendors.base import NewHire

pytestmark = pytest.mark.unit

PROFILE = OnboardingProfileSpec.model_validate({
    "company": {"name": "Northwind", "logoURL": "https://cdn.northwind.example/logo.png"},
    "allowedLogoHosts": ["brand.northwind.example"],
    "defaults": {"language": "de"},
    "teams": [
        {"match": {"department": "Engineering", "role": "Backend Engineer"}, "techStack": ["Go"]},
        {"match": {"department": "Engineering"}, "techStack": ["Python"], "manager": "Grace Hopper"},
        {"techStack": ["Slack"], "buddy": "Linus"},
    ],
})
CTX = SourceContext(name="greenhouse", vendor=Vendor.GREENHOUSE, email="personal", profile_name="northwind",
                    profile_generation=2, profile=PROFILE)
HIRE = NewHire(person_id="4455", first_name="Zoë", last_name="Ångström-Núñez", personal_email="zoe@example.com",
               work_email="zoe@northwind.example", role="Backend Engineer", department="engineering",
               start_date=dt.date(2027, 1, 4), external_ids={"applicationId": "77"})


def test_the_first_matching_entry_wins_and_an_entry_without_match_is_the_fallback() -> None:
    def stack(**facts: str) -> list[str]:
        entry = team_entry(PROFILE, HireFacts(**facts))
        return entry.tech_stack if entry else []

    assert stack(department=" ENGINEERING ", role="backend engineer") == ["Go"]
    assert stack(department="Engineering", role="Designer") == ["Python"]
    assert stack(department="Sales") == ["Slack"]
    assert stack() == ["Slack"]  # nothing sent: only the fallback fits
    no_fallback = PROFILE.model_copy(update={"teams": PROFILE.teams[:1]})
    assert team_entry(no_fallback, HireFacts(department="Sales")) is None


def test_personal_email_first_then_the_other() -> None:
    assert chosen_email(HIRE, "personal") == "zoe@example.com"
    assert chosen_email(HIRE, "work") == "zoe@northwind.example"
    only_work = NewHire(person_id="1", work_email="w@example.com")
    assert chosen_email(only_work, "personal") == "w@example.com"
    assert chosen_email(NewHire(person_id="1"), "personal") is None


def test_the_spec_is_self_contained() -> None:
    spec = hire_spec(HIRE, CTX, "evt-1")
    assert spec.employee.name == "Zoë Ångström-Núñez"
    assert spec.employee.tech_stack == ["Go"]
    assert spec.employee.team == "engineering"  # no team sent: the department is shown
    assert spec.employee.language == "de"
    assert spec.company.name == "Northwind"
    assert spec.source is not None and spec.source.external_ids == {"applicationId": "77"}
    assert spec.profile is not None and spec.profile.generation == 2


def test_what_is_missing_is_named_all_at_once() -> None:
    with pytest.raises(InvalidPayload) as info:
        hire_spec(NewHire(person_id="1", first_name="A"), CTX, None)
    assert [p.field for p in info.value.problems] == ["employee.email", "employee.role", "employee.startDate"]


def test_an_id_the_api_cannot_name_is_named() -> None:
    with pytest.raises(InvalidPayload) as info:
        hire_spec(NewHire(person_id="bad id/with spaces", name="A", personal_email="a@example.com", role="R",
                          start_date=dt.date(2027, 1, 4)), CTX, None)
    assert [p.field for p in info.value.problems] == ["employee.id"]


def test_a_webhook_chooses_the_logo_only_on_an_allowed_host() -> None:
    evil = Company(name="X", logoURL="http://169.254.169.254/latest/meta-data/")
    assert str(company_for(PROFILE, evil).logo_url) == "https://cdn.northwind.example/logo.png"
    brand = Company(name="X", logoURL="https://brand.northwind.example/new.png")
    assert str(company_for(PROFILE, brand).logo_url) == "https://brand.northwind.example/new.png"


def test_one_name_per_person_and_source() -> None:
    a = hire_manifest(HIRE, CTX, "hr", "evt-1")["metadata"]["name"]
    b = hire_manifest(HIRE, CTX, "hr", "evt-2")["metadata"]["name"]
    other = SourceContext(**{**CTX.__dict__, "name": "bamboohr"})
    assert a == b != hire_manifest(HIRE, other, "hr", None)["metadata"]["name"]
    assert a.startswith("welcome-4455-")


@pytest.mark.parametrize(("contact", "mailed"), [("people@northwind.example", "people@northwind.example"),
                                                 ("Ask Maria in People Ops", None), (None, None)])
def test_the_profiles_hr_contact_is_told_of_failures_when_it_is_an_address(contact: str | None,
                                                                          mailed: str | None) -> None:
    profile = PROFILE.model_copy(update={"hr_contact": contact})
    ctx = SourceContext(name="greenhouse", vendor=Vendor.GREENHOUSE, email="personal", profile_name="northwind",
                        profile_generation=2, profile=profile)
    assert hire_spec(HIRE, ctx, "evt-1").delivery.hr_contact == mailed
