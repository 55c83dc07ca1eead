"""Delivering a new-hire manifest to the apiserver, idempotently (the I/O around ``idempotency.decide``)."""

from __future__ import annotations

from typing import Any

from preboarding.bridge.idempotency import Decision, build_update_patch, decide
from preboarding.bridge.repository import AlreadyExists, Conflict, NotFound, VideoRepository


class DeliveryContention(Exception):
    """The resource kept changing under us (deleted and re-created, or concurrent updates)."""


async def deliver(repository: VideoRepository, manifest: dict[str, Any], attempts: int = 5, *,
                  update_only: bool = False) -> tuple[Decision, dict[str, Any] | None]:
    """Create the video, or find it and decide: duplicate, update (spec patched) or being deleted.

    Create comes first: the apiserver's AlreadyExists is the lock between concurrent deliveries for
    the same employee, so exactly one of them creates and the others compare against its result.
    ``update_only`` (an HR system's "employee changed" event) never creates: someone without a video
    is ``ABSENT`` (an existing employee changing title must not get a welcome video).
    """
    name = manifest["metadata"]["name"]
    for _ in range(attempts):
        if not update_only:
            try:
                return Decision.CREATED, await repository.create(manifest)
            except AlreadyExists:
                pass
        existing = await repository.get(name)
        if existing is None:
            if update_only:
                return Decision.ABSENT, None
            continue  # deleted between our create and get: create again
        decision = decide(existing, manifest)
        if decision is not Decision.UPDATE:
            return decision, existing
        try:
            return Decision.UPDATE, await repository.json_patch(name, build_update_patch(existing, manifest))
        except (Conflict, NotFound):
            continue  # someone else changed or deleted it: decide again on the fresh object
    raise DeliveryContention(name)
