"""A vendor-neutral new hire + the source's OnboardingProfile -> an OnboardingVideo manifest (pure).

The resulting spec is self-contained: the profile's company, defaults and matching team entry are
copied in, and ``spec.source`` / ``spec.profile`` record where it came from. A later change of the
profile does not change existing videos; the next delivery for the person does (the usual update rules:
only the stages whose inputs changed run again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from preboarding.api.models import (
    DEFAULT_LANGUAGE,
    Company,
    Delivery,
    Employee,
    OnboardingVideoSpec,
    VideoProfile,
    VideoSource,
)
from preboarding.api.payload import NewHirePayload, video_manifest, video_name
from preboarding.api.profiles import HireFacts, team_entry
from preboarding.api.sources import EmailChoice, OnboardingProfileSpec, Vendor
from preboarding.bridge.intake import FieldProblem, InvalidPayload, problems_from
from preboarding.bridge.vendors.base import NewHire


@dataclass(frozen=True)
class SourceContext:
    """What of the OnboardingSource and its profile the mapping needs (``name`` empty: no source, a native
    payload that named a profile)."""

    name: str
    vendor: Vendor
    email: EmailChoice
    profile_name: str
    profile_generation: int | None
    profile: OnboardingProfileSpec


def chosen_email(hire: NewHire, choice: EmailChoice) -> str | None:
    """The address the video goes to: the chosen kind, else the other one."""
    first, second = (hire.personal_email, hire.work_email) if choice == "personal" else (
        hire.work_email, hire.personal_email)
    return next((e.strip() for e in (first, second) if e and e.strip()), None)


def logo_allowed(url: str | None, profile: OnboardingProfileSpec) -> bool:
    """A webhook's logo URL is honoured only on a host the profile allows (or the profile's own logo host)."""
    if not url:
        return False
    host = (urlsplit(url).netloc or "").lower()
    allowed = {h.lower() for h in profile.allowed_logo_hosts}
    if profile.company.logo_url is not None:
        allowed.add((urlsplit(str(profile.company.logo_url)).netloc or "").lower())
    return bool(host) and host in allowed


def company_for(profile: OnboardingProfileSpec, webhook_company: Company | None = None) -> Company:
    """The profile's company; a webhook's own company may rename or recolour, and change the logo only
    to an allowed host (an administrator's choice, not the payload's: see logo_allowed)."""
    if webhook_company is None:
        return profile.company.model_copy(deep=True)
    logo = webhook_company.logo_url
    if logo is not None and not logo_allowed(str(logo), profile):
        logo = profile.company.logo_url
    return webhook_company.model_copy(update={"logo_url": logo})


def hire_spec(hire: NewHire, ctx: SourceContext, delivery_id: str | None) -> OnboardingVideoSpec:
    """The spec for one new hire (pure). Raises ``InvalidPayload`` naming what is missing or invalid.

    Field names in errors are the video's (``employee.startDate``): what the vendor sent could not make
    a valid video, whatever the vendor called the field.
    """
    profile = ctx.profile
    facts = HireFacts(department=hire.department, team=hire.team, location=hire.location, role=hire.role)
    entry = team_entry(profile, facts)
    missing = [FieldProblem(f"employee.{name}", "the HR system sent no value and the profile has none",
                            "missing")
               for name, value in (("name", hire.full_name()), ("email", chosen_email(hire, ctx.email)),
                                   ("role", hire.role), ("startDate", hire.start_date)) if not value]
    if missing:
        raise InvalidPayload(missing)
    employee: dict[str, Any] = {
        "id": hire.person_id,
        "name": hire.full_name(),
        "email": chosen_email(hire, ctx.email),
        "role": hire.role,
        "team": hire.team or (entry.team if entry else None) or hire.department,
        "manager": hire.manager or (entry.manager if entry else None),
        "buddy": hire.buddy or (entry.buddy if entry else None),
        "startDate": hire.start_date,
        "location": hire.location,
        "techStack": list(hire.tech_stack) or (list(entry.tech_stack) if entry else []),
        "schedule": ([{"day": day, "items": list(items)} for day, items in hire.schedule]
                     or ([d.model_dump(by_alias=True) for d in entry.schedule] if entry else [])),
        "language": hire.language or profile.defaults.language or DEFAULT_LANGUAGE,
    }
    try:
        valid_employee = Employee.model_validate(employee)
    except ValidationError as exc:
        raise InvalidPayload([FieldProblem(f"employee.{p.field}", p.message, p.type)
                              for p in problems_from(exc)]) from None
    try:
        return OnboardingVideoSpec(
            employee=valid_employee,
            company=company_for(profile),
            script=profile.defaults.script.model_copy(deep=True),
            voices=profile.defaults.voices.model_copy(deep=True),
            delivery=_delivery(profile),
            source=VideoSource(name=ctx.name, vendor=ctx.vendor.value, delivery_id=delivery_id,
                               external_ids=dict(hire.external_ids)) if ctx.name else None,
            profile=VideoProfile(name=ctx.profile_name, generation=ctx.profile_generation),
        )
    except ValidationError as exc:  # e.g. more external ids than a video records
        raise InvalidPayload(problems_from(exc)) from None


def _delivery(profile: OnboardingProfileSpec) -> Delivery:
    """The profile's delivery defaults; its hrContact, when it is an address, is told of failures too."""
    delivery = profile.defaults.delivery.model_copy(deep=True)
    contact = (profile.hr_contact or "").strip()
    if delivery.hr_contact is None and _ADDRESS.match(contact):
        try:
            return Delivery.model_validate({**delivery.model_dump(by_alias=True), "hrContact": contact})
        except ValidationError:
            return delivery  # "people@" with no valid domain: shown on the page, not mailed
    return delivery


_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def payload_hire(payload: NewHirePayload) -> NewHire:
    """The native payload's employee as a vendor-neutral new hire (its email counts as personal)."""
    e = payload.employee
    return NewHire(
        person_id=e.id, name=e.name, personal_email=str(e.email), role=e.role, team=e.team, manager=e.manager,
        buddy=e.buddy, location=e.location, start_date=e.start_date, language=e.language if "language" in
        e.model_fields_set else None, tech_stack=tuple(e.tech_stack),
        schedule=tuple((d.day, tuple(d.items)) for d in e.schedule),
    )


def payload_with_profile(payload: NewHirePayload, profile_name: str, profile_generation: int | None,
                         profile: OnboardingProfileSpec) -> OnboardingVideoSpec:
    """A native payload that names a profile: the profile fills in what the payload leaves out (pure).

    The payload's own company may rename or recolour (its logo only on an allowed host); options the
    payload sets win over the profile's defaults.
    """
    ctx = SourceContext(name="", vendor=Vendor.STANDARD, email="personal", profile_name=profile_name,
                        profile_generation=profile_generation, profile=profile)
    spec = hire_spec(payload_hire(payload), ctx, None)
    given = payload.options.model_fields_set
    o = payload.options
    script = spec.script.model_copy(update={k: getattr(o, k) for k in ("tone", "target_seconds") if k in given})
    delivery = spec.delivery.model_copy(update={k: getattr(o, k) for k in ("send_email", "link_valid_days",
                                                                           "link_expiry_hours") if k in given})
    company = spec.company
    if payload.company is not None:
        c = payload.company
        company = company_for(profile, Company(name=c.name, brand_color=c.brand_color, logoURL=c.logo_url))
    return spec.model_copy(update={"script": script, "delivery": delivery, "company": company})


def source_video_name(ctx: SourceContext, person_id: str) -> str:
    """One person through one source is one video, however often the vendor sends the hire."""
    return video_name(person_id, source=ctx.name)


def hire_manifest(hire: NewHire, ctx: SourceContext, namespace: str, delivery_id: str | None) -> dict[str, Any]:
    """The OnboardingVideo manifest for one new hire through a source (pure)."""
    spec = hire_spec(hire, ctx, delivery_id)
    return video_manifest(spec, source_video_name(ctx, hire.person_id), namespace, webhook_id=delivery_id)
