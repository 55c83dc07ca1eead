"""How every component names a field in an error: the way the Kubernetes apiserver does.

``("employee", "schedule", 0, "items")`` is ``employee.schedule[0].items`` in the bridge's 422s, the
renderer's exit messages, the operator's ``InvalidSpec`` status and the re-ask sent to the script model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import ValidationError

# How many problems a one-line summary names before "(and N more)".
SUMMARY_LIMIT = 3


def field_path(loc: Iterable[int | str], root: str = "", default: str = "") -> str:
    """``("employee", "schedule", 0, "items")`` -> ``employee.schedule[0].items``; ``root`` goes in front."""
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or default


def env_name(loc: Iterable[int | str], prefix: str, delimiter: str = "_") -> str:
    """A settings field as the environment variable that sets it: ``("s3", "bucket")`` -> ``PREFIX_S3_BUCKET``.

    ``delimiter`` joins nested fields (``"__"`` for settings read with ``env_nested_delimiter="__"``).
    """
    return prefix + delimiter.join(str(part) for part in loc).upper()


# Nested settings that read their own environment prefix (``StoreSettings``: ``PREBOARDING_S3_*``).
NESTED_PREFIXES: Mapping[str, str] = {"store": "PREBOARDING_S3_"}


def describe_settings_error(
    exc: ValidationError,
    component: str,
    prefix: str = "PREBOARDING_",
    delimiter: str = "_",
    nested: Mapping[str, str] = NESTED_PREFIXES,
) -> str:
    """A start-up configuration error of any component, one line per bad variable, never a value.

    ``invalid operator configuration:`` then ``  PREBOARDING_JOB_BACKOFF_LIMIT: Input should be ...``;
    every CLI prints this instead of a traceback.
    """
    lines = [f"invalid {component} configuration:"]
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = error["loc"]
        if loc and loc[0] in nested:
            name = env_name(loc[1:], nested[str(loc[0])])
        elif loc:
            name = env_name(loc, prefix, delimiter)
        else:
            name = "settings"
        lines.append(f"  {name}: {str(error['msg']).removeprefix('Value error, ')}")
    return "\n".join(lines)


def problems(exc: ValidationError, root: str = "", limit: int | None = None) -> list[str]:
    """``where: what`` for each of the first ``limit`` errors, without the rejected input (personal data)."""
    errors = exc.errors(include_input=False, include_url=False, include_context=False)
    return [f"{field_path(e['loc'], root, default='input')}: {e['msg']}" for e in errors[:limit]]


def summary(exc: ValidationError, root: str = "", limit: int = SUMMARY_LIMIT) -> str:
    """The first few problems on one line: ``spec.employee.email: value is not a valid email address; ...``."""
    more = exc.error_count() - limit
    return "; ".join(problems(exc, root, limit)) + (f" (and {more} more)" if more > 0 else "")
