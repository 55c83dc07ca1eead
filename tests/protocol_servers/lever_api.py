"""Lever's Data API (the read endpoints a hire lookup uses) over real HTTP.

Client construction that works::

    VendorApiClient(httpx.AsyncClient(), server.api_url, LeverAdapter().api_credentials(server.api_key))

``server.api_url`` is ``server.url + "/v1"``, as Lever's base is ``https://api.lever.co/v1``.

What it speaks (hire.lever.co/developer/documentation):

* ``GET /v1/opportunities/{id}``, ``GET /v1/opportunities/{id}/offers``, ``GET /v1/postings/{id}``,
  ``GET /v1/users/{id}``, answered ``{"data": ...}`` (lists add ``"hasNext": false``) with the recorded
  shapes in ``tests/samples/hr/lever/api-*.json``;
* HTTP Basic with the API key as username and a blank password; anything else is 401;
* unknown ids are 404, other methods 405.

Errors are ``{"code": "<Name>", "message": "..."}``: the shape is inferred (Lever's docs pages read do not
show an error body); only the status codes matter to the bridge's client.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, ClassVar

from .base import ProtocolServer, RecordedRequest, Reply, basic_credentials

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "hr" / "lever"

_CODES = {400: "BadRequestError", 401: "UnauthorizedError", 403: "ForbiddenError", 404: "ResourceNotFound",
          405: "MethodNotAllowed", 429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}
_ROUTES = [
    (re.compile(r"^/v1/opportunities/([^/]+)/offers/?$"), "offers"),
    (re.compile(r"^/v1/opportunities/([^/]+)/?$"), "opportunities"),
    (re.compile(r"^/v1/postings/([^/]+)/?$"), "postings"),
    (re.compile(r"^/v1/users/([^/]+)/?$"), "users"),
]


def sample(name: str) -> Any:
    """A recorded Lever API answer from ``tests/samples/hr/lever``."""
    return json.loads((SAMPLES / name).read_text())


class LeverApiServer(ProtocolServer):
    """Lever's opportunities, offers, postings and users, seeded from the samples (one hire)."""

    name: ClassVar[str] = "lever"

    def __init__(self, api_key: str = "lever-test-api-key") -> None:
        super().__init__()
        self.api_key = api_key
        opportunity = sample("api-opportunity.json")["data"]
        posting = sample("api-posting.json")["data"]
        user = sample("api-user.json")["data"]
        #: Records by id; tests may add, change or delete entries.
        self.opportunities: dict[str, dict[str, Any]] = {opportunity["id"]: opportunity}
        self.offers: dict[str, list[dict[str, Any]]] = {opportunity["id"]: sample("api-offers.json")["data"]}
        self.postings: dict[str, dict[str, Any]] = {posting["id"]: posting}
        self.users: dict[str, dict[str, Any]] = {user["id"]: user}

    @property
    def api_url(self) -> str:
        """The base URL a client uses, like ``https://api.lever.co/v1``."""
        return self.url + "/v1"

    def error_reply(self, status: int, message: str | None = None) -> Reply:
        return Reply.json(status, {"code": _CODES.get(status, "Error"), "message": message or f"HTTP {status}"})

    def handle(self, request: RecordedRequest) -> Reply:
        if basic_credentials(request) != (self.api_key, ""):
            return self.error_reply(401, "Invalid API key")
        for pattern, collection in _ROUTES:
            match = pattern.match(request.path)
            if match is None:
                continue
            if request.method != "GET":
                return self.error_reply(405, f"{request.method} is not allowed here")
            key = match[1]
            if collection == "offers":
                if key not in self.opportunities:
                    return self.error_reply(404, "Opportunity not found")
                return Reply.json(200, {"data": copy.deepcopy(self.offers.get(key, [])), "hasNext": False})
            records: dict[str, dict[str, Any]] = getattr(self, collection)
            if key not in records:
                return self.error_reply(404, f"{collection[:-1].capitalize()} not found")
            return Reply.json(200, {"data": copy.deepcopy(records[key])})
        return self.error_reply(404, f"no route for {request.method} {request.path}")
