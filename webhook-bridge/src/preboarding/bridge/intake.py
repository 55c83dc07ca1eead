"""Parsing an HR payload from raw bytes (pure): JSON, then ``NewHirePayload``, every bad field named."""

from __future__ import annotations

import functools
import types
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

import pydantic_core
from pydantic import BaseModel, ValidationError

from preboarding.api.fields import field_path
from preboarding.api.payload import NewHirePayload


@dataclass(frozen=True)
class FieldProblem:
    """One bad field: its dotted path in the payload (``employee.schedule[0].items``) and what is wrong."""

    field: str
    message: str
    type: str


class InvalidJson(ValueError):
    """The body is not JSON; the message says where (never what)."""


class InvalidPayload(ValueError):
    """The JSON does not describe a new hire; ``problems`` names every bad field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(", ".join(p.field for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class ParsedPayload:
    payload: NewHirePayload
    unknown_fields: list[str]


def problems_from(exc: ValidationError) -> list[FieldProblem]:
    """Pydantic errors as field problems, without the rejected input (it may be personal data)."""
    return [
        FieldProblem(field=field_path(e["loc"], default="body"), message=e["msg"], type=e["type"])
        for e in exc.errors(include_input=False, include_url=False, include_context=False)
    ]


def unknown_fields(model: type[BaseModel], data: Any, prefix: tuple[int | str, ...] = ()) -> list[str]:
    """Paths of keys in ``data`` that ``model`` ignores (names only, never values; unknown subtrees not walked)."""
    if not isinstance(data, dict):
        return []
    found: list[str] = []
    fields = _fields_of(model)
    for key, value in data.items():
        if key not in fields:
            found.append(field_path((*prefix, str(key)), default="body"))
            continue
        nested, is_list = fields[key]
        if nested is None:
            continue
        if is_list and isinstance(value, list):
            for index, item in enumerate(value):
                found += unknown_fields(nested, item, (*prefix, key, index))
        elif not is_list:
            found += unknown_fields(nested, value, (*prefix, key))
    return found


@functools.cache
def _fields_of(model: type[BaseModel]) -> dict[str, tuple[type[BaseModel] | None, bool]]:
    """Each field of ``model`` with the payload model it holds (if any), computed once per model."""
    return {name: _model_of(info.annotation) for name, info in model.model_fields.items()}


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The payload model a field holds, and whether it holds a list of them (``X | None`` unwrapped)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            model, is_list = _model_of(arg)
            if model is not None:
                return model, is_list
        return None, False
    if origin is list:
        args = get_args(annotation)
        return (_model_of(args[0])[0] if args else None), True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def parse_new_hire(body: bytes, *, profile_implied: bool = False) -> ParsedPayload:
    """Raw request body -> validated payload. Raises ``InvalidJson`` or ``InvalidPayload``.

    ``profile_implied``: the payload arrived at a source, whose profile supplies the company.
    """
    try:
        # pydantic's parser: bounded recursion, no quadratic big-int parsing, strict UTF-8.
        data = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise InvalidJson(f"the body is not valid JSON: {exc}") from None
    try:
        payload = NewHirePayload.model_validate(data, context={"profile_implied": profile_implied})
    except ValidationError as exc:
        raise InvalidPayload(problems_from(exc)) from None
    return ParsedPayload(payload=payload, unknown_fields=unknown_fields(NewHirePayload, data))
