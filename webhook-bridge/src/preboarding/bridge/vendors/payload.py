"""Reading a vendor's JSON body, shared by the adapters (pure).

``load_object`` parses with pydantic's bounded parser; ``PayloadReader`` reads fields by name and
collects every bad one as a ``FieldProblem`` (its path and kind, never its value), so one answer names
all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pydantic_core

from preboarding.bridge.intake import FieldProblem, InvalidPayload
from preboarding.bridge.vendors.base import parse_vendor_date

DATE_MESSAGE = "not a valid date: expected YYYY-MM-DD or MM/DD/YYYY"


def load_object(body: bytes, hint: str = "") -> dict[str, Any]:
    """The body as a JSON object; ``InvalidPayload`` on ``body`` otherwise. ``hint``: how to fix it."""
    try:
        data = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError:
        raise InvalidPayload([FieldProblem("body", f"is not valid JSON{hint}", "json_invalid")]) from None
    if not isinstance(data, dict):
        raise InvalidPayload([FieldProblem("body", "must be a JSON object", "dict_type")])
    return data


def text(value: Any) -> str | None:
    """A non-blank string, stripped; None for anything else."""
    return (value.strip() or None) if isinstance(value, str) else None


def id_text(value: Any) -> str:
    """An id sent as a string or an integer (never a bool), as text; ``""`` otherwise."""
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def pick(new: str | None, old: str | None) -> str | None:
    """The newer value where there is one: an update that omits a field keeps the old one."""
    return new if new is not None else old


class _Absent(dict[str, Any]):
    """An object the payload lacks (or has in the wrong type): fields "required" inside it are not reported again."""


ABSENT: Mapping[str, Any] = _Absent()


class PayloadReader:
    """Reads fields by name, collecting every bad one as a ``FieldProblem``.

    Absent and null optional fields are simply missing; a wrong type is a problem. Readers of objects return
    the empty ``ABSENT`` when there is none, so reading goes on and every problem is reported once.
    ``id_message`` says what ids the vendor sends (its wrong-type message).
    """

    def __init__(self, id_message: str = "expected an integer or a string") -> None:
        self.problems: list[FieldProblem] = []
        self.id_message = id_message

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
            self.problem(path, self.id_message, "int_type" if "integer" in self.id_message else "string_type")
        elif required and not isinstance(parent, _Absent):
            self.problem(path, "Field required", "missing")
        return None

    def required_ident(self, parent: Mapping[str, Any], key: str, path: str) -> str:
        """An id that must be there; ``""`` only together with a problem (``raise_problems`` then raises)."""
        return self.ident(parent, key, path, required=True) or ""

    def date(self, parent: Mapping[str, Any], key: str, path: str, message: str = DATE_MESSAGE) -> dt.date | None:
        try:
            return parse_vendor_date(parent.get(key))
        except (ValueError, OverflowError, OSError):  # a fixed message: the error may quote the value
            self.problem(path, message, "date_parsing")
            return None
