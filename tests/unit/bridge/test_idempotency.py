"""The idempotency decision and the delivery loop around it (on the in-memory apiserver)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from preboarding import api
from preboarding.api.payload import NewHirePayload, build_onboarding_video
from preboarding.bridge.delivery import DeliveryContention, deliver
from preboarding.bridge.idempotency import Decision, build_update_patch, decide
from preboarding.bridge.repository import Conflict

from .conftest import example_payload
from .fakes import InMemoryVideoRepository


def manifest(webhook_id: str | None = "msg_1", **employee: Any) -> dict[str, Any]:
    data = example_payload()
    data["employee"].update(employee)
    return build_onboarding_video(NewHirePayload.model_validate(data), "hr", webhook_id=webhook_id)


def stored(m: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(m)
    obj["metadata"]["resourceVersion"] = "7"
    return obj


def test_nothing_there_creates() -> None:
    assert decide(None, manifest()) is Decision.CREATED


def test_same_delivery_is_a_duplicate_even_with_other_data() -> None:
    assert decide(stored(manifest("msg_1")), manifest("msg_1", team="Other")) is Decision.DUPLICATE


def test_same_data_from_another_delivery_is_a_duplicate() -> None:
    assert decide(stored(manifest("msg_1")), manifest("msg_2")) is Decision.DUPLICATE
    assert decide(stored(manifest("msg_1")), manifest(None)) is Decision.DUPLICATE


def test_changed_data_is_an_update() -> None:
    assert decide(stored(manifest("msg_1")), manifest("msg_2", team="Other")) is Decision.UPDATE


def test_an_older_delivery_redelivered_after_a_newer_one_is_a_duplicate() -> None:
    first = stored(manifest("msg_1"))
    newer = manifest("msg_2", team="Other")
    applied = stored(newer)
    for op in build_update_patch(first, newer):
        if op["path"].startswith("/metadata/annotations/"):
            key = op["path"].rsplit("/", 1)[1].replace("~1", "/").replace("~0", "~")
            applied["metadata"]["annotations"][key] = op["value"]
    assert applied["metadata"]["annotations"][api.ANNOTATION_RECENT_WEBHOOK_IDS] == "msg_2 msg_1"
    # HR's retry queue delivers msg_1 again, late: it must not roll the spec back (nor mail again).
    assert decide(applied, manifest("msg_1")) is Decision.DUPLICATE
    assert decide(applied, manifest("msg_3")) is Decision.UPDATE


def test_recent_deliveries_are_bounded() -> None:
    existing = stored(manifest("msg_0"))
    for i in range(1, 30):
        new = manifest(f"msg_{i}", team=f"Team {i}")
        ops = {op["path"]: op["value"] for op in build_update_patch(existing, new)}
        recent = ops["/metadata/annotations/preboarding.dev~1recent-webhook-ids"]
        existing = stored(new)
        existing["metadata"]["annotations"][api.ANNOTATION_RECENT_WEBHOOK_IDS] = recent
    ids = recent.split()
    assert len(ids) == api.RECENT_WEBHOOK_IDS_KEPT and ids[0] == "msg_29"


def test_a_resource_without_our_hash_is_updated() -> None:
    existing = stored(manifest())
    del existing["metadata"]["annotations"]
    assert decide(existing, manifest("msg_2")) is Decision.UPDATE


def test_a_resource_being_deleted_is_reported() -> None:
    existing = stored(manifest())
    existing["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert decide(existing, manifest("msg_2", team="Other")) is Decision.DELETING


def test_update_patch_replaces_spec_and_our_annotations_with_a_precondition() -> None:
    existing = stored(manifest("msg_1"))
    existing["metadata"]["annotations"]["other.example/keep"] = "yes"
    new = manifest("msg_2", team="Other")
    ops = build_update_patch(existing, new)
    assert ops[0] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "7"}
    assert {"op": "replace", "path": "/spec", "value": new["spec"]} in ops
    paths = {op["path"]: op["value"] for op in ops}
    assert paths["/metadata/annotations/preboarding.dev~1payload-sha256"] == \
        new["metadata"]["annotations"][api.ANNOTATION_PAYLOAD_HASH]
    assert paths["/metadata/annotations/preboarding.dev~1webhook-id"] == "msg_2"
    assert not any("keep" in op["path"] for op in ops)


def test_update_patch_adds_annotations_when_there_are_none() -> None:
    existing = stored(manifest())
    del existing["metadata"]["annotations"]
    ops = build_update_patch(existing, manifest("msg_2"))
    assert {"op": "add", "path": "/metadata/annotations", "value": manifest("msg_2")["metadata"]["annotations"]} in ops


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_deliver_creates_then_finds_duplicates_then_updates() -> None:
    repo = InMemoryVideoRepository()
    assert run(deliver(repo, manifest("msg_1")))[0] is Decision.CREATED
    assert run(deliver(repo, manifest("msg_1")))[0] is Decision.DUPLICATE
    assert run(deliver(repo, manifest("msg_2")))[0] is Decision.DUPLICATE
    decision, resource = run(deliver(repo, manifest("msg_3", team="Other")))
    assert decision is Decision.UPDATE
    assert resource["spec"]["employee"]["team"] == "Other"
    assert resource["metadata"]["generation"] == 2
    assert len(repo.objects) == 1


def test_concurrent_same_deliveries_create_exactly_once() -> None:
    repo = InMemoryVideoRepository()

    async def many() -> list[Decision]:
        results = await asyncio.gather(*(deliver(repo, manifest(f"msg_{i}")) for i in range(20)))
        return [d for d, _ in results]

    decisions = run(many())
    assert decisions.count(Decision.CREATED) == 1
    assert decisions.count(Decision.DUPLICATE) == 19
    assert len(repo.objects) == 1


class RacingRepository(InMemoryVideoRepository):
    """Another writer changes the resource between our read and our patch, ``races`` times."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races

    async def json_patch(self, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        if self.races > 0:
            self.races -= 1
            self.objects[name]["metadata"]["resourceVersion"] += "x"
        return await super().json_patch(name, ops)


def test_a_lost_update_race_is_decided_again() -> None:
    repo = RacingRepository(races=2)
    run(deliver(repo, manifest("msg_1")))
    decision, resource = run(deliver(repo, manifest("msg_2", team="Other")))
    assert decision is Decision.UPDATE
    assert resource["spec"]["employee"]["team"] == "Other"
    assert repo.calls.count("json_patch") == 3


def test_endless_contention_gives_up() -> None:
    repo = RacingRepository(races=100)
    run(deliver(repo, manifest("msg_1")))
    with pytest.raises(DeliveryContention):
        run(deliver(repo, manifest("msg_2", team="Other"), attempts=3))


def test_fake_patch_honours_the_precondition() -> None:
    repo = InMemoryVideoRepository()
    created = run(repo.create(manifest()))
    ops = build_update_patch(created, manifest("msg_2", team="Other"))
    run(repo.set_annotation(created["metadata"]["name"], "x", "y"))
    with pytest.raises(Conflict):
        run(repo.json_patch(created["metadata"]["name"], ops))


class VanishingRepository(InMemoryVideoRepository):
    """The existing resource is deleted between our failed create and our get, once."""

    def __init__(self) -> None:
        super().__init__()
        self.vanish = True

    async def get(self, name: str) -> dict[str, Any] | None:
        if self.vanish:
            self.vanish = False
            self.objects.pop(name, None)
        return await super().get(name)


def test_a_resource_deleted_meanwhile_is_created_again() -> None:
    repo = VanishingRepository()
    run(repo.create(manifest("msg_0", team="Old")))
    decision, resource = run(deliver(repo, manifest("msg_1")))
    assert decision is Decision.CREATED
    assert resource["spec"]["employee"]["team"] == "Payments Platform"
