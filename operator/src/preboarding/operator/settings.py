"""Operator configuration: environment variables with the ``PREBOARDING_`` prefix, validated at start."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from preboarding.api.delivery import MIN_EMAIL_INTERVAL
from preboarding.storage import StoreSettings


class StageResources(BaseSettings):
    """Requests and limits of a renderer container."""

    model_config = SettingsConfigDict(extra="ignore")

    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    cpu_limit: str = "2"
    memory_limit: str = "1Gi"


class SecretKeyRef(BaseModel):
    """One key of a Secret in the video's namespace."""

    name: str = Field(min_length=1)
    key: str = Field(min_length=1)


class OperatorSettings(BaseSettings):
    """Everything the operator reads from its environment (one place; nothing else reads os.environ)."""

    model_config = SettingsConfigDict(env_prefix="PREBOARDING_", env_nested_delimiter="__", extra="ignore")

    renderer_image: str = Field(default="preboarding-renderer:0.1.0", min_length=1)
    image_pull_policy: str = Field(default="IfNotPresent", pattern="^(Always|IfNotPresent|Never)$")
    renderer_service_account: str = "preboarding-renderer"
    renderer_config_map: str | None = Field(
        default=None, description="ConfigMap of non-secret renderer settings, mounted with envFrom."
    )
    renderer_secret: str | None = Field(
        default=None, description="Secret with provider keys (OpenAI, Google, SendGrid, SMTP, S3), envFrom."
    )
    renderer_secret_refs: dict[str, SecretKeyRef] = Field(
        default_factory=dict,
        description="Renderer env vars taken from Secrets the chart does not own: {ENV: {name, key}}.",
    )
    renderer_google_credentials_secret: SecretKeyRef | None = Field(
        default=None, description="Google service-account JSON, mounted into the Jobs as a file."
    )
    renderer_host_network: bool = False
    renderer_extra_env: dict[str, str] = Field(default_factory=dict)
    job_backoff_limit: int = Field(default=3, ge=0, le=10)
    job_active_deadline_seconds: int = Field(default=900, ge=30)
    job_ttl_seconds: int = Field(default=3600, ge=0)
    max_running_jobs_per_namespace: int = Field(default=10, ge=1)
    days_before_start: int | None = Field(
        default=7, ge=0, le=365,
        description="Default lead time of the email for videos whose spec.delivery sets neither sendAt nor "
        "daysBeforeStart; empty or \"none\": send as soon as the video is ready.",
    )
    send_time_utc: dt.time = Field(default=dt.time(9, 0), description="Time of day (UTC) a held email is sent.")
    failure_alerts: bool = Field(
        default=False,
        description="Mail each terminal failure (a stage Failed, the email Bounced or Dropped) once, through a "
        "`preboarding alert` Job, to the renderer's PREBOARDING_ADMIN_EMAIL; videos whose spec.delivery names "
        "an hrContact are alerted even when this is off. The chart turns it on with renderer.mail.adminEmail.",
    )
    min_email_interval_seconds: int = Field(
        default=int(MIN_EMAIL_INTERVAL.total_seconds()), ge=0, le=86400,
        description="No new email to a new hire sooner than this after the last one (a resend, a re-render).",
    )
    resources: StageResources = Field(default_factory=StageResources)
    store: StoreSettings = Field(default_factory=StoreSettings)
    pod_name: str | None = Field(default=None, description="This replica's pod name (the downward API).")

    @field_validator("days_before_start", mode="before")
    @classmethod
    def _none_when_empty(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().lower() in ("", "none") else value
