"""Lever lookups through the real VendorApiClient against the local Lever API server (no Kubernetes)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from preboarding.bridge.vendor_api import (
    ApiLimits,
    VendorApiClient,
    VendorApiNotFound,
    VendorApiUnauthorized,
    VendorApiUnavailable,
)
from preboarding.bridge.vendors.base import NewHire, SignedRequest
from preboarding.bridge.vendors.lever import ADAPTER
from tests.protocol_servers.lever_api import LeverApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "hr" / "lever"
LIMITS = ApiLimits(total_seconds=2.0, attempts=3, first_backoff_seconds=0.05)
OPPORTUNITY_ID = "3410c8b9-5c31-4bab-b7e9-9f710206d647"
T = TypeVar("T")


def webhook_hire() -> NewHire:
    (event,) = ADAPTER.parse(SignedRequest({}, (SAMPLES / "hire.json").read_bytes()))
    return event.hires[0]


def run(server: LeverApiServer, call: Callable[[VendorApiClient], Awaitable[T]], token: str | None = None) -> T:
    async def main() -> T:
        async with httpx.AsyncClient() as http:
            api = VendorApiClient(http, server.api_url, ADAPTER.api_credentials(token or server.api_key), LIMITS)
            return await call(api)

    return asyncio.run(main())


def complete(server: LeverApiServer, hire: NewHire | None = None, token: str | None = None) -> NewHire:
    return run(server, lambda api: ADAPTER.complete(hire or webhook_hire(), api), token)


def test_a_hire_is_completed_from_four_lookups(lever_api_server: LeverApiServer) -> None:
    hire = complete(lever_api_server)
    assert (hire.person_id, hire.name, hire.personal_email) == (
        "05c248f9-ccb1-435f-bab5-0ec608aec263", "Zoë Ångström-Núñez", "zoe.angstrom@example.com")
    assert (hire.role, hire.department, hire.team, hire.location) == ("Data Platform Engineer", "Data", "Platform",
                                                                      "Berlin")
    assert (hire.start_date, hire.manager) == (dt.date(2026, 9, 14), "Mara Manager")
    requests = lever_api_server.requests
    assert [r.path for r in requests] == [
        f"/v1/opportunities/{OPPORTUNITY_ID}", f"/v1/opportunities/{OPPORTUNITY_ID}/offers",
        "/v1/postings/80fd493b-3e01-4e05-82df-464d3ae2a7b8", "/v1/users/ac92b6db-6e40-4b08-ae7b-236ba24f0a82"]
    expected = "Basic " + base64.b64encode(f"{lever_api_server.api_key}:".encode()).decode()
    assert {r.method for r in requests} == {"GET"}
    assert {r.header("authorization") for r in requests} == {expected}


def test_a_503_is_retried_within_the_budget(lever_api_server: LeverApiServer) -> None:
    lever_api_server.fail_next(503)
    assert complete(lever_api_server).manager == "Mara Manager"
    assert len(lever_api_server.requests) == 5  # the first call twice, then the other three


def test_a_vendor_that_keeps_failing_is_unavailable(lever_api_server: LeverApiServer) -> None:
    lever_api_server.fail_next(503, times=LIMITS.attempts)
    with pytest.raises(VendorApiUnavailable, match="503"):
        complete(lever_api_server)
    assert len(lever_api_server.requests) == LIMITS.attempts


def test_dropped_connections_are_unavailable(lever_api_server: LeverApiServer) -> None:
    lever_api_server.drop_next(times=LIMITS.attempts)
    with pytest.raises(VendorApiUnavailable, match="unreachable"):
        complete(lever_api_server)


def test_a_slow_vendor_is_cut_off_by_the_time_budget(lever_api_server: LeverApiServer) -> None:
    lever_api_server.delay = LIMITS.total_seconds + 1
    with pytest.raises(VendorApiUnavailable):
        complete(lever_api_server)


def test_a_wrong_api_key_is_unauthorized(lever_api_server: LeverApiServer) -> None:
    with pytest.raises(VendorApiUnauthorized, match="401"):
        complete(lever_api_server, token="not-the-key")
    assert len(lever_api_server.requests) == 1  # no retry: the token will not get better


def test_an_unknown_opportunity_is_not_found(lever_api_server: LeverApiServer) -> None:
    lever_api_server.opportunities.clear()
    with pytest.raises(VendorApiNotFound):
        complete(lever_api_server)


def test_a_deleted_posting_leaves_department_empty_but_completes(lever_api_server: LeverApiServer) -> None:
    lever_api_server.postings.clear()
    hire = complete(lever_api_server)
    assert (hire.name, hire.department, hire.manager) == ("Zoë Ångström-Núñez", None, "Mara Manager")
