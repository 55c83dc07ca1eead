"""Ashby's ``complete`` over real HTTP: ``VendorApiClient`` against the local Ashby protocol server.

No Kubernetes: only the ``ashby_api_server`` fixture (tests/protocol_servers/ashby_api.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from preboarding.bridge.vendor_api import (
    ApiLimits,
    VendorApiBadAnswer,
    VendorApiClient,
    VendorApiNotFound,
    VendorApiUnauthorized,
    VendorApiUnavailable,
)
from preboarding.bridge.vendors.ashby import ADAPTER, rpc_results
from preboarding.bridge.vendors.base import NewHire, SignedRequest
from tests.protocol_servers.ashby_api import DEPARTMENT_ID, LOCATION_ID, AshbyApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "hr" / "ashby"
CANDIDATE_ID = "f9e52a51-a075-4116-a7b8-484deba69004"
LIMITS = ApiLimits(total_seconds=3.0, attempts=3, first_backoff_seconds=0.01)

T = TypeVar("T")


def sample_hire() -> NewHire:
    (event,) = ADAPTER.parse(SignedRequest({}, (SAMPLES / "hire.json").read_bytes()))
    (hire,) = event.hires
    return hire


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def complete(server: AshbyApiServer, hire: NewHire, token: str | None = None) -> NewHire:
    async with httpx.AsyncClient() as client:
        api = VendorApiClient(client, server.url, ADAPTER.api_credentials(server.api_key if token is None else token),
                              LIMITS)
        return await ADAPTER.complete(hire, api)


async def call(server: AshbyApiServer, method: str, body: dict[str, Any]) -> Any:
    async with httpx.AsyncClient() as client:
        api = VendorApiClient(client, server.url, ADAPTER.api_credentials(server.api_key), LIMITS)
        return await rpc_results(api, method, body)


def test_names_and_the_other_address_are_resolved(ashby_api_server: AshbyApiServer) -> None:
    hire = sample_hire()
    assert ADAPTER.needs_lookup(hire)
    completed = run(complete(ashby_api_server, hire))
    assert (completed.department, completed.location) == ("Data", "Berlin")
    assert (completed.personal_email, completed.work_email) == (
        "zoe.angstrom@example.com", "zoe.angstrom-nunez@work.example.com")
    assert not ADAPTER.needs_lookup(completed)

    requests = ashby_api_server.requests
    assert [(r.method, r.path, r.json) for r in requests] == [
        ("POST", "/department.info", {"departmentId": DEPARTMENT_ID}),
        ("POST", "/location.info", {"locationId": LOCATION_ID}),
        ("POST", "/candidate.info", {"id": CANDIDATE_ID}),
    ]
    basic = "Basic " + base64.b64encode(f"{ashby_api_server.api_key}:".encode()).decode()
    assert all(r.header("authorization") == basic for r in requests)  # key as username, blank password
    assert all((r.header("content-type") or "").startswith("application/json") for r in requests)


def test_a_503_is_retried(ashby_api_server: AshbyApiServer) -> None:
    ashby_api_server.fail_next(503)
    completed = run(complete(ashby_api_server, sample_hire()))
    assert completed.department == "Data"
    assert [r.path for r in ashby_api_server.requests] == [
        "/department.info", "/department.info", "/location.info", "/candidate.info"]


def test_an_api_that_keeps_failing_is_unavailable(ashby_api_server: AshbyApiServer) -> None:
    ashby_api_server.fail_next(500, times=LIMITS.attempts)
    with pytest.raises(VendorApiUnavailable, match="HTTP 500"):
        run(complete(ashby_api_server, sample_hire()))
    assert len(ashby_api_server.requests) == LIMITS.attempts


def test_a_dropped_connection_is_unavailable(ashby_api_server: AshbyApiServer) -> None:
    ashby_api_server.drop_next(times=LIMITS.attempts)
    with pytest.raises(VendorApiUnavailable, match="unreachable"):
        run(complete(ashby_api_server, sample_hire()))


def test_a_wrong_token_is_unauthorized(ashby_api_server: AshbyApiServer) -> None:
    with pytest.raises(VendorApiUnauthorized, match="HTTP 403"):
        run(complete(ashby_api_server, sample_hire(), token="wrong-key"))
    assert len(ashby_api_server.requests) == 1  # not retried


def test_a_missing_token_is_unauthorized(ashby_api_server: AshbyApiServer) -> None:
    with pytest.raises(VendorApiUnauthorized, match="HTTP 401"):
        run(complete(ashby_api_server, sample_hire(), token=""))


def test_an_unknown_id_is_not_found(ashby_api_server: AshbyApiServer) -> None:
    with pytest.raises(VendorApiNotFound, match="department_not_found"):
        run(call(ashby_api_server, "department.info", {"departmentId": "no-such-department"}))
    with pytest.raises(VendorApiBadAnswer, match="invalid_input"):
        run(call(ashby_api_server, "location.info", {}))


def test_unknown_records_leave_the_hire_usable(ashby_api_server: AshbyApiServer) -> None:
    ashby_api_server.records["department"].clear()
    ashby_api_server.records["candidate"].clear()
    completed = run(complete(ashby_api_server, sample_hire()))
    assert (completed.department, completed.location, completed.work_email) == (None, "Berlin", None)
    assert completed.personal_email == "zoe.angstrom@example.com"


def test_the_server_answers_the_samples(ashby_api_server: AshbyApiServer) -> None:
    offer = json.loads((SAMPLES / "api-offer-info.json").read_text())["results"]
    assert run(call(ashby_api_server, "offer.info", {"offerId": offer["id"]})) == offer
