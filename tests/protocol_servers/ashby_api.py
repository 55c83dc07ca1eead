"""Ashby's RPC API over real HTTP, for testing ``preboarding.bridge.vendors.ashby`` through ``VendorApiClient``.

Client construction that works::

    VendorApiClient(httpx.AsyncClient(), server.url, ADAPTER.api_credentials(server.api_key))

What it speaks (https://developers.ashbyhq.com/reference/introduction, /reference/authentication, /docs/responses):

* ``POST /department.info {departmentId}``, ``/location.info {locationId}``, ``/candidate.info {id}``,
  ``/application.info {applicationId}``, ``/offer.info {offerId}`` -> 200 ``{"success": true, "results": {...}}``.
  Candidate, application and offer records are the samples in ``tests/samples/hr/ashby/``; the department and
  location records follow the OpenAPI's ``department.info``/``location.info`` result schemas (fields id, name,
  externalName, isArchived, ...). Tests may add records to ``server.records``.
* HTTP Basic with the API key as username and a blank password: no key -> 401, a wrong key -> 403 (Ashby:
  "If your API key is missing ... 401 ... When the provided key is wrong or deactivated ... 403"). The body is
  Ashby's error envelope; its exact wording for these two is not documented.
* "What would be 4XX errors will return 200 with success being false": an unknown id is 200
  ``{"success": false, "errors": ["<kind>_not_found"], "errorInfo": {"code": "<kind>_not_found", ...}}`` and a body
  without the id is ``invalid_input`` (the docs' examples are ``application_not_found`` and ``invalid_input``).
* Only ``POST`` (RPC style); other methods and unknown endpoints are 404.
* ``fail_next(status)`` answers in the same envelope (5xx, 429 ``rate_limit_exceeded``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, ClassVar

from .base import ProtocolServer, RecordedRequest, Reply, basic_credentials

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "hr" / "ashby"

DEPARTMENT_ID = "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b"  # data.application.job.departmentId in hire.json
LOCATION_ID = "6d7e8f9a-0b1c-4d2e-8f3a-4b5c6d7e8f9a"  # data.application.job.locationId in hire.json

# endpoint -> (record kind, the request field that names the record)
ENDPOINTS: dict[str, tuple[str, str]] = {
    "/department.info": ("department", "departmentId"),
    "/location.info": ("location", "locationId"),
    "/candidate.info": ("candidate", "id"),
    "/application.info": ("application", "applicationId"),
    "/offer.info": ("offer", "offerId"),
}

_STATUS_CODES: dict[int, str] = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    429: "rate_limit_exceeded",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
}


def ashby_error(code: str, message: str) -> dict[str, Any]:
    """Ashby's unsuccessful envelope: ``success: false``, deprecated ``errors[]`` and ``errorInfo``."""
    return {"success": False, "errors": [code], "errorInfo": {"code": code, "message": message,
                                                              "requestId": "01JTESTREQUEST0000000000000"}}


def default_records() -> dict[str, dict[str, dict[str, Any]]]:
    """Records by kind and id: the samples' candidate, application and offer, plus a department and location."""
    records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind, _ in ENDPOINTS.values()}
    for kind, sample in (("candidate", "api-candidate-info.json"), ("application", "api-application-info.json"),
                         ("offer", "api-offer-info.json")):
        results = json.loads((SAMPLES / sample).read_text())["results"]
        records[kind][results["id"]] = results
    records["department"][DEPARTMENT_ID] = {
        "id": DEPARTMENT_ID, "name": "Data", "externalName": "Data & Analytics", "isArchived": False,
        "parentId": None, "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z",
        "extraData": {},
    }
    records["location"][LOCATION_ID] = {
        "id": LOCATION_ID, "name": "Berlin", "externalName": "Berlin Office", "isArchived": False,
        "address": {"postalAddress": {"addressCountry": "Germany", "addressLocality": "Berlin"}},
        "isRemote": False, "workplaceType": "Hybrid", "parentLocationId": None, "type": "Location",
        "extraData": {},
    }
    return records


class AshbyApiServer(ProtocolServer):
    """Ashby's ``*.info`` endpoints on 127.0.0.1 (see the module docstring)."""

    name: ClassVar[str] = "ashby-api"

    def __init__(self, api_key: str = "test-ashby-key") -> None:
        super().__init__()
        self.api_key = api_key
        #: Records by kind ("department", "location", "candidate", "application", "offer") and id.
        self.records = default_records()

    def handle(self, request: RecordedRequest) -> Reply:
        key = (basic_credentials(request) or ("", ""))[0]
        if not key:
            return self.error_reply(401, "API key missing: use HTTP Basic with the key as username")
        if key != self.api_key:
            return self.error_reply(403, "The API key is invalid or deactivated")
        endpoint = ENDPOINTS.get(request.path)
        if request.method != "POST" or endpoint is None:
            return self.error_reply(404, f"no endpoint {request.method} {request.path}")
        kind, field = endpoint
        record_id = request.json.get(field) if isinstance(request.json, dict) else None
        if not isinstance(record_id, str) or not record_id:
            return Reply.json(200, ashby_error("invalid_input", "Request payload is malformed"))
        record = self.records[kind].get(record_id)
        if record is None:
            return Reply.json(200, ashby_error(f"{kind}_not_found", f"{kind.capitalize()} not found"))
        return Reply.json(200, {"success": True, "results": copy.deepcopy(record)})

    def error_reply(self, status: int, message: str | None = None) -> Reply:
        code = _STATUS_CODES.get(status, "error")
        return Reply.json(status, ashby_error(code, message or code.replace("_", " ")))
