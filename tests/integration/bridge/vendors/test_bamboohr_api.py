"""BambooHR lookups through the real VendorApiClient against the local BambooHR API server (no Kubernetes)."""

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
from preboarding.bridge.vendors.bamboohr import ADAPTER
from preboarding.bridge.vendors.base import NewHire, SignedRequest
from tests.protocol_servers.bamboohr_api import BambooHRApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "hr" / "bamboohr"
LIMITS = ApiLimits(total_seconds=2.0, attempts=3, first_backoff_seconds=0.05)


def webhook_hires(name: str = "hire.json") -> tuple[NewHire, ...]:
    (event,) = ADAPTER.parse(SignedRequest({}, (SAMPLES / name).read_bytes()))
    return event.hires


def complete(server: BambooHRApiServer, hire: NewHire | None = None, token: str | None = None,
             base_url: str | None = None) -> NewHire:
    async def main() -> NewHire:
        async with httpx.AsyncClient() as http:
            api = VendorApiClient(http, base_url or server.api_url, ADAPTER.api_credentials(token or server.api_key),
                                  LIMITS)
            return await ADAPTER.complete(hire or webhook_hires()[0], api)

    return asyncio.run(main())


def test_a_hire_is_completed_with_the_named_fields(bamboohr_api_server: BambooHRApiServer) -> None:
    hire = complete(bamboohr_api_server)
    assert (hire.person_id, hire.first_name, hire.last_name) == ("4711", "Zoë", "Ångström-Núñez")
    assert (hire.work_email, hire.personal_email) == ("zoe.angstrom-nunez@work.example.com", "zoe.angstrom@example.com")
    assert (hire.role, hire.department, hire.location, hire.start_date, hire.manager) == (
        "Data Platform Engineer", "Data", "Berlin", dt.date(2026, 9, 14), "Mara Manager")
    (request,) = bamboohr_api_server.requests
    assert (request.method, request.path) == ("GET", "/api/gateway.php/example/v1/employees/4711/")
    assert request.query["onlyCurrent"] == ["false"]
    assert "hireDate" in request.query["fields"][0].split(",")
    expected = "Basic " + base64.b64encode(f"{bamboohr_api_server.api_key}:x".encode()).decode()
    assert request.header("authorization") == expected


def test_only_the_fields_asked_for_are_answered(bamboohr_api_server: BambooHRApiServer) -> None:
    bamboohr_api_server.employees["4711"]["ssn"] = "never asked for"
    hire = complete(bamboohr_api_server)
    assert "never asked for" not in repr(hire)


def test_several_created_employees_are_looked_up_one_by_one(bamboohr_api_server: BambooHRApiServer) -> None:
    bamboohr_api_server.employees["4712"] = {"id": "4712", "firstName": "Tomás", "lastName": "Example",
                                             "hireDate": "2026-09-21"}
    zoe, tomas = (complete(bamboohr_api_server, hire) for hire in webhook_hires("field-based-created.json"))
    assert (zoe.full_name(), tomas.full_name(), tomas.start_date) == (
        "Zoë Ångström-Núñez", "Tomás Example", dt.date(2026, 9, 21))


def test_a_503_is_retried_within_the_budget(bamboohr_api_server: BambooHRApiServer) -> None:
    bamboohr_api_server.fail_next(503)
    assert complete(bamboohr_api_server).first_name == "Zoë"
    assert len(bamboohr_api_server.requests) == 2


def test_a_vendor_that_keeps_failing_is_unavailable(bamboohr_api_server: BambooHRApiServer) -> None:
    bamboohr_api_server.fail_next(500, times=LIMITS.attempts)
    with pytest.raises(VendorApiUnavailable, match="500"):
        complete(bamboohr_api_server)


def test_dropped_connections_are_unavailable(bamboohr_api_server: BambooHRApiServer) -> None:
    bamboohr_api_server.drop_next(times=LIMITS.attempts)
    with pytest.raises(VendorApiUnavailable, match="unreachable"):
        complete(bamboohr_api_server)


def test_a_wrong_api_key_is_unauthorized(bamboohr_api_server: BambooHRApiServer) -> None:
    with pytest.raises(VendorApiUnauthorized, match="401"):
        complete(bamboohr_api_server, token="not-the-key")


def test_an_unknown_employee_is_not_found(bamboohr_api_server: BambooHRApiServer) -> None:
    with pytest.raises(VendorApiNotFound):
        complete(bamboohr_api_server, NewHire(person_id="9999", external_ids={"employeeId": "9999"}))


def test_an_api_url_without_the_company_finds_nothing(bamboohr_api_server: BambooHRApiServer) -> None:
    with pytest.raises(VendorApiNotFound):
        complete(bamboohr_api_server, base_url=bamboohr_api_server.url + "/api/gateway.php")
