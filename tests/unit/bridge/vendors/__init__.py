"""Tests of the HR vendor adapters, and the one loader of their samples (tests/samples/hr/<vendor>/)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from preboarding.bridge.vendors.base import SignedRequest, VendorEvent

HR_SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "hr"


def only(events: tuple[VendorEvent, ...]) -> VendorEvent:
    """The one event of a delivery that carries one (``parse`` returns every event of a delivery)."""
    (event,) = events
    return event


class VendorSamples:
    """One vendor's samples: payloads as delivered, API answers, and ``headers.json``.

    ``headers.json`` holds the test secret (``test_secret``) and the signed headers of each webhook sample
    (``files``), as the vendor would send them for that secret.
    """

    def __init__(self, vendor: str) -> None:
        self.folder = HR_SAMPLES / vendor

    @functools.cached_property
    def vectors(self) -> dict[str, Any]:
        vectors: dict[str, Any] = json.loads((self.folder / "headers.json").read_text())
        return vectors

    def secret(self, key: str) -> str:
        """The test secret under ``key`` (each vendor names its own: ``secret``, ``private_key``...)."""
        value: str = self.vectors["test_secret"][key]
        return value

    def signed_files(self) -> list[str]:
        """The samples ``headers.json`` carries signed headers for, sorted."""
        return sorted(self.vectors["files"])

    def body(self, name: str) -> bytes:
        return (self.folder / name).read_bytes()

    def json(self, name: str) -> Any:
        return json.loads(self.body(name))

    def headers(self, name: str) -> dict[str, str]:
        """The sample's signed headers, lower-cased as the bridge passes them."""
        return {key.lower(): value for key, value in self.vectors["files"][name].items()}

    def request(self, name: str, body: bytes | None = None, **headers: str) -> SignedRequest:
        """The sample as delivered: its headers (``x_foo=`` adds or replaces ``x-foo``) and its bytes, or ``body``."""
        merged = self.headers(name)
        merged.update({key.replace("_", "-").lower(): value for key, value in headers.items()})
        return SignedRequest(headers=merged, body=self.body(name) if body is None else body)
