"""An OnboardingSource's next status from its current one, its readiness and a delivery (pure).

``Ready`` is a metav1.Condition: True once the Secret, the profile and (for vendors whose webhooks carry
only ids) the API token are in place; False with a CamelCase reason otherwise. ``ApiUnauthorized`` is
learnt from a delivery (the vendor refused the token) and stays until a lookup succeeds or the source's
spec changes, so the readiness refresher, which only checks that things exist, does not hide it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from preboarding.api.models import Condition, ConditionStatus
from preboarding.api.sources import DeliveryOutcome, LastDelivery, OnboardingSourceStatus

READY = "Ready"
STICKY_REASONS = frozenset({"ApiUnauthorized"})


@dataclass(frozen=True)
class Readiness:
    """Whether a source can accept deliveries, and why (not)."""

    ready: bool
    reason: str
    message: str

    @classmethod
    def ok(cls) -> Readiness:
        return cls(True, "Ready", "The Secret, the profile and the vendor's API settings are in place.")


def ready_condition(status: OnboardingSourceStatus) -> Condition | None:
    return next((c for c in status.conditions if c.type == READY), None)


def with_readiness(status: OnboardingSourceStatus, readiness: Readiness, generation: int | None,
                   now: dt.datetime, *, from_delivery: bool = False) -> OnboardingSourceStatus:
    """``status`` with its Ready condition set (lastTransitionTime kept while the status is unchanged)."""
    new = status.model_copy(deep=True)
    previous = ready_condition(status)
    sticky = (previous is not None and previous.reason in STICKY_REASONS and not from_delivery
              and readiness.ready and previous.observed_generation == generation)
    if sticky:
        return new
    value: ConditionStatus = "True" if readiness.ready else "False"
    transition = now if previous is None or previous.status != value else previous.last_transition_time
    condition = Condition(type=READY, status=value, reason=readiness.reason, message=readiness.message,
                          last_transition_time=transition, observed_generation=generation)
    new.conditions = [c for c in status.conditions if c.type != READY] + [condition]
    new.observed_generation = generation
    return new


def with_delivery(status: OnboardingSourceStatus, outcome: DeliveryOutcome, reason: str | None,
                  now: dt.datetime) -> OnboardingSourceStatus:
    """``status`` counting one more delivery with ``outcome`` (never any payload data)."""
    new = status.model_copy(deep=True)
    setattr(new.deliveries, outcome, getattr(new.deliveries, outcome) + 1)
    new.last_delivery = LastDelivery(time=now, outcome=outcome, reason=reason)
    return new
