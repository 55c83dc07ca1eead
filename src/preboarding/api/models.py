"""Pydantic models of the OnboardingVideo spec and status.

These models are the single source of truth for the API: ``preboarding.api.crd`` generates the
CRD's openAPIV3Schema from them, so every ``description=`` here is what ``kubectl explain`` shows.
Python attributes are snake_case; the wire names are the Kubernetes camelCase aliases.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from preboarding.api.stages import Stage

# Constraint types: every limit is written here once, and both the spec and the HR payload
# (preboarding.api.payload) use them, so a webhook is refused for exactly what the apiserver would refuse.
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ItemText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
HexColor = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]
EmployeeId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")]
DayItems = Annotated[list[ItemText], Field(min_length=1, max_length=12)]
TechStack = Annotated[list[ShortText], Field(max_length=30)]
MAX_SCHEDULE_DAYS = 7
TargetSeconds = Annotated[int, Field(ge=30, le=300)]
LinkExpiryHours = Annotated[int, Field(ge=1, le=168)]
LinkValidDays = Annotated[int, Field(ge=1, le=365)]
VoiceName = Annotated[str, StringConstraints(max_length=100)]

DEFAULT_BRAND_COLOR = "#2563EB"
DEFAULT_LANGUAGE = "en"
DEFAULT_TARGET_SECONDS = 75
DEFAULT_LINK_EXPIRY_HOURS = 168
DEFAULT_LINK_VALID_DAYS = 30

Phase = Literal["Pending", "Running", "Succeeded", "Failed"]
StageState = Literal["Pending", "Waiting", "Scheduled", "Running", "Succeeded", "Failed", "Skipped"]
DeliveryState = Literal["Scheduled", "Sent", "Delivered", "Opened", "Bounced", "Dropped", "Failed"]
DaysBeforeStart = Annotated[int, Field(ge=0, le=365)]
Tone = Literal["warm", "professional", "playful"]
DEFAULT_TONE: Tone = "warm"
ConditionStatus = Literal["True", "False", "Unknown"]


class ApiModel(BaseModel):
    """Base for API models: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class ScheduleDay(ApiModel):
    """One day of the new hire's first week."""

    day: ShortText = Field(description='Label of the day as the new hire should hear it, e.g. "Monday".')
    items: DayItems = Field(description="What happens that day, in order, one short sentence each.")


class Employee(ApiModel):
    """The new hire the video is for. Personal data: it is deleted from storage with the resource."""

    id: EmployeeId = Field(
        description="The HR system's stable identifier of the employee (letters, digits, . _ : @ -)."
    )
    name: ShortText = Field(description="Full name, as it should be spoken and shown on the slides.")
    email: EmailStr = Field(description="Address the welcome email with the video link is sent to.")
    role: ShortText = Field(description='Job title, e.g. "Backend Engineer".')
    team: ShortText | None = Field(default=None, description="Team the new hire joins.")
    manager: ShortText | None = Field(default=None, description="Name of the new hire's manager.")
    buddy: ShortText | None = Field(default=None, description="Name of the onboarding buddy.")
    start_date: dt.date = Field(description="First working day, an ISO 8601 date (YYYY-MM-DD).")
    location: ShortText | None = Field(
        default=None, description='Where the new hire starts, e.g. "Berlin office" or "Remote".'
    )
    tech_stack: TechStack = Field(
        default_factory=list,
        description="Tools and technologies the new hire will use; shown on the tech-stack slide.",
    )
    schedule: list[ScheduleDay] = Field(
        default_factory=list, max_length=MAX_SCHEDULE_DAYS, description="The first week's plan, one entry per day."
    )
    language: LanguageTag = Field(
        default=DEFAULT_LANGUAGE, description='Language of the script and voices, a BCP 47 tag such as "en" or "en-US".'
    )


class Company(ApiModel):
    """The employer, for branding the slides and the email."""

    name: ShortText = Field(description="Company name, spoken in the welcome and shown on every slide.")
    brand_color: HexColor = Field(
        default=DEFAULT_BRAND_COLOR,
        description='Brand colour as "#RRGGBB"; slides and email derive their palette from it '
        "with text contrast of at least 4.5:1.",
    )
    logo_url: AnyHttpUrl | None = Field(
        default=None,
        alias="logoURL",
        description="Optional http(s) URL of a PNG or JPEG logo shown on the slides.",
    )


class ScriptOptions(ApiModel):
    """How the two hosts, Alex and Jordan, talk."""

    tone: Tone = Field(default=DEFAULT_TONE, description="Tone of the dialogue: warm, professional or playful.")
    target_seconds: TargetSeconds = Field(
        default=DEFAULT_TARGET_SECONDS, description="Target length of the video in seconds (30-300)."
    )


class Voices(ApiModel):
    """Voice overrides per host; empty means the provider's default voice for that host."""

    alex: VoiceName | None = Field(
        default=None, description='Voice name for Alex, e.g. "en-US-Neural2-J" (Google) or "rms" (flite).'
    )
    jordan: VoiceName | None = Field(
        default=None, description='Voice name for Jordan, e.g. "en-US-Neural2-F" (Google) or "slt" (flite).'
    )


class Delivery(ApiModel):
    """Whether and how the new hire is told about the finished video."""

    send_email: bool = Field(
        default=True, description="Email the new hire a link to the video when it is ready."
    )
    send_at: dt.datetime | None = Field(
        default=None,
        description="Send the email at this time (RFC 3339; without an offset, UTC) instead of daysBeforeStart. "
        "The video is rendered at once either way; a time already past sends when the video is ready.",
    )
    days_before_start: DaysBeforeStart | None = Field(
        default=None,
        description="Send the email this many days before the start date (at the operator's send time of day, "
        "09:00 UTC by default); unset: the operator's default (PREBOARDING_DAYS_BEFORE_START, 7). If the start "
        "date is closer than that, the email goes when the video is ready.",
    )
    hr_contact: EmailStr | None = Field(
        default=None,
        description="Who at HR is told, besides the operator's administrator (PREBOARDING_ADMIN_EMAIL), when a "
        "stage fails for good or the email bounces or is dropped (the bridge copies the profile's hrContact).",
    )
    link_valid_days: LinkValidDays = Field(
        default=DEFAULT_LINK_VALID_DAYS,
        description="The emailed watch link works until this many days after the start date (1-365).",
    )
    link_expiry_hours: LinkExpiryHours = Field(
        default=DEFAULT_LINK_EXPIRY_HOURS,
        description="Only without a watch page (no PREBOARDING_WATCH_URL): hours the emailed direct "
        "link to the MP4 stays valid (1-168; S3 presigned URLs allow at most 7 days).",
    )


class VideoSource(ApiModel):
    """Where a video came from: the OnboardingSource and the vendor's ids (set by the bridge)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=253)] = Field(
        description="The OnboardingSource the webhook arrived at."
    )
    vendor: Annotated[str, StringConstraints(min_length=1, max_length=50)] = Field(
        description="The HR system: greenhouse, bamboohr, ashby, lever, hibob, standard or generic."
    )
    delivery_id: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="The delivery that created or last changed the video."
    )
    external_ids: dict[str, Annotated[str, StringConstraints(max_length=256)]] = Field(
        default_factory=dict, max_length=20,
        description='The vendor\'s ids of the person, e.g. {"candidateId": "...", "applicationId": "..."}.',
    )


class VideoProfile(ApiModel):
    """The OnboardingProfile whose values were copied into the spec."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=253)] = Field(
        description="Name of the OnboardingProfile."
    )
    generation: int | None = Field(default=None, ge=0, description="Its metadata.generation at the time.")


class OnboardingVideoSpec(ApiModel):
    """Desired state: who the video is for and how to render and deliver it."""

    employee: Employee = Field(description="The new hire the video welcomes.")
    company: Company = Field(description="The employer whose branding the video uses.")
    script: ScriptOptions = Field(
        default_factory=ScriptOptions, description="Options for the two-host dialogue."
    )
    voices: Voices = Field(default_factory=Voices, description="Voice choices for the two hosts.")
    delivery: Delivery = Field(default_factory=Delivery, description="Email delivery of the finished video.")
    source: VideoSource | None = Field(
        default=None, description="Where the video came from, when an HR system's webhook made it."
    )
    profile: VideoProfile | None = Field(
        default=None, description="The OnboardingProfile whose branding and defaults were copied in."
    )


class Condition(ApiModel):
    """A metav1.Condition: one aspect of the video's state at a point in time."""

    type: Annotated[str, StringConstraints(max_length=316, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")] = Field(
        description='Condition type: "Succeeded" for the whole video, or a stage name in CamelCase '
        'with a "Ready" suffix, e.g. "ScriptReady".'
    )
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: Annotated[
        str, StringConstraints(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    ] = Field(description='Machine-readable CamelCase reason, e.g. "StageFailed".')
    message: Annotated[str, StringConstraints(max_length=32768)] = Field(
        default="", description="Human-readable explanation."
    )
    last_transition_time: dt.datetime = Field(
        description="When the condition last changed status (RFC 3339)."
    )
    observed_generation: int | None = Field(
        default=None, ge=0, description="metadata.generation the condition was set for."
    )


class StageStatus(ApiModel):
    """What happened in one pipeline stage (``status.stages[]``; what the stage wrote is in its record in the
    store, ``preboarding.api.records.StageRecord``)."""

    name: Stage = Field(description="Stage name: script, audio, slides, compose or notify.")
    state: StageState = Field(
        default="Pending",
        description="Pending, Waiting (for capacity), Scheduled (notify: the email waits for its send time), "
        "Running, Succeeded, Failed or Skipped.",
    )
    job_name: str | None = Field(default=None, description="Name of the Job of the current attempt.")
    run: int = Field(
        default=1, ge=1, description="Run of this stage; a retry annotation starts a new run (a new Job)."
    )
    attempts: int = Field(default=0, ge=0, description="Pods tried for this stage's current Job so far.")
    started_at: dt.datetime | None = Field(default=None, description="When the current attempt started.")
    finished_at: dt.datetime | None = Field(default=None, description="When the stage finished.")
    duration_seconds: float | None = Field(default=None, ge=0, description="Wall time of the last attempt.")
    inputs_hash: str | None = Field(
        default=None, description="Digest of the spec fields this stage reads; a change reruns it."
    )
    message: str | None = Field(default=None, description="Reason of the last failure, if any.")


class DeliveryStatus(ApiModel):
    """The welcome email and the new hire's views.

    The operator writes state (Scheduled, Sent, Failed), scheduledAt, sentAt and messageId; the bridge writes
    what it hears: Opened, firstViewedAt and views from the watch page, Delivered, Bounced and Dropped from the
    mail provider's events. A state never moves backwards (``preboarding.api.delivery.advance``).
    """

    state: DeliveryState | None = Field(
        default=None, description="Scheduled, Sent, Delivered, Opened, Bounced, Dropped or Failed."
    )
    scheduled_at: dt.datetime | None = Field(default=None, description="When the email is (or was) due.")
    sent_at: dt.datetime | None = Field(default=None, description="When the mail provider accepted the email.")
    message_id: Annotated[str, StringConstraints(max_length=998)] | None = Field(
        default=None, description="The accepted message's id (SMTP Message-ID or SendGrid's X-Message-Id)."
    )
    last_event_at: dt.datetime | None = Field(
        default=None, description="When the mail provider last reported on the email (SendGrid's Event Webhook)."
    )
    sends: int = Field(default=0, ge=0, description="Emails sent for this video (a resend adds one).")
    first_viewed_at: dt.datetime | None = Field(default=None, description="When the watch page was first opened.")
    views: int = Field(default=0, ge=0, description="How often the watch page was opened (no IP, no user agent).")


class OnboardingVideoStatus(ApiModel):
    """Observed state: the operator writes all of it but parts of ``delivery`` (see DeliveryStatus)."""

    phase: Phase = Field(default="Pending", description="Pending, Running, Succeeded or Failed.")
    stage: Stage | None = Field(default=None, description="The stage running now, or the one that failed.")
    progress: Annotated[str, StringConstraints(pattern=r"^[0-9]+/[0-9]+$")] | None = Field(
        default=None, description='Finished stages out of those planned, e.g. "2/5".'
    )
    message: str | None = Field(default=None, description="One sentence on the current state.")
    conditions: list[Condition] = Field(
        default_factory=list,
        description='Latest observations: "Succeeded" for the whole video and one "<Stage>Ready" per stage.',
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    stages: list[StageStatus] = Field(
        default_factory=list,
        description="One record per pipeline stage.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    video_key: str | None = Field(default=None, description="Object key of the finished video.mp4.")
    storage_prefix: str | None = Field(
        default=None, description="Prefix under which every object of this video is stored."
    )
    observed_retry: str | None = Field(
        default=None,
        description="Last value of the preboarding.dev/retry annotation the operator acted on.",
    )
    alerted: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=list, max_length=20,
        description="Failures the administrator and HR contact were mailed about (one mail per failure, not "
        "per retry), newest last.",
    )
    observed_resend: str | None = Field(
        default=None,
        description="Last value of the preboarding.dev/resend annotation the operator acted on.",
    )
    observed_generation: int | None = Field(
        default=None, ge=0, description="metadata.generation the status reflects."
    )
    delivery: DeliveryStatus | None = Field(
        default=None, description="The welcome email's delivery and the new hire's views."
    )
