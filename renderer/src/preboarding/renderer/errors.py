"""Stage failures, classified the way the operator needs them (exit codes in ``preboarding.api.stages``)."""

from __future__ import annotations

from preboarding.api.stages import EXIT_INVALID_INPUT, EXIT_PERMANENT, EXIT_RETRYABLE


class StageError(Exception):
    """A stage failed; ``exit_code`` tells the Job controller whether retrying can help."""

    exit_code = EXIT_PERMANENT
    reason = "StageFailed"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason:
            self.reason = reason


class InvalidInput(StageError):
    """The input is wrong (bad spec, missing upstream output): retrying cannot help."""

    exit_code = EXIT_INVALID_INPUT
    reason = "InvalidInput"


class PermanentFailure(StageError):
    """The provider refused for good (content policy, bad credentials, missing configuration)."""

    exit_code = EXIT_PERMANENT
    reason = "PermanentFailure"


class RetryableFailure(StageError):
    """Network trouble, a provider 5xx or a rate limit: the Job retries with backoff."""

    exit_code = EXIT_RETRYABLE
    reason = "RetryableFailure"
