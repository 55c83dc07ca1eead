"""Renderer settings: environment variables, read once, validated at start-up.

Provider choice is ``auto`` by default: a real provider when its key is configured, the offline one
otherwise, so the whole pipeline runs with no keys at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from preboarding.api.watch import WatchKeys

ScriptProvider = Literal["openai", "template"]
TtsProvider = Literal["google", "flite"]
MailProvider = Literal["sendgrid", "smtp", "outbox"]


class RendererSettings(BaseSettings):
    """``PREBOARDING_*`` variables (the providers' own conventional names are accepted too)."""

    model_config = SettingsConfigDict(env_prefix="PREBOARDING_", extra="ignore", populate_by_name=True)

    script_provider: Literal["auto", "openai", "template"] = "auto"
    tts_provider: Literal["auto", "google", "flite"] = "auto"
    mail_provider: Literal["auto", "sendgrid", "smtp", "outbox"] = "auto"

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PREBOARDING_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PREBOARDING_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    openai_attempts: int = Field(default=3, ge=1, le=10)
    """Replies that do not validate against the script schema are asked for again, this many times in all."""
    openai_timeout_seconds: float = Field(default=60, gt=0)

    google_credentials: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("PREBOARDING_GOOGLE_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS"),
    )
    google_tts_endpoint: str | None = None
    """Override of texttospeech.googleapis.com (a regional endpoint, or a test server as http://host:port)."""
    tts_concurrency: int = Field(default=4, ge=1, le=32)

    sendgrid_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PREBOARDING_SENDGRID_API_KEY", "SENDGRID_API_KEY")
    )
    sendgrid_host: str = "https://api.sendgrid.com"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 30
    mail_from: str = "Preboarding <onboarding@example.com>"
    admin_email: str | None = None
    """Told when the new hire's email cannot be sent."""
    outbox_dir: Path = Path("outbox")
    """Where the outbox provider writes .eml files instead of sending."""
    logo_max_bytes: int = 5_000_000
    logo_timeout_seconds: float = 10
    logo_allow_private_networks: bool = False
    """Fetch logos from loopback and private addresses too (only for a test ground; see renderer/logo.py)."""

    watch_url: str | None = None
    """The bridge's public base URL (https://onboarding.example.com): the email then links to its watch page."""
    watch_keys: SecretStr | None = None
    """The watch links' signing keys, ``id:secret[,id:secret...]`` (first signs), shared with the bridge."""

    video_uid: str | None = None
    """uid of the OnboardingVideo a stage Job works for (the operator sets it in the Job's env)."""
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"

    @field_validator("watch_keys")
    @classmethod
    def _watch_keys_parse(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            WatchKeys.parse(value.get_secret_value())  # WatchKeyError is a ValueError; it quotes no secret
        return value

    def chosen_script_provider(self) -> ScriptProvider:
        if self.script_provider != "auto":
            return self.script_provider
        return "openai" if self.openai_api_key else "template"

    def chosen_tts_provider(self) -> TtsProvider:
        if self.tts_provider != "auto":
            return self.tts_provider
        return "google" if (self.google_credentials or self.google_tts_endpoint) else "flite"

    def chosen_mail_provider(self) -> MailProvider:
        if self.mail_provider != "auto":
            return self.mail_provider
        if self.sendgrid_api_key:
            return "sendgrid"
        return "smtp" if self.smtp_host else "outbox"
