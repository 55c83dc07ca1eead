"""The CRD is generated from the pydantic models; these tests keep the two (and crds/) in step."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from preboarding import api
from preboarding.api.crd import KINDS, PROFILE, SOURCE, CrdKind, build_crd, render_crd_yaml, structural_schema
from preboarding.api.models import OnboardingVideoSpec, OnboardingVideoStatus

ROOT = Path(__file__).resolve().parents[3]


def _schema(kind: CrdKind | None = None) -> dict[str, Any]:
    crd = build_crd(kind) if kind else build_crd()
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


KIND_IDS = [k.kind for k in KINDS]


def _walk(schema: dict[str, Any], path: str = ""):  # type: ignore[no-untyped-def]
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _walk(sub, f"{path}.{name}")
    if "items" in schema:
        yield from _walk(schema["items"], f"{path}[]")


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_committed_crds_match_the_models(kind: CrdKind) -> None:
    committed = (ROOT / "crds" / kind.file_name).read_text()
    assert committed == render_crd_yaml(kind), "crds/ is stale: run `make crds`"


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_every_field_has_a_description(kind: CrdKind) -> None:
    # `kubectl explain` shows these: every property, and every object inside a list, is documented.
    undocumented = [
        path for root in ("spec", "status") for path, s in _walk(_schema(kind)["properties"][root], root)
        if not s.get("description") and (not path.endswith("[]") or s.get("type") == "object")
    ]
    assert undocumented == []


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_schema_is_structural(kind: CrdKind) -> None:
    for path, schema in _walk(_schema(kind)):
        assert "type" in schema or schema.get("x-kubernetes-preserve-unknown-fields"), path
        for banned in ("$ref", "anyOf", "oneOf", "allOf", "title", "$defs"):
            assert banned not in schema, f"{path} has {banned}"


def test_schema_fields_are_exactly_the_models_aliases() -> None:
    spec = _schema()["properties"]["spec"]
    assert set(spec["properties"]) == {f.alias or n for n, f in OnboardingVideoSpec.model_fields.items()}
    employee = spec["properties"]["employee"]
    assert employee["required"] == ["id", "name", "email", "role", "startDate"]
    assert employee["properties"]["email"]["format"] == "email"
    assert employee["properties"]["startDate"]["format"] == "date"
    assert set(spec["properties"]["company"]["properties"]) == {"name", "brandColor", "logoURL"}
    status = _schema()["properties"]["status"]
    assert set(status["properties"]) == {f.alias or n for n, f in OnboardingVideoStatus.model_fields.items()}
    assert status["properties"]["phase"]["enum"] == ["Pending", "Running", "Succeeded", "Failed"]
    assert status["properties"]["stage"]["enum"] == [s.value for s in api.STAGES]


def test_conditions_are_a_list_map_keyed_by_type() -> None:
    conditions = _schema()["properties"]["status"]["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert set(conditions["items"]["required"]) >= {"type", "status", "reason", "lastTransitionTime"}


def test_names_printer_columns_and_subresources() -> None:
    crd = build_crd()
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"], names["categories"]) == (
        "OnboardingVideo", "onboardingvideos", ["ov"], ["preboarding"])
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    columns = [(c["name"], c.get("priority", 0)) for c in version["additionalPrinterColumns"]]
    assert columns == [("Employee", 0), ("Phase", 0), ("Stage", 0), ("Progress", 0), ("Age", 0),
                       ("Message", 1), ("Delivery", 1), ("Send-At", 1), ("Video", 1)]


def test_optional_collapses_and_null_defaults_are_dropped() -> None:
    raw = {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}], "default": None,
           "description": "d", "title": "T"}
    assert structural_schema(raw) == {"type": "string", "description": "d", "maxLength": 3}


def test_union_of_two_types_is_refused() -> None:
    with pytest.raises(ValueError):
        structural_schema({"anyOf": [{"type": "string"}, {"type": "integer"}]})


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_generated_yaml_parses_back(kind: CrdKind) -> None:
    assert yaml.safe_load(render_crd_yaml(kind)) == build_crd(kind)


def test_source_and_profile_names_and_printer_columns() -> None:
    source, profile = build_crd(SOURCE), build_crd(PROFILE)
    assert (source["spec"]["names"]["kind"], source["spec"]["names"]["shortNames"]) == ("OnboardingSource", ["obs"])
    assert (profile["spec"]["names"]["kind"], profile["spec"]["names"]["shortNames"]) == ("OnboardingProfile", ["obp"])
    columns = [c["name"] for c in source["spec"]["versions"][0]["additionalPrinterColumns"] if not c.get("priority")]
    assert columns == ["Vendor", "Ready", "Last delivery", "Age"]
    vendor = _schema(SOURCE)["properties"]["spec"]["properties"]["vendor"]
    assert vendor["enum"] == ["greenhouse", "bamboohr", "ashby", "lever", "hibob", "standard", "generic"]
