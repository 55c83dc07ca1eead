"""Generate the CustomResourceDefinitions (OnboardingVideo, OnboardingSource, OnboardingProfile) from
the pydantic models.

``crds/<plural>.preboarding.dev.yaml`` is this module's output, committed so that users can ``kubectl
apply`` it without Python; ``make crds`` rewrites them and a unit test fails when one drifts.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from preboarding import api
from preboarding.api.models import OnboardingVideoSpec, OnboardingVideoStatus
from preboarding.api.sources import (
    OnboardingProfileSpec,
    OnboardingProfileStatus,
    OnboardingSourceSpec,
    OnboardingSourceStatus,
)

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


@dataclass(frozen=True)
class CrdKind:
    """What differs between our kinds: names, models, descriptions, printer columns."""

    kind: str
    plural: str
    short_names: tuple[str, ...]
    spec_model: type
    status_model: type
    description: str
    spec_description: str
    status_description: str
    printer_columns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{api.GROUP}"

    @property
    def file_name(self) -> str:
        return f"{self.crd_name}.yaml"


def _ready(type_: str, attribute: str) -> str:
    return f'.status.conditions[?(@.type=="{type_}")].{attribute}'


VIDEO = CrdKind(
    kind=api.KIND,
    plural=api.PLURAL,
    short_names=tuple(api.SHORT_NAMES),
    spec_model=OnboardingVideoSpec,
    status_model=OnboardingVideoStatus,
    description=(
        "OnboardingVideo is a personalized welcome video for one new hire. The Preboarding operator renders "
        "it through the stages script, audio, slides, compose and notify, one Job each, and emails the new "
        "hire a link."
    ),
    spec_description="Desired state: the new hire, the company, and options for script, voices and delivery.",
    status_description=(
        "Observed state, written by the Preboarding operator: phase, current stage, per-stage records and "
        "conditions."
    ),
    printer_columns=[
        {"name": "Employee", "type": "string", "jsonPath": ".spec.employee.name",
         "description": "The new hire the video is for."},
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase",
         "description": "Pending, Running, Succeeded or Failed."},
        {"name": "Stage", "type": "string", "jsonPath": ".status.stage",
         "description": "The stage running now, or the one that failed."},
        {"name": "Progress", "type": "string", "jsonPath": ".status.progress",
         "description": "Finished stages out of those planned."},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        {"name": "Message", "type": "string", "priority": 1, "jsonPath": _ready("Succeeded", "message"),
         "description": "Why the video is in its phase."},
        {"name": "Delivery", "type": "string", "priority": 1, "jsonPath": ".status.delivery.state",
         "description": "The welcome email: Scheduled, Sent, Delivered, Opened, Bounced, Dropped or Failed."},
        {"name": "Send-At", "type": "date", "priority": 1, "jsonPath": ".status.delivery.scheduledAt",
         "description": "When the welcome email is (or was) due."},
        {"name": "Video", "type": "string", "priority": 1, "jsonPath": ".status.videoKey",
         "description": "Object key of the finished video."},
    ],
)

SOURCE = CrdKind(
    kind=api.SOURCE_KIND,
    plural=api.SOURCE_PLURAL,
    short_names=tuple(api.SOURCE_SHORT_NAMES),
    spec_model=OnboardingSourceSpec,
    status_model=OnboardingSourceStatus,
    description=(
        "OnboardingSource is one HR system's webhook into the Preboarding bridge: the HR system posts to "
        "/webhooks/sources/<name>, the bridge verifies the vendor's signature, maps the new hire with the "
        "source's OnboardingProfile and creates an OnboardingVideo."
    ),
    spec_description="The vendor, its signing secret, the profile, and (for id-only webhooks) its API.",
    status_description="Observed state, written by the webhook bridge: readiness and deliveries.",
    printer_columns=[
        {"name": "Vendor", "type": "string", "jsonPath": ".spec.vendor", "description": "The HR system."},
        {"name": "Ready", "type": "string", "jsonPath": _ready("Ready", "status"),
         "description": "Whether deliveries can be accepted."},
        {"name": "Last delivery", "type": "date", "jsonPath": ".status.lastDelivery.time",
         "description": "When the last delivery arrived."},
        {"name": "Outcome", "type": "string", "jsonPath": ".status.lastDelivery.outcome", "priority": 1,
         "description": "What the bridge did with the last delivery."},
        {"name": "Reason", "type": "string", "jsonPath": _ready("Ready", "reason"), "priority": 1,
         "description": "Why the source is (not) ready."},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
)

PROFILE = CrdKind(
    kind=api.PROFILE_KIND,
    plural=api.PROFILE_PLURAL,
    short_names=tuple(api.PROFILE_SHORT_NAMES),
    spec_model=OnboardingProfileSpec,
    status_model=OnboardingProfileStatus,
    description=(
        "OnboardingProfile holds what no HR system sends: the company's branding, video defaults, and per-team "
        "tech stack, first week, buddy and manager. OnboardingSources name one; its values are copied into "
        "each OnboardingVideo."
    ),
    spec_description="Branding, defaults and per-team content.",
    status_description="Observed state.",
    printer_columns=[
        {"name": "Company", "type": "string", "jsonPath": ".spec.company.name", "description": "The employer."},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
)

KINDS: tuple[CrdKind, ...] = (VIDEO, SOURCE, PROFILE)


def build_crd(kind: CrdKind = VIDEO) -> dict[str, Any]:
    """Return one kind's CRD as a dict ready for YAML or the apiextensions API."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": kind.crd_name,
            "labels": {"app.kubernetes.io/name": "preboarding", "app.kubernetes.io/part-of": "preboarding"},
        },
        "spec": {
            "group": api.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.kind.lower(),
                "shortNames": list(kind.short_names),
                "categories": list(api.CATEGORIES),
            },
            "versions": [
                {
                    "name": api.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": kind.printer_columns,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": kind.description,
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
                                "spec": _model_schema(kind.spec_model, kind.spec_description),
                                "status": _model_schema(kind.status_model, kind.status_description),
                            },
                        }
                    },
                }
            ],
        },
    }


def render_crd_yaml(kind: CrdKind = VIDEO) -> str:
    """One CRD as the YAML document committed under ``crds/``."""
    header = "# Generated by `make crds` from the models in preboarding.api; do not edit by hand.\n"
    return header + yaml.safe_dump(build_crd(kind), sort_keys=False, width=110)


def write_crds(directory: Path) -> list[Path]:
    """Write every CRD's YAML into ``directory`` and return the paths."""
    paths = []
    for kind in KINDS:
        path = directory / kind.file_name
        path.write_text(render_crd_yaml(kind))
        paths.append(path)
    return paths
