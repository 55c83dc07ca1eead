"""Bridge configuration: environment variables with the ``PREBOARDING_`` prefix, validated at start.

This is the only place the bridge reads its environment (the Kubernetes client still reads
``KUBECONFIG`` or the in-cluster service account, as every Kubernetes client does).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from preboarding.api.watch import WatchKeys
from preboarding.bridge.signatures import SecretFormatError, parse_secret
from preboarding.storage import StoreSettings

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _split_commas(value: Any) -> Any:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; lists (from code) pass through."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class BridgeSettings(BaseSettings):
    """Everything the bridge reads from its environment (one place; nothing else reads os.environ)."""

    model_config = SettingsConfigDict(
        env_prefix="PREBOARDING_", extra="ignore", hide_input_in_errors=True, validate_default=True
    )

    namespace: str = Field(default="default", description="Namespace the OnboardingVideos are created in.")
    webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Standard Webhooks secrets (whsec_<base64>), comma-separated; several during rotation.",
    )
    bearer_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Bearer tokens accepted instead of a signature (HR systems that cannot sign), comma-separated.",
    )
    public_url: AnyHttpUrl | None = Field(
        default=None, description="Base URL for status_url and video_url; default: the request's own base URL."
    )
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    rate_limit_per_minute: int = Field(
        default=300, ge=0, description="Requests per minute per client address; 0 turns rate limiting off."
    )
    rate_limit_burst: int = Field(default=60, ge=1, description="Requests a client may make at once.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS, comma-separated; empty: CORS off."
    )
    dev_output_enabled: bool = Field(
        default=False, description="Serve /dev_output/{job_id}/ (intermediate files hold personal data)."
    )
    reads_require_auth: bool = Field(
        default=True, description="Require the webhook's authentication on the status, video and list routes "
        "(job ids are computable from employee ids; the new hire only ever needs the watch token).",
    )
    presign_expiry_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    watch_keys: SecretStr | None = Field(
        default=None, description="Signing keys of the new hires' watch links, id:secret[,id:secret...] (the "
        "first signs, all verify; shared with the renderer). Unset: GET /watch/* is 404.",
    )
    sendgrid_event_key: str | None = Field(
        default=None, description="The verification key of SendGrid's signed Event Webhook (base64 DER, as the "
        "SendGrid UI shows it). Unset: POST /webhooks/sendgrid/events is 404.",
    )
    hr_contact: str | None = Field(
        default=None, max_length=200,
        description="Whom a new hire with a dead link should ask (an address), unless the profile names one.",
    )
    kube_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    health_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies trusted for X-Forwarded-For/Proto (the client address the rate limit keys on).",
    )
    sources_enabled: bool = Field(
        default=True, description="Serve POST /webhooks/sources/{name} for the namespace's OnboardingSources."
    )
    source_refresh_seconds: float = Field(
        default=30, ge=0, le=3600, description="How often every source's Ready condition is checked; 0: never."
    )
    store: StoreSettings = Field(default_factory=StoreSettings)

    @field_validator("webhook_secrets", "bearer_tokens", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("watch_keys")
    @classmethod
    def _watch_keys_parse(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            WatchKeys.parse(value.get_secret_value())  # WatchKeyError is a ValueError; it quotes no secret
        return value

    @field_validator("sendgrid_event_key")
    @classmethod
    def _sendgrid_event_key_parses(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            from preboarding.bridge.mail_events import MailEventKey

            MailEventKey.parse(value)  # a ValueError that never quotes the key
            return value
        return None

    @field_validator("namespace")
    @classmethod
    def _namespace_is_a_dns_label(cls, value: str) -> str:
        if len(value) > 63 or not _DNS_LABEL.match(value):
            raise ValueError("must be a Kubernetes namespace name (lower-case letters, digits, '-', at most 63)")
        return value

    @field_validator("webhook_secrets")
    @classmethod
    def _secrets_are_standard_webhooks_secrets(cls, value: list[SecretStr]) -> list[SecretStr]:
        for index, secret in enumerate(value, start=1):
            try:
                parse_secret(secret.get_secret_value())
            except SecretFormatError as exc:
                # Never echo the secret: say which entry and what is wrong with it.
                raise ValueError(f"entry {index}: {exc}") from None
        return value

    @field_validator("bearer_tokens")
    @classmethod
    def _tokens_are_long_enough(cls, value: list[SecretStr]) -> list[SecretStr]:
        for index, token in enumerate(value, start=1):
            if len(token.get_secret_value()) < 16:
                raise ValueError(f"entry {index}: a bearer token needs at least 16 characters")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_urls(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not re.match(r"^https?://[^/\s]+$", origin):
                raise ValueError(f"{origin!r} is not an origin like https://hr.example.com (no path)")
        return value

    @model_validator(mode="after")
    def _some_authentication(self) -> BridgeSettings:
        if not self.webhook_secrets and not self.bearer_tokens:
            raise ValueError(
                "no authentication configured: set PREBOARDING_WEBHOOK_SECRETS (whsec_... secrets, "
                "comma-separated) and/or PREBOARDING_BEARER_TOKENS"
            )
        return self

    def secret_keys(self) -> list[bytes]:
        """The decoded HMAC keys of ``webhook_secrets``, in order."""
        return [parse_secret(s.get_secret_value()) for s in self.webhook_secrets]

    def tokens(self) -> list[str]:
        return [t.get_secret_value() for t in self.bearer_tokens]


__all__ = ["BridgeSettings", "SecretFormatError"]
