"""What a webhook delivery does to an employee's OnboardingVideo (pure).

The resource name is derived from the employee id, so creating first and letting the apiserver answer
409 AlreadyExists is the lock that serializes concurrent deliveries. The loser reads the existing
resource and ``decide``s: the same delivery (``webhook-id``) or the same data (payload digest) is a
duplicate; changed data updates the spec (the operator then reruns the stages whose inputs changed).
"""

from __future__ import annotations

import enum
from typing import Any

from preboarding import api


class Decision(enum.StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    UPDATE = "update"
    DELETING = "deleting"  # the old resource is being finalized; the sender should retry shortly
    ABSENT = "absent"  # an update-only delivery for someone who has no video: nothing to do


def annotations_of(resource: dict[str, Any]) -> dict[str, str]:
    return dict((resource.get("metadata") or {}).get("annotations") or {})


def decide(existing: dict[str, Any] | None, manifest: dict[str, Any]) -> Decision:
    """The outcome of delivering ``manifest`` when ``existing`` (or nothing) has the same name."""
    if existing is None:
        return Decision.CREATED
    if (existing.get("metadata") or {}).get("deletionTimestamp"):
        return Decision.DELETING
    have, want = annotations_of(existing), annotations_of(manifest)
    delivery = want.get(api.ANNOTATION_WEBHOOK_ID)
    if delivery and delivery in recent_deliveries(have):
        return Decision.DUPLICATE  # a redelivery, even of an older message after a newer one was applied
    if have.get(api.ANNOTATION_PAYLOAD_HASH) == want.get(api.ANNOTATION_PAYLOAD_HASH):
        return Decision.DUPLICATE
    return Decision.UPDATE


def recent_deliveries(annotations: dict[str, str]) -> list[str]:
    """Delivery ids already applied to a resource, newest first."""
    ids = annotations.get(api.ANNOTATION_RECENT_WEBHOOK_IDS, "").split()
    latest = annotations.get(api.ANNOTATION_WEBHOOK_ID)
    return list(dict.fromkeys([latest, *ids] if latest else ids))


def _pointer(key: str) -> str:
    """A JSON Pointer token (RFC 6901): ``/`` and ``~`` escaped."""
    return key.replace("~", "~0").replace("/", "~1")


def build_update_patch(existing: dict[str, Any], manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """A JSON Patch that replaces the spec and the bridge's annotations of ``existing`` with ``manifest``'s.

    The ``resourceVersion`` it carries is a precondition: if another writer got there first the
    apiserver answers 409 Conflict and the caller decides again on the fresh object.
    """
    metadata = existing.get("metadata") or {}
    ops: list[dict[str, Any]] = [
        {"op": "replace", "path": "/metadata/resourceVersion", "value": metadata["resourceVersion"]},
        {"op": "replace" if "spec" in existing else "add", "path": "/spec", "value": manifest["spec"]},
    ]
    ours = {k: v for k, v in annotations_of(manifest).items()
            if k in (api.ANNOTATION_PAYLOAD_HASH, api.ANNOTATION_WEBHOOK_ID)}
    delivery = ours.get(api.ANNOTATION_WEBHOOK_ID)
    if delivery:
        seen = [delivery, *recent_deliveries(annotations_of(existing))]
        ours[api.ANNOTATION_RECENT_WEBHOOK_IDS] = " ".join(list(dict.fromkeys(seen))[: api.RECENT_WEBHOOK_IDS_KEPT])
    if metadata.get("annotations") is None:
        ops.append({"op": "add", "path": "/metadata/annotations", "value": ours})
    else:
        ops += [{"op": "add", "path": f"/metadata/annotations/{_pointer(k)}", "value": v} for k, v in ours.items()]
    return ops
