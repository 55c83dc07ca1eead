"""HiBob's "Read company employee fields by employee ID" endpoint over real HTTP.

Client construction that works::

    token = f"{server.service_user_id}:{server.token}"  # what the source's Secret holds
    VendorApiClient(httpx.AsyncClient(), server.api_url, HiBobAdapter().api_credentials(token))

``server.api_url`` is ``server.url + "/v1"``, like ``https://api.hibob.com/v1``.

What it speaks (apidocs.hibob.com/reference/post_people-identifier, /docs/people-read-api-contract):

* ``POST /v1/people/{id}`` with ``{"fields": ["root.id", "work.title", ...], "humanReadable": ...}``.
  Field ids are dot notation; ``root.<x>`` is the top-level ``x``, ``<category>.<x>`` nests under the
  category, as in the recorded answer ``tests/samples/hr/hibob/api-people.json``. Unknown or unreadable
  fields are omitted silently; without ``fields`` the whole record is returned.
* List fields (``work.department``, ``work.site``, ``work.title``) are list-item ids unless
  ``humanReadable`` is ``REPLACE`` (names instead) or ``APPEND`` (ids plus a ``humanReadable`` object).
* HTTP Basic ``SERVICE-USER-ID:TOKEN`` (reference/authorization); anything else is 401. Unknown ids 404.

Errors are ``{"key": "...", "error": "..."}``, the "simpler key and error pair" of
apidocs.hibob.com/reference/error-handling (exact keys per status: inferred).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, ClassVar

from .base import ProtocolServer, RecordedRequest, Reply, basic_credentials

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "hr" / "hibob"

_PERSON = re.compile(r"^/v1/people/([^/]+)/?$")
_KEYS = {400: "bad.request", 401: "unauthorized", 403: "forbidden", 404: "employee.not.found",
         405: "method.not.allowed", 429: "too.many.requests", 500: "internal.error", 503: "service.unavailable"}
# Fictional list-item ids returned for list fields when humanReadable is not REPLACE.
LIST_ITEM_IDS = {("work", "department"): "213472981", ("work", "site"): "213472982", ("work", "title"): "213472983"}


def _path_of(field_id: str) -> tuple[str, ...]:
    """``root.firstName`` -> ``("firstName",)``; ``work.title`` -> ``("work", "title")``."""
    parts = tuple(field_id.split("."))
    return parts[1:] if parts[0] == "root" else parts


def _get(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = record
    for part in path:
        if not isinstance(node, dict) or part not in node:
            raise KeyError(part)
        node = node[part]
    return node


def _put(record: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = record
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


class HiBobApiServer(ProtocolServer):
    """Bob's people, seeded from the sample (employee 3332883894235038486)."""

    name: ClassVar[str] = "hibob"

    def __init__(self, service_user_id: str = "SERVICE-TEST-USER", token: str = "hibob-test-token") -> None:
        super().__init__()
        self.service_user_id = service_user_id
        self.token = token
        person = json.loads((SAMPLES / "api-people.json").read_text())
        #: People by backend id, with human-readable values; tests may add or change entries.
        self.people: dict[str, dict[str, Any]] = {person["id"]: person}

    @property
    def api_url(self) -> str:
        """The base URL a client uses, like ``https://api.hibob.com/v1``."""
        return self.url + "/v1"

    def error_reply(self, status: int, message: str | None = None) -> Reply:
        return Reply.json(status, {"key": _KEYS.get(status, "error"), "error": message or f"HTTP {status}"})

    def handle(self, request: RecordedRequest) -> Reply:
        if basic_credentials(request) != (self.service_user_id, self.token):
            return self.error_reply(401, "Unauthorized")
        match = _PERSON.match(request.path)
        if match is None:
            return self.error_reply(404, f"no route for {request.method} {request.path}")
        if request.method != "POST":
            return self.error_reply(405, f"{request.method} is not allowed here")
        person = self.people.get(match[1])
        if person is None:
            return self.error_reply(404, "Employee not found")
        query = request.json if isinstance(request.json, dict) else {}
        fields = query.get("fields")
        if isinstance(fields, list) and fields:
            answer: dict[str, Any] = {}
            for field_id in fields:
                path = _path_of(str(field_id))
                try:
                    _put(answer, path, copy.deepcopy(_get(person, path)))
                except KeyError:
                    continue  # "silent field omission" (people-read-api-contract)
        else:
            answer = copy.deepcopy(person)
        mode = query.get("humanReadable")
        if mode != "REPLACE":
            readable: dict[str, Any] = {}
            for path, item_id in LIST_ITEM_IDS.items():
                try:
                    _put(readable, path, _get(answer, path))
                except KeyError:
                    continue
                _put(answer, path, item_id)
            if mode == "APPEND" and readable:
                answer["humanReadable"] = readable
        return Reply.json(200, answer)
