"""Generate the OnboardingVideo CustomResourceDefinition from the pydantic models.

``crds/onboardingvideos.preboarding.dev.yaml`` is this module's output, committed so that users can
``kubectl apply`` it without Python; ``make crds`` rewrites it and a unit test fails when it drifts.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from preboarding import api
from preboarding.api.models import OnboardingVideoSpec, OnboardingVideoStatus

# String formats the apiserver validates (k8s.io/apiextensions-apiserver's supported set, in part).
_KUBERNETES_FORMATS = {"date", "date-time", "email", "uri", "hostname", "ipv4", "ipv6", "uuid", "byte"}
_DROP_KEYS = {"title", "$defs"}

CRD_FILE = f"{api.CRD_NAME}.yaml"


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Inline ``$ref`` and collapse ``anyOf: [X, null]`` into ``X`` (optional means "not required")."""
    schema = dict(schema)
    if "$ref" in schema:
        target = defs[schema.pop("$ref").rsplit("/", 1)[-1]]
        merged = _resolve(target, defs)
        merged.update({k: v for k, v in schema.items() if k != "$ref"})
        schema = merged
    if "anyOf" in schema:
        options = [o for o in schema.pop("anyOf") if o.get("type") != "null"]
        if len(options) != 1:
            raise ValueError(f"cannot express anyOf with {len(options)} non-null options structurally")
        inner = _resolve(options[0], defs)
        inner.update(schema)
        schema = inner
    return schema


def structural_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Turn a pydantic JSON schema into a Kubernetes structural openAPIV3Schema."""
    defs = schema.get("$defs", {}) if defs is None else defs
    schema = _resolve(schema, defs)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP_KEYS:
            continue
        if key == "default" and value is None:
            continue
        if key == "const":
            out["enum"] = [value]
            continue
        if key == "format" and value not in _KUBERNETES_FORMATS:
            continue
        if key == "properties":
            out["properties"] = {name: structural_schema(sub, defs) for name, sub in value.items()}
            continue
        if key == "items":
            out["items"] = structural_schema(value, defs)
            continue
        out[key] = copy.deepcopy(value)
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    if "properties" in out:
        out.setdefault("type", "object")
    if out.get("type") == "object" and "properties" not in out and "additionalProperties" not in out:
        out["x-kubernetes-preserve-unknown-fields"] = True
    # Readable YAML: type and description first, the rest in a stable order.
    first = [k for k in ("type", "description") if k in out]
    return {k: out[k] for k in first + sorted(k for k in out if k not in first)}


def _model_schema(model: type, description: str) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="validation")  # type: ignore[attr-defined]
    schema = structural_schema(raw)
    schema["description"] = description
    return schema


def build_crd() -> dict[str, Any]:
    """Return the OnboardingVideo CRD as a dict ready for YAML or the apiextensions API."""
    spec_schema = _model_schema(
        OnboardingVideoSpec,
        "Desired state: the new hire, the company, and options for script, voices and delivery.",
    )
    status_schema = _model_schema(
        OnboardingVideoStatus,
        "Observed state, written by the Preboarding operator: phase, current stage, per-stage records "
        "and conditions.",
    )
    succeeded = '.status.conditions[?(@.type=="Succeeded")]'
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": api.CRD_NAME,
            "labels": {"app.kubernetes.io/name": "preboarding", "app.kubernetes.io/part-of": "preboarding"},
        },
        "spec": {
            "group": api.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": api.KIND,
                "listKind": f"{api.KIND}List",
                "plural": api.PLURAL,
                "singular": api.SINGULAR,
                "shortNames": list(api.SHORT_NAMES),
                "categories": list(api.CATEGORIES),
            },
            "versions": [
                {
                    "name": api.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Employee", "type": "string", "jsonPath": ".spec.employee.name",
                         "description": "The new hire the video is for."},
                        {"name": "Phase", "type": "string", "jsonPath": ".status.phase",
                         "description": "Pending, Running, Succeeded or Failed."},
                        {"name": "Stage", "type": "string", "jsonPath": ".status.stage",
                         "description": "The stage running now, or the one that failed."},
                        {"name": "Progress", "type": "string", "jsonPath": ".status.progress",
                         "description": "Finished stages out of those planned."},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                        {"name": "Message", "type": "string", "priority": 1, "jsonPath": f"{succeeded}.message",
                         "description": "Why the video is in its phase."},
                        {"name": "Video", "type": "string", "priority": 1, "jsonPath": ".status.videoKey",
                         "description": "Object key of the finished video."},
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": (
                                "OnboardingVideo is a personalized welcome video for one new hire. The "
                                "Preboarding operator renders it through the stages script, audio, slides, "
                                "compose and notify, one Job each, and emails the new hire a link."
                            ),
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {
                                    "type": "string",
                                    "description": "APIVersion defines the versioned schema of this object.",
                                },
                                "kind": {
                                    "type": "string",
                                    "description": "Kind is the REST resource this object represents.",
                                },
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                        }
                    },
                }
            ],
        },
    }


def render_crd_yaml() -> str:
    """The CRD as the YAML document committed under ``crds/``."""
    header = "# Generated by `make crds` from preboarding.api.models; do not edit by hand.\n"
    return header + yaml.safe_dump(build_crd(), sort_keys=False, width=110)


def write_crd(directory: Path) -> Path:
    """Write the CRD YAML into ``directory`` and return its path."""
    path = directory / CRD_FILE
    path.write_text(render_crd_yaml())
    return path
