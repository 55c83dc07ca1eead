"""HiBob lookups through the real VendorApiClient against the local HiBob API server (no Kubernetes)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from pathlib import Path

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
from preboarding.bridge.vendors.hibob import ADAPTER, PEOPLE_FIELDS
from tests.protocol_servers.hibob_api import HiBobApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "hr" / "hibob"
LIMITS = ApiLimits(total_seconds=2.0, attempts=3, first_backoff_seconds=0.05)
EMPLOYEE_ID = "3332883894235038486"


def token_of(server: HiBobApiServer) -> str:
    """What the source's Secret holds."""
    return f"{server.service_user_id}:{server.token}"


def complete(server: HiBobApiServer, hire: NewHire | None = None, token: str | None = None) -> NewHire:
    async def main() -> NewHire:
        async with httpx.AsyncClient() as http:
            api = VendorApiClient(http, server.api_url, ADAPTER.api_credentials(token or token_of(server)), LIMITS)
            (event,) = ADAPTER.parse(SignedRequest({}, (SAMPLES / "hire.json").read_bytes()))
            webhook = event.hires[0]
            return await ADAPTER.complete(hire or webhook, api)

    return asyncio.run(main())


def test_a_hire_is_completed_with_human_readable_values(hibob_api_server: HiBobApiServer) -> None:
    hire = complete(hibob_api_server)
    assert (hire.person_id, hire.full_name(), hire.first_name, hire.last_name) == (
        EMPLOYEE_ID, "Zoë Ångström-Núñez", "Zoë", "Ångström-Núñez")
    assert (hire.work_email, hire.personal_email) == ("zoe.angstrom-nunez@work.example.com", "zoe.angstrom@example.com")
    # REPLACE: names, not the list-item ids the server answers otherwise.
    assert (hire.role, hire.department, hire.location) == ("Data Platform Engineer", "Data", "Berlin")
    assert (hire.start_date, hire.manager) == (dt.date(2026, 9, 14), "Mara Manager")
    (request,) = hibob_api_server.requests
    assert (request.method, request.path) == ("POST", f"/v1/people/{EMPLOYEE_ID}")
    assert request.json == {"fields": list(PEOPLE_FIELDS), "humanReadable": "REPLACE"}
    credentials = f"{hibob_api_server.service_user_id}:{hibob_api_server.token}".encode()
    assert request.header("authorization") == "Basic " + base64.b64encode(credentials).decode()


def test_a_503_is_retried_within_the_budget(hibob_api_server: HiBobApiServer) -> None:
    hibob_api_server.fail_next(503)
    assert complete(hibob_api_server).department == "Data"
    assert len(hibob_api_server.requests) == 2


def test_a_429_is_retried_too(hibob_api_server: HiBobApiServer) -> None:
    hibob_api_server.fail_next(429, retry_after=0)
    assert complete(hibob_api_server).department == "Data"


def test_a_vendor_that_keeps_failing_is_unavailable(hibob_api_server: HiBobApiServer) -> None:
    hibob_api_server.fail_next(502, times=LIMITS.attempts)
    with pytest.raises(VendorApiUnavailable, match="502"):
        complete(hibob_api_server)


def test_dropped_connections_are_unavailable(hibob_api_server: HiBobApiServer) -> None:
    hibob_api_server.drop_next(times=LIMITS.attempts)
    with pytest.raises(VendorApiUnavailable, match="unreachable"):
        complete(hibob_api_server)


def test_a_wrong_token_is_unauthorized(hibob_api_server: HiBobApiServer) -> None:
    with pytest.raises(VendorApiUnauthorized, match="401"):
        complete(hibob_api_server, token=f"{hibob_api_server.service_user_id}:wrong-token")


def test_an_unknown_employee_is_not_found(hibob_api_server: HiBobApiServer) -> None:
    with pytest.raises(VendorApiNotFound):
        complete(hibob_api_server, NewHire(person_id="1234567890", external_ids={"employeeId": "1234567890"}))
