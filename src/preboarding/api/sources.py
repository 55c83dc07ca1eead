"""Pydantic models of ``OnboardingSource`` (one HR system's webhook) and ``OnboardingProfile`` (what no HR
system sends: branding, defaults, per-team tech stack and first week).

Like ``preboarding.api.models``, these are the single source of truth: ``preboarding.api.crd`` generates
their CRDs from them, and every ``description=`` is what ``kubectl explain`` shows.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from preboarding.api.models import (
    ApiModel,
    Company,
    Condition,
    Delivery,
    LanguageTag,
    ScheduleDay,
    ScriptOptions,
    ShortText,
    TechStack,
    Voices,
)

# A Kubernetes object name (DNS-1123 subdomain) and a Secret key.
ObjectName = Annotated[str, StringConstraints(min_length=1, max_length=253,
                                              pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
SecretKey = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")]
MatchText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
HostName = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")]
JmesPath = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
HeaderName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")]


class Vendor(StrEnum):
    """The HR or recruiting system behind a source."""

    GREENHOUSE = "greenhouse"
    BAMBOOHR = "bamboohr"
    ASHBY = "ashby"
    LEVER = "lever"
    HIBOB = "hibob"
    STANDARD = "standard"
    GENERIC = "generic"


# -- OnboardingProfile ---------------------------------------------------------------------------------


class TeamMatch(ApiModel):
    """Which new hires a team entry is for: every field given must equal the vendor's value (any case)."""

    department: MatchText | None = Field(default=None, description="Department as the HR system names it.")
    team: MatchText | None = Field(default=None, description="Team as the HR system names it.")
    location: MatchText | None = Field(default=None, description="Office or location as the HR system names it.")
    role: MatchText | None = Field(default=None, description="Job title as the HR system names it.")


class TeamEntry(ApiModel):
    """Per-team defaults: what the new hire's first week and tools look like."""

    match: TeamMatch | None = Field(
        default=None, description="Who this entry is for; an entry without match is the fallback."
    )
    tech_stack: TechStack = Field(default_factory=list, description="Tools shown on the tech-stack slide.")
    schedule: list[ScheduleDay] = Field(
        default_factory=list, max_length=7, description="The first week's plan, one entry per day."
    )
    buddy: ShortText | None = Field(default=None, description="The onboarding buddy, unless the HR system names one.")
    manager: ShortText | None = Field(default=None, description="The manager, unless the HR system names one.")
    team: ShortText | None = Field(default=None, description="Team name to show, unless the HR system sends one.")


class ProfileDefaults(ApiModel):
    """Video options for every new hire of the profile."""

    script: ScriptOptions = Field(default_factory=ScriptOptions, description="Tone and length of the dialogue.")
    voices: Voices = Field(default_factory=Voices, description="Voice choices for the two hosts.")
    delivery: Delivery = Field(default_factory=Delivery, description="Email delivery of the finished video.")
    language: LanguageTag | None = Field(
        default=None, description="Language of the videos, unless the HR system sends one (BCP 47)."
    )


class OnboardingProfileSpec(ApiModel):
    """Branding, defaults and per-team content that HR systems do not send."""

    company: Company = Field(description="The employer whose branding the videos use.")
    defaults: ProfileDefaults = Field(default_factory=ProfileDefaults, description="Video options.")
    teams: list[TeamEntry] = Field(
        default_factory=list,
        max_length=200,
        description="Per-team content; the first entry whose match fits wins, an entry without match is the "
        "fallback.",
    )
    allowed_logo_hosts: list[HostName] = Field(
        default_factory=list,
        max_length=20,
        description="Hosts a webhook's own logo URL may point at (the profile's company.logoURL is always "
        "allowed). Empty: a webhook cannot choose the logo.",
    )
    hr_contact: ShortText | None = Field(
        default=None, description="Whom a new hire can ask about the video (a name or an address)."
    )


# -- OnboardingSource ----------------------------------------------------------------------------------


class SecretKeyRef(ApiModel):
    """One key of a Secret in the source's namespace."""

    name: ObjectName = Field(description="Name of the Secret.")
    key: SecretKey = Field(description="Key in the Secret's data.")


class ProfileRef(ApiModel):
    """An OnboardingProfile in the source's namespace."""

    name: ObjectName = Field(description="Name of the OnboardingProfile.")


class VendorApi(ApiModel):
    """The vendor's API, for webhooks that carry only ids."""

    url: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"^https?://[^\s]+$",
        description="Base URL of the vendor's API; default: the vendor's public one. For BambooHR include "
        "the company: https://api.bamboohr.com/api/gateway.php/<company>.",
    )
    token_secret_ref: SecretKeyRef = Field(
        description="The API key (HiBob: <service user id>:<token>), in a Secret of this namespace."
    )


SignatureScheme = Literal["standard-webhooks", "hmac-sha256-hex", "bearer"]


class SignatureSpec(ApiModel):
    """How a generic source's deliveries are authenticated (with the key in spec.secretRef)."""

    scheme: SignatureScheme = Field(
        description="standard-webhooks (webhook-id/-timestamp/-signature), hmac-sha256-hex (hex HMAC of the "
        "body in a header) or bearer (Authorization: Bearer <secret>)."
    )
    header: HeaderName | None = Field(
        default=None, description="hmac-sha256-hex: the header carrying the signature, e.g. X-Signature."
    )
    prefix: Annotated[str, StringConstraints(max_length=50)] = Field(
        default="", description='hmac-sha256-hex: text before the hex digest, e.g. "sha256=".'
    )
    delivery_id_header: HeaderName | None = Field(
        default=None, description="A header that identifies one delivery (for redelivery detection)."
    )


class GenericMapping(ApiModel):
    """JMESPath expressions that find each employee field in a generic source's JSON."""

    id: JmesPath = Field(description="The person's stable id in the HR system.")
    name: JmesPath | None = Field(default=None, description="Full name (or use firstName and lastName).")
    first_name: JmesPath | None = Field(default=None, description="Given name.")
    last_name: JmesPath | None = Field(default=None, description="Family name.")
    email: JmesPath | None = Field(default=None, description="Email address to send the video to.")
    personal_email: JmesPath | None = Field(default=None, description="Personal email address.")
    work_email: JmesPath | None = Field(default=None, description="Work email address.")
    role: JmesPath | None = Field(default=None, description="Job title.")
    department: JmesPath | None = Field(default=None, description="Department.")
    team: JmesPath | None = Field(default=None, description="Team.")
    location: JmesPath | None = Field(default=None, description="Office or location.")
    manager: JmesPath | None = Field(default=None, description="Manager's name.")
    buddy: JmesPath | None = Field(default=None, description="Onboarding buddy's name.")
    start_date: JmesPath = Field(description="First working day (YYYY-MM-DD or MM/DD/YYYY).")
    event: JmesPath | None = Field(default=None, description="The event's name; with hireEvents, what counts.")
    hire_events: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="Event names that mean a hire; empty: every delivery."
    )


EmailChoice = Literal["personal", "work"]


class OnboardingSourceSpec(ApiModel):
    """One HR system's webhook into the bridge: ``POST /webhooks/sources/<name>``."""

    vendor: Vendor = Field(description="greenhouse, bamboohr, ashby, lever, hibob, standard or generic.")
    secret_ref: SecretKeyRef = Field(description="The webhook's signing secret (or bearer token).")
    profile_ref: ProfileRef = Field(description="The OnboardingProfile the new hires' videos are made with.")
    email: EmailChoice = Field(
        default="personal",
        description="Which address the video goes to: personal (default; before day one a new hire usually "
        "cannot read a work inbox) or work; the other is used when the chosen one is missing.",
    )
    api: VendorApi | None = Field(default=None, description="The vendor's API, for webhooks that carry only ids.")
    signature: SignatureSpec | None = Field(default=None, description="generic only: how deliveries are signed.")
    mapping: GenericMapping | None = Field(default=None, description="generic only: where the fields are.")
    suspend: bool = Field(default=False, description="Refuse deliveries (503, so the vendor retries later).")


DeliveryOutcome = Literal["accepted", "updated", "duplicate", "deleted", "ignored", "ping", "rejected", "error"]


class LastDelivery(ApiModel):
    """The most recent delivery (never its payload)."""

    time: dt.datetime = Field(description="When it arrived.")
    outcome: DeliveryOutcome = Field(description="What the bridge did with it.")
    reason: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Why, for rejected and error outcomes (e.g. unauthorized, invalid_payload)."
    )


class DeliveryCounts(ApiModel):
    """Deliveries by outcome since the source was created."""

    accepted: int = Field(default=0, ge=0, description="New videos created.")
    updated: int = Field(default=0, ge=0, description="Existing videos updated.")
    duplicate: int = Field(default=0, ge=0, description="Redeliveries, nothing changed.")
    deleted: int = Field(default=0, ge=0, description="Videos deleted (hire rescinded, employee removed).")
    ignored: int = Field(default=0, ge=0, description="Events that are not hires.")
    ping: int = Field(default=0, ge=0, description="Connection tests.")
    rejected: int = Field(default=0, ge=0, description="Refused: bad signature or payload.")
    error: int = Field(default=0, ge=0, description="Failed on our side or the vendor's API; retried.")


class OnboardingSourceStatus(ApiModel):
    """Observed state, written by the webhook bridge."""

    conditions: list[Condition] = Field(
        default_factory=list,
        description='"Ready": the Secret, the profile and (when needed) the API token are there.',
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    last_delivery: LastDelivery | None = Field(default=None, description="The most recent delivery.")
    deliveries: DeliveryCounts = Field(default_factory=DeliveryCounts, description="Deliveries by outcome.")
    observed_generation: int | None = Field(default=None, ge=0, description="metadata.generation seen.")


class OnboardingProfileStatus(ApiModel):
    """Observed state of a profile."""

    observed_generation: int | None = Field(default=None, ge=0, description="metadata.generation seen.")
