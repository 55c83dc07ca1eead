"""The HR system's new-hire payload and its mapping to an OnboardingVideo.

The payload is the shape HR integrations already send (snake_case, see ``examples/new-hire.json``).
``build_onboarding_video`` is a pure function from payload to resource manifest, used by the webhook
bridge and by ``preboarding render``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Annotated, Any

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from preboarding import api
from preboarding.api.labels import video_labels
from preboarding.api.models import (
    DEFAULT_BRAND_COLOR,
    DEFAULT_LANGUAGE,
    DEFAULT_LINK_EXPIRY_HOURS,
    DEFAULT_LINK_VALID_DAYS,
    DEFAULT_TARGET_SECONDS,
    DEFAULT_TONE,
    MAX_SCHEDULE_DAYS,
    Company,
    DayItems,
    Delivery,
    Employee,
    EmployeeId,
    HexColor,
    LanguageTag,
    LinkExpiryHours,
    LinkValidDays,
    OnboardingVideoSpec,
    ScheduleDay,
    ScriptOptions,
    ShortText,
    TargetSeconds,
    TechStack,
    Tone,
)


class PayloadModel(BaseModel):
    """Base for payload models: snake_case as HR systems send it; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


# The payload's models restate the spec's fields in the payload's own (snake_case) shape; every limit
# comes from the constraint types in preboarding.api.models.


class PayloadScheduleDay(PayloadModel):
    day: ShortText
    items: DayItems


class PayloadEmployee(PayloadModel):
    id: EmployeeId
    name: ShortText
    email: EmailStr
    role: ShortText
    team: ShortText | None = None
    manager: ShortText | None = None
    buddy: ShortText | None = None
    start_date: dt.date
    location: ShortText | None = None
    tech_stack: TechStack = Field(default_factory=list)
    schedule: list[PayloadScheduleDay] = Field(default_factory=list, max_length=MAX_SCHEDULE_DAYS)
    language: LanguageTag = DEFAULT_LANGUAGE


class PayloadCompany(PayloadModel):
    name: ShortText
    brand_color: HexColor = DEFAULT_BRAND_COLOR
    logo_url: AnyHttpUrl | None = None


class PayloadOptions(PayloadModel):
    tone: Tone = DEFAULT_TONE
    target_seconds: TargetSeconds = DEFAULT_TARGET_SECONDS
    send_email: bool = True
    link_valid_days: LinkValidDays = DEFAULT_LINK_VALID_DAYS
    link_expiry_hours: LinkExpiryHours = DEFAULT_LINK_EXPIRY_HOURS


class NewHirePayload(PayloadModel):
    """What an HR system posts to ``/webhooks/user-onboarding``.

    ``company`` may be left out when ``profile`` names an OnboardingProfile of the bridge's namespace:
    the profile's branding, defaults and matching team entry are then copied in.
    """

    # profile comes first: the company check below reads it.
    profile: Annotated[str, StringConstraints(min_length=1, max_length=253,
                                              pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")] | None = None
    employee: PayloadEmployee
    company: PayloadCompany | None = Field(default=None, validate_default=True)
    options: PayloadOptions = Field(default_factory=PayloadOptions)

    @field_validator("company")
    @classmethod
    def _company_or_profile(cls, value: PayloadCompany | None, info: ValidationInfo) -> PayloadCompany | None:
        implied = bool(info.context and info.context.get("profile_implied"))  # a source names the profile
        if value is None and info.data.get("profile") is None and not implied:
            raise PydanticCustomError("missing", "Field required unless profile names an OnboardingProfile")
        return value


def payload_to_spec(payload: NewHirePayload) -> OnboardingVideoSpec:
    """Map an HR payload that names its company to the OnboardingVideo spec (pure)."""
    if payload.company is None:
        raise ValueError("the payload names a profile instead of its company: apply the profile first")
    e, c, o = payload.employee, payload.company, payload.options
    return OnboardingVideoSpec(
        employee=Employee(
            id=e.id,
            name=e.name,
            email=e.email,
            role=e.role,
            team=e.team,
            manager=e.manager,
            buddy=e.buddy,
            start_date=e.start_date,
            location=e.location,
            tech_stack=list(e.tech_stack),
            schedule=[ScheduleDay(day=d.day, items=list(d.items)) for d in e.schedule],
            language=e.language,
        ),
        company=Company(name=c.name, brand_color=c.brand_color, logoURL=c.logo_url),
        script=ScriptOptions(tone=o.tone, target_seconds=o.target_seconds),
        delivery=Delivery(send_email=o.send_email, link_valid_days=o.link_valid_days,
                          link_expiry_hours=o.link_expiry_hours),
    )


def spec_digest(spec: OnboardingVideoSpec) -> str:
    """A stable SHA-256 of the spec's content: the same employee data gives the same digest.

    The delivery that carried the data is left out, so the same data redelivered under a new delivery
    id (vendors without stable ids) is still a duplicate.
    """
    content = spec.model_dump(mode="json", by_alias=True)
    if content.get("source"):
        content["source"].pop("deliveryId", None)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def video_name(employee_id: str, source: str | None = None) -> str:
    """Deterministic, DNS-1123-safe resource name for an employee's video (the bridge's job id).

    One employee has one video: a redelivered or re-sent webhook maps to the same name, which is what
    makes the apiserver's AlreadyExists the idempotency lock. A video made through an OnboardingSource
    derives its name from the source and the vendor's person id (two vendors may reuse an id).
    """
    slug = re.sub(r"[^a-z0-9]+", "-", employee_id.lower()).strip("-")[:40].strip("-") or "employee"
    identity = employee_id if source is None else f"{source}/{employee_id}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
    return f"welcome-{slug}-{digest}"


def video_manifest(spec: OnboardingVideoSpec, name: str, namespace: str, *,
                   webhook_id: str | None = None) -> dict[str, Any]:
    """An OnboardingVideo manifest with the bridge's labels and idempotency annotations (pure)."""
    annotations = {api.ANNOTATION_PAYLOAD_HASH: spec_digest(spec)}
    if webhook_id:
        annotations[api.ANNOTATION_WEBHOOK_ID] = webhook_id
        annotations[api.ANNOTATION_RECENT_WEBHOOK_IDS] = webhook_id
    return {
        "apiVersion": api.API_VERSION,
        "kind": api.KIND,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": video_labels(spec.employee.id),
            "annotations": annotations,
        },
        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def build_onboarding_video(
    payload: NewHirePayload, namespace: str, *, webhook_id: str | None = None
) -> dict[str, Any]:
    """The OnboardingVideo manifest for a payload (pure; the caller creates it)."""
    return video_manifest(payload_to_spec(payload), video_name(payload.employee.id), namespace,
                          webhook_id=webhook_id)
