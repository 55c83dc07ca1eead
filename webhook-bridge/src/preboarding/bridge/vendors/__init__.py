"""One adapter per HR vendor (``base.VendorAdapter``); ``adapter_for`` picks a source's.

Each vendor module cites the vendor's documentation for its signature scheme and payloads; what is
certain and what is inferred is listed in docs/hr-vendors.md.
"""

from __future__ import annotations

import importlib

from preboarding.api.sources import OnboardingSourceSpec, Vendor
from preboarding.bridge.vendors.base import VendorAdapter

# Vendors whose hire webhooks carry only ids: a source of theirs needs spec.api (a token, and for
# BambooHR the company's URL) before it can accept a hire.
REQUIRES_API = frozenset({Vendor.LEVER, Vendor.BAMBOOHR, Vendor.HIBOB})


def adapter_for(spec: OnboardingSourceSpec) -> VendorAdapter:
    """The adapter of a source's vendor. Raises ``ValueError`` for a generic source without a usable mapping."""
    if spec.vendor is Vendor.GENERIC:
        from preboarding.bridge.vendors.generic import GenericAdapter

        if spec.mapping is None or spec.signature is None:
            raise ValueError("a generic source needs spec.mapping and spec.signature")
        return GenericAdapter(spec.mapping, spec.signature)
    module = importlib.import_module(f"preboarding.bridge.vendors.{spec.vendor.value}")
    adapter: VendorAdapter = module.ADAPTER
    return adapter
