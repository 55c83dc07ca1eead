"""Raw body -> payload: JSON errors, every bad field named, unknown fields found (names only)."""

from __future__ import annotations

import json

import pytest

from preboarding.bridge.intake import InvalidJson, InvalidPayload, parse_new_hire

from .conftest import example_payload


def test_the_example_parses() -> None:
    parsed = parse_new_hire(json.dumps(example_payload()).encode())
    assert parsed.payload.employee.id == "E-10442"
    assert parsed.unknown_fields == []


@pytest.mark.parametrize("body", [b"", b"{", b"nul", b"\xff\xfe\x00", b"[" * 5000 + b"]" * 5000, b"1" * 5000,
                                  b'{"a": NaN}'])
def test_not_json(body: bytes) -> None:
    with pytest.raises(InvalidJson, match="not valid JSON"):
        parse_new_hire(body)


def test_every_bad_field_is_named() -> None:
    data = example_payload()
    data["employee"]["email"] = "priya-at-example"
    data["employee"]["start_date"] = "next monday"
    data["employee"]["schedule"][2]["items"] = []
    del data["company"]["name"]
    data["options"] = {"tone": "grumpy", "target_seconds": 5}
    with pytest.raises(InvalidPayload) as info:
        parse_new_hire(json.dumps(data).encode())
    fields = [p.field for p in info.value.problems]
    assert fields == ["employee.email", "employee.start_date", "employee.schedule[2].items", "company.name",
                      "options.tone", "options.target_seconds"]


def test_problems_never_carry_the_rejected_value() -> None:
    data = example_payload()
    data["employee"]["email"] = "secret-personal-value"
    with pytest.raises(InvalidPayload) as info:
        parse_new_hire(json.dumps(data).encode())
    assert "secret-personal-value" not in repr(info.value.problems)


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"null", b"42"])
def test_non_object_json_names_the_body(body: bytes) -> None:
    with pytest.raises(InvalidPayload) as info:
        parse_new_hire(body)
    assert [p.field for p in info.value.problems] == ["body"]


def test_unknown_fields_are_listed_not_rejected() -> None:
    data = example_payload()
    data["source"] = "workday"
    data["employee"]["shoe_size"] = 43
    data["employee"]["schedule"][0]["room"] = {"deep": {"x": 1}}
    data["options"] = {"tone": "warm", "music": True}
    parsed = parse_new_hire(json.dumps(data).encode())
    assert sorted(parsed.unknown_fields) == ["employee.schedule[0].room", "employee.shoe_size", "options.music",
                                             "source"]

