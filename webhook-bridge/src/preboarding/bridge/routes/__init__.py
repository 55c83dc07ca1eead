"""One router per resource: webhooks, jobs, videos, dev_output, and meta (/, /health, /metrics)."""

from __future__ import annotations

from typing import Any

from preboarding.bridge.models import ErrorResponse


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error answers (all ``ErrorResponse``)."""
    return {status: {"model": ErrorResponse} for status in statuses}
