"""BambooHR's "Get Employee" endpoint over real HTTP.

Client construction that works::

    VendorApiClient(httpx.AsyncClient(), server.api_url, BambooHRAdapter().api_credentials(server.api_key))

``server.api_url`` is ``server.url + "/api/gateway.php/<company>"``, like
``https://api.bamboohr.com/api/gateway.php/<company>``.

What it speaks (documentation.bamboohr.com/reference/get-employee):

* ``GET /api/gateway.php/{company}/v1/employees/{id}/`` (the trailing slash optional) with
  ``?fields=a,b,c``: "The id field is always present and is returned as a string; every other field is
  included only when explicitly named in the fields query parameter"; fields the employee lacks are
  omitted. Records are seeded from ``tests/samples/hr/bamboohr/api-employee.json``; ``server.requests``
  shows the ``onlyCurrent`` parameter a client sent.
* HTTP Basic with the API key as username and any password; a wrong or missing key is 401. An unknown
  company or employee is 404.

Errors have an empty body and an ``X-BambooHR-Error-Message`` header (third-party guides describe that
header; documentation.bamboohr.com/docs/api-details lists only the status codes): inferred.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, ClassVar

from .base import ProtocolServer, RecordedRequest, Reply, basic_credentials

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "hr" / "bamboohr"

_EMPLOYEE = re.compile(r"^/api/gateway\.php/([^/]+)/v1/employees/([^/]+)/?$")
_MESSAGES = {401: "Invalid API key", 403: "Forbidden", 404: "Not found", 429: "Too many requests",
             500: "Internal server error", 503: "Service unavailable"}


class BambooHRApiServer(ProtocolServer):
    """One company's employees, seeded from the sample (employee 4711)."""

    name: ClassVar[str] = "bamboohr"

    def __init__(self, api_key: str = "bamboohr-test-api-key", company: str = "example") -> None:
        super().__init__()
        self.api_key = api_key
        self.company = company
        employee = json.loads((SAMPLES / "api-employee.json").read_text())
        #: Employee records by id (every field BambooHR could return); tests may add or change entries.
        self.employees: dict[str, dict[str, Any]] = {employee["id"]: employee}

    @property
    def api_url(self) -> str:
        """The base URL a client uses, like ``https://api.bamboohr.com/api/gateway.php/<company>``."""
        return f"{self.url}/api/gateway.php/{self.company}"

    def error_reply(self, status: int, message: str | None = None) -> Reply:
        text = message or _MESSAGES.get(status) or f"HTTP {status}"
        return Reply(status=status, headers={"X-BambooHR-Error-Message": text})

    def handle(self, request: RecordedRequest) -> Reply:
        credentials = basic_credentials(request)
        if credentials is None or credentials[0] != self.api_key:
            return self.error_reply(401)
        match = _EMPLOYEE.match(request.path)
        if match is None or match[1] != self.company:
            return self.error_reply(404)
        if request.method != "GET":
            return self.error_reply(405, "Method not allowed")
        record = self.employees.get(match[2])
        if record is None:
            return self.error_reply(404, "Employee not found")
        wanted = [f.strip() for value in request.query.get("fields", []) for f in value.split(",") if f.strip()]
        answer = {"id": str(record["id"])}
        answer.update({name: copy.deepcopy(record[name]) for name in wanted if name in record and name != "id"})
        return Reply.json(200, answer)
