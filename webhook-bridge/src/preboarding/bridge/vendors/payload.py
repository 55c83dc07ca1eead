"""Reading a vendor's JSON body, shared by the adapters (pure).

``load_object`` parses with pydantic's bounded parser; ``PayloadReader`` reads fields by name and
collects every bad one as a ``FieldProblem`` (its path and kind, never its value), so one answer names
all of them. ``merge_hire`` lays a vendor's later answer over a hire; the digests make a delivery id for
vendors that send none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import pydantic_core

from preboarding.bridge.intake import FieldProblem, InvalidPayload
from preboarding.bridge.vendors.base import EventKind, NewHire, VendorEvent, parse_vendor_date

DATE_MESSAGE = "not a valid date: expected YYYY-MM-DD or MM/DD/YYYY"

# A vendor's delivery id as sent: printable ASCII, since it ends up in an annotation.
DELIVERY_ID = re.compile(r"^[\x21-\x7e]{1,256}$")
# An id that reaches a URL path of the vendor's API: nothing that could change the path.
SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# What a vendor's later answer may fill in or correct; the ids and the native payload's lists stay as they were.
_MERGED_FIELDS = tuple(f.name for f in dataclasses.fields(NewHire)
                       if f.name not in ("person_id", "tech_stack", "schedule", "external_ids"))

T = TypeVar("T")


def load_json(body: bytes, hint: str = "") -> Any:
    """The body as any JSON value; ``InvalidPayload`` on ``body`` if it is not JSON. ``hint``: how to fix it."""
    try:
        return pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError:
        raise InvalidPayload([FieldProblem("body", f"is not valid JSON{hint}", "json_invalid")]) from None


def load_object(body: bytes, hint: str = "") -> dict[str, Any]:
    """The body as a JSON object; ``InvalidPayload`` on ``body`` otherwise. ``hint``: how to fix it."""
    data = load_json(body, hint)
    if not isinstance(data, dict):
        raise InvalidPayload([FieldProblem("body", "must be a JSON object", "dict_type")])
    return data


def text(value: Any) -> str | None:
    """A non-blank string, stripped; None for anything else."""
    return (value.strip() or None) if isinstance(value, str) else None


def id_text(value: Any) -> str:
    """An id sent as a string or an integer (never a bool), as text; ``""`` otherwise."""
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def pick(new: T | None, old: T | None) -> T | None:
    """The newer value where there is one: an update that omits a field keeps the old one."""
    return new if new is not None else old


def merge_hire(old: NewHire, new: NewHire) -> NewHire:
    """``old`` with every value ``new`` has; ``old``'s person id, external ids, tech stack and schedule are kept."""
    merged: dict[str, Any] = {name: pick(getattr(new, name), getattr(old, name)) for name in _MERGED_FIELDS}
    return dataclasses.replace(old, **merged)


def required_employee_id(value: Any, path: str, invalid: str) -> str:
    """A required employee id (a string or an integer) that is safe in a URL path (``SAFE_ID``).

    Raises ``InvalidPayload`` on ``path``: missing, or ``invalid`` (which says what the vendor's ids look like).
    """
    if value is None or value == "":
        raise InvalidPayload([FieldProblem(path, "required: the employee's id", "missing")])
    found = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(found, str) or not SAFE_ID.match(found):
        raise InvalidPayload([FieldProblem(path, invalid, "id")])
    return found


def employee_event(kind: EventKind, action: str, delivery_id: str, employee_id: str, company_id: str) -> VendorEvent:
    """For HRIS webhooks that carry only ids: a REMOVE of the employee, or a HIRE/UPDATE of them to look up."""
    if kind is EventKind.REMOVE:
        return VendorEvent(kind, action, delivery_id, person_ids=(employee_id,))
    ids = {"employeeId": employee_id, **({"companyId": company_id} if company_id else {})}
    return VendorEvent(kind, action, delivery_id, hires=(NewHire(person_id=employee_id, external_ids=ids),))


def body_digest(body: bytes) -> str:
    """``sha256:<hex>`` of the raw body: the delivery id when the vendor sends none (a retry repeats the body)."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def parts_digest(vendor: str, parts: Iterable[str]) -> str:
    """Hex SHA-256 of what identifies a delivery, for vendors whose retries may differ in bytes."""
    # The unit separator cannot occur in ids or timestamps, so distinct part lists never collide.
    return hashlib.sha256("\x1f".join([vendor, *parts]).encode()).hexdigest()


class _Absent(dict[str, Any]):
    """An object the payload lacks (or has in the wrong type): fields "required" inside it are not reported again."""


ABSENT: Mapping[str, Any] = _Absent()


class PayloadReader:
    """Reads fields by name, collecting every bad one as a ``FieldProblem``.

    Absent and null optional fields are simply missing; a wrong type is a problem. Readers of objects return
    the empty ``ABSENT`` when there is none, so reading goes on and every problem is reported once.
    """

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def problem(self, path: str, message: str, kind: str) -> None:
        self.problems.append(FieldProblem(field=path, message=message, type=kind))

    def raise_problems(self) -> None:
        if self.problems:
            raise InvalidPayload(list(self.problems))

    def object(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Mapping[str, Any]:
        value = parent.get(key)
        if isinstance(value, dict):
            return value
        if value is not None:
            self.problem(path, "expected an object", "dict_type")
        elif required and not isinstance(parent, _Absent):
            self.problem(path, "Field required", "missing")
        return ABSENT

    def array(self, parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = parent.get(key)
        if isinstance(value, list):
            return value
        if value is not None:
            self.problem(path, "expected an array", "list_type")
        return []

    def first_object(self, parent: Mapping[str, Any], key: str, path: str) -> tuple[Mapping[str, Any], str]:
        """The first item of an array of objects (``ABSENT`` if empty) and its path."""
        items = self.array(parent, key, path)
        if not items:
            return ABSENT, f"{path}[0]"
        if not isinstance(items[0], dict):
            self.problem(f"{path}[0]", "expected an object", "dict_type")
            return ABSENT, f"{path}[0]"
        return items[0], f"{path}[0]"

    def text(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
        value = parent.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value is not None and not isinstance(value, str):
            self.problem(path, "expected a string", "string_type")
        elif required and not isinstance(parent, _Absent):
            self.problem(path, "Field required", "missing")
        return None

    def ident(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
        """An id: an integer or a non-empty string."""
        value = parent.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value is not None and not isinstance(value, str):
            self.problem(path, "expected an integer or a string", "int_type")
        elif required and not isinstance(parent, _Absent):
            self.problem(path, "Field required", "missing")
        return None

    def required_ident(self, parent: Mapping[str, Any], key: str, path: str) -> str:
        """An id that must be there; ``""`` only together with a problem (``raise_problems`` then raises)."""
        return self.ident(parent, key, path, required=True) or ""

    def required_ident_at(self, root: Mapping[str, Any], path: tuple[str, ...]) -> str:
        """The id at ``path`` (``("data", "candidate", "id")``), every level required; raises at once if it is bad."""
        node: Mapping[str, Any] = root
        for depth, key in enumerate(path[:-1]):
            node = self.object(node, key, ".".join(path[: depth + 1]), required=True)
        found = self.required_ident(node, path[-1], ".".join(path))
        self.raise_problems()
        return found

    def date(self, parent: Mapping[str, Any], key: str, path: str, message: str = DATE_MESSAGE) -> dt.date | None:
        try:
            return parse_vendor_date(parent.get(key))
        except (ValueError, OverflowError, OSError):  # a fixed message: the error may quote the value
            self.problem(path, message, "date_parsing")
            return None
