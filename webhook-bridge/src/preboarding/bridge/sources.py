"""OnboardingSources at delivery time: resolve one (Secret, profile, API token), and record what happened.

``resolve_source`` reads what a delivery needs and says precisely what is missing (``SourceNotReady``
with the Ready condition's reason). ``record`` writes the source's status: readiness and delivery
counts, with the resourceVersion as a precondition so that concurrent deliveries (and bridge replicas)
never lose a count; a status write that still fails is logged, never fails the delivery.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from preboarding.api import fields
from preboarding.api.sources import (
    DeliveryOutcome,
    OnboardingProfileSpec,
    OnboardingSourceSpec,
    OnboardingSourceStatus,
    Vendor,
)
from preboarding.bridge.hires import SourceContext
from preboarding.bridge.repository import Conflict, NotFound, RepositoryError
from preboarding.bridge.signatures import SecretFormatError, parse_secret
from preboarding.bridge.source_repository import SourceRepository
from preboarding.bridge.source_status import Readiness, with_delivery, with_readiness
from preboarding.bridge.vendors import REQUIRES_API, adapter_for
from preboarding.bridge.vendors.base import VendorAdapter

log = logging.getLogger(__name__)
STATUS_WRITE_ATTEMPTS = 4


class SourceNotFound(Exception):
    """No OnboardingSource of that name in the bridge's namespace."""


class SourceNotReady(Exception):
    """The source cannot take deliveries yet; ``readiness`` says why (its Ready condition)."""

    def __init__(self, readiness: Readiness) -> None:
        super().__init__(readiness.message)
        self.readiness = readiness


@dataclass(frozen=True)
class ResolvedSource:
    """A source with everything a delivery needs, read from the apiserver."""

    name: str
    generation: int | None
    spec: OnboardingSourceSpec
    secret: str
    adapter: VendorAdapter
    profile_name: str
    profile_generation: int | None
    profile: OnboardingProfileSpec
    api_url: str | None
    api_token: str | None

    def context(self) -> SourceContext:
        return SourceContext(name=self.name, vendor=self.spec.vendor, email=self.spec.email,
                             profile_name=self.profile_name, profile_generation=self.profile_generation,
                             profile=self.profile)


def _not_ready(reason: str, message: str) -> SourceNotReady:
    return SourceNotReady(Readiness(False, reason, message))


async def resolve_source(repository: SourceRepository, name: str, obj: dict[str, Any] | None = None
                         ) -> ResolvedSource:
    """Read the source ``name`` (or use ``obj``), its Secret, profile and API token.

    Raises ``SourceNotFound`` or ``SourceNotReady``; ``RepositoryError`` when the apiserver fails.
    """
    obj = obj if obj is not None else await repository.get_source(name)
    if obj is None:
        raise SourceNotFound(name)
    meta = obj.get("metadata") or {}
    generation = meta.get("generation")
    try:
        spec = OnboardingSourceSpec.model_validate(obj.get("spec") or {})
    except ValidationError as exc:
        raise _not_ready("InvalidSpec", f"Invalid spec: {fields.summary(exc, 'spec', limit=1)}") from None
    if spec.suspend:
        raise _not_ready("Suspended", "spec.suspend is true: deliveries are answered 503 until it is false.")
    try:
        adapter = adapter_for(spec)
    except ValueError as exc:
        raise _not_ready("InvalidMapping", str(exc)) from None
    secret = await repository.read_secret(spec.secret_ref.name, spec.secret_ref.key)
    if not secret:
        raise _not_ready("SecretNotFound", f"Secret {spec.secret_ref.name!r} with key {spec.secret_ref.key!r} "
                         "was not found in this namespace (or the bridge may not read it).")
    standard = spec.vendor is Vendor.STANDARD or (spec.signature is not None
                                                 and spec.signature.scheme == "standard-webhooks")
    if standard:
        try:
            parse_secret(secret)
        except SecretFormatError as exc:
            raise _not_ready("SecretInvalid", f"Secret {spec.secret_ref.name!r} key {spec.secret_ref.key!r}: {exc}"
                             ) from None
    profile_obj = await repository.get_profile(spec.profile_ref.name)
    if profile_obj is None:
        raise _not_ready("ProfileNotFound", f"OnboardingProfile {spec.profile_ref.name!r} was not found in this "
                         "namespace.")
    try:
        profile = OnboardingProfileSpec.model_validate(profile_obj.get("spec") or {})
    except ValidationError as exc:
        raise _not_ready("InvalidProfile", f"OnboardingProfile {spec.profile_ref.name!r}: "
                         f"{fields.summary(exc, 'spec', limit=1)}") from None
    api_url = api_token = None
    if spec.api is not None:
        ref = spec.api.token_secret_ref
        api_token = await repository.read_secret(ref.name, ref.key)
        if not api_token:
            raise _not_ready("ApiTokenMissing", f"Secret {ref.name!r} with key {ref.key!r} (spec.api.tokenSecretRef) "
                             "was not found in this namespace.")
        api_url = spec.api.url or adapter.default_api_url
        if not api_url:
            raise _not_ready("ApiUrlMissing", f"{spec.vendor.value} needs spec.api.url (it names your company).")
    elif spec.vendor in REQUIRES_API:
        raise _not_ready("ApiTokenMissing", f"{spec.vendor.value} webhooks carry only ids: set spec.api with a "
                         "tokenSecretRef so the bridge can look new hires up.")
    return ResolvedSource(
        name=name, generation=generation, spec=spec, secret=secret, adapter=adapter,
        profile_name=spec.profile_ref.name, profile_generation=(profile_obj.get("metadata") or {}).get("generation"),
        profile=profile, api_url=api_url, api_token=api_token,
    )


def _status_of(obj: dict[str, Any]) -> OnboardingSourceStatus:
    try:
        return OnboardingSourceStatus.model_validate(obj.get("status") or {})
    except ValidationError:
        return OnboardingSourceStatus()


async def record(repository: SourceRepository, name: str, obj: dict[str, Any] | None, *,
                 readiness: Readiness | None = None, outcome: DeliveryOutcome | None = None,
                 reason: str | None = None, from_delivery: bool = False) -> None:
    """Write the source's readiness and/or one delivery's outcome; retried on a resourceVersion race."""
    for _ in range(STATUS_WRITE_ATTEMPTS):
        try:
            obj = obj if obj is not None else await repository.get_source(name)
            if obj is None:
                return
            meta = obj.get("metadata") or {}
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            before = _status_of(obj)
            status = before
            if readiness is not None:
                status = with_readiness(status, readiness, meta.get("generation"), now, from_delivery=from_delivery)
            if outcome is not None:
                status = with_delivery(status, outcome, reason, now)
            if status == before:
                return
            body = status.model_dump(mode="json", by_alias=True, exclude_none=True)
            await repository.patch_source_status(name, [
                {"op": "replace" if "resourceVersion" in meta else "add", "path": "/metadata/resourceVersion",
                 "value": meta.get("resourceVersion", "")},
                {"op": "add", "path": "/status", "value": body},
            ])
            return
        except Conflict:
            obj = None  # someone else wrote first: read again and count on top of theirs
        except NotFound:
            return
        except RepositoryError as exc:
            log.warning("source %s: status not written: %s", name, exc.message)
            return
    log.warning("source %s: status not written after %d attempts (contention)", name, STATUS_WRITE_ATTEMPTS)


async def refresh_readiness(repository: SourceRepository) -> int:
    """Check every source of the namespace and write its Ready condition where it changed; returns the count."""
    sources = await repository.list_sources()
    for obj in sources:
        name = (obj.get("metadata") or {}).get("name", "")
        try:
            await resolve_source(repository, name, obj)
            readiness = Readiness.ok()
        except SourceNotReady as exc:
            readiness = exc.readiness
        except (SourceNotFound, RepositoryError):
            continue
        await record(repository, name, obj, readiness=readiness)
    return len(sources)
