"""In-memory stand-ins for the bridge's adapters: an apiserver-like ``VideoRepository`` and a clock."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import uuid
from typing import Any

from preboarding.bridge.repository import (
    AlreadyExists,
    Conflict,
    InvalidContinue,
    NotFound,
    RepositoryError,
    VideoPage,
    valid_name,
)


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class InMemoryVideoRepository:
    """Behaves like the apiserver for what the bridge does: names are unique, resourceVersion is a
    precondition on patches, lists are in name order with limit/continue."""

    def __init__(self, namespace: str = "hr") -> None:
        self.namespace = namespace
        self.objects: dict[str, dict[str, Any]] = {}
        self._version = 0
        self.calls: list[str] = []
        self.fail_with: RepositoryError | None = None  # raised by every call while set
        self.closed = False

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    async def _check(self, call: str) -> None:
        self.calls.append(call)
        await asyncio.sleep(0)  # let concurrent requests interleave, as they do against the real apiserver
        if self.fail_with is not None:
            raise self.fail_with

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        await self._check("create")
        name = manifest["metadata"]["name"]
        if name in self.objects:
            raise AlreadyExists("the OnboardingVideo already exists")
        obj = copy.deepcopy(manifest)
        obj["metadata"].update(
            namespace=self.namespace, uid=str(uuid.uuid4()), resourceVersion=self._next_version(), generation=1,
            creationTimestamp=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        self.objects[name] = obj
        return copy.deepcopy(obj)

    async def get(self, name: str) -> dict[str, Any] | None:
        await self._check("get")
        if not valid_name(name):
            return None
        obj = self.objects.get(name)
        return copy.deepcopy(obj) if obj else None

    async def list_page(self, limit: int, continue_token: str | None = None) -> VideoPage:
        await self._check("list")
        names = sorted(self.objects)
        if continue_token:
            if not continue_token.startswith("after:"):
                raise InvalidContinue("the continue token is not valid", expired=False)
            names = [n for n in names if n > continue_token[len("after:"):]]
        page = names[:limit]
        token = f"after:{page[-1]}" if len(names) > limit else None
        return VideoPage(items=[copy.deepcopy(self.objects[n]) for n in page], continue_token=token)

    async def json_patch(self, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        await self._check("json_patch")
        if name not in self.objects:
            raise NotFound("no such OnboardingVideo")
        current = self.objects[name]
        obj = copy.deepcopy(current)
        for op in ops:
            parts = [_unescape(p) for p in op["path"].lstrip("/").split("/")]
            target = obj
            for part in parts[:-1]:
                target = target[part]
            if op["op"] in ("add", "replace"):
                target[parts[-1]] = copy.deepcopy(op["value"])
            elif op["op"] == "remove":
                del target[parts[-1]]
        if obj["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"]:
            raise Conflict("the OnboardingVideo was changed concurrently")
        if obj.get("spec") != current.get("spec"):
            obj["metadata"]["generation"] += 1
        obj["metadata"]["resourceVersion"] = self._next_version()
        self.objects[name] = obj
        return copy.deepcopy(obj)

    async def patch_status(self, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        """Like the status subresource: anything but ``/status`` (and the resourceVersion test) is ignored."""
        await self._check("patch_status")
        kept = ("/status", "/metadata/resourceVersion")
        return await self.json_patch(name, [op for op in ops if op["path"].startswith(kept)])

    async def set_annotation(self, name: str, key: str, value: str) -> dict[str, Any] | None:
        await self._check("set_annotation")
        if name not in self.objects:
            return None
        obj = self.objects[name]
        obj["metadata"].setdefault("annotations", {})[key] = value
        obj["metadata"]["resourceVersion"] = self._next_version()
        return copy.deepcopy(obj)

    async def delete(self, name: str) -> bool:
        await self._check("delete")
        return self.objects.pop(name, None) is not None

    async def ping(self, timeout: float) -> None:
        await self._check("ping")

    def close(self) -> None:
        self.closed = True

    # ---- test helpers: what the operator would do -----------------------------------------------

    def set_status(self, name: str, status: dict[str, Any]) -> None:
        self.objects[name]["status"] = copy.deepcopy(status)
        self.objects[name]["metadata"]["resourceVersion"] = self._next_version()


class InMemorySourceRepository:
    """OnboardingSources, OnboardingProfiles and Secrets of one namespace, as the apiserver keeps them.

    Status patches carry the resourceVersion as a precondition (a stale one is a ``Conflict``), like the
    JSON Patch the bridge sends to the real status subresource.
    """

    def __init__(self) -> None:
        self.sources: dict[str, dict[str, Any]] = {}
        self.profiles: dict[str, dict[str, Any]] = {}
        self.secrets: dict[tuple[str, str], str] = {}
        self._version = 100
        self.status_writes = 0
        self.closed = False

    def _bump(self, obj: dict[str, Any]) -> None:
        self._version += 1
        obj["metadata"]["resourceVersion"] = str(self._version)

    def add_source(self, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        obj = {"metadata": {"name": name, "generation": 1, "uid": str(uuid.uuid4())}, "spec": spec}
        self._bump(obj)
        self.sources[name] = obj
        return obj

    def add_profile(self, name: str, spec: dict[str, Any]) -> None:
        obj = {"metadata": {"name": name, "generation": 3}, "spec": spec}
        self._bump(obj)
        self.profiles[name] = obj

    def status(self, name: str) -> dict[str, Any]:
        status: dict[str, Any] = self.sources[name].get("status") or {}
        return status

    async def get_source(self, name: str) -> dict[str, Any] | None:
        await asyncio.sleep(0)
        obj = self.sources.get(name)
        return copy.deepcopy(obj) if obj else None

    async def list_sources(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(o) for o in self.sources.values()]

    async def get_profile(self, name: str) -> dict[str, Any] | None:
        obj = self.profiles.get(name)
        return copy.deepcopy(obj) if obj else None

    async def read_secret(self, name: str, key: str) -> str | None:
        return self.secrets.get((name, key))

    async def patch_source_status(self, name: str, ops: list[dict[str, Any]]) -> None:
        await asyncio.sleep(0)
        obj = self.sources.get(name)
        if obj is None:
            raise NotFound("no such OnboardingSource")
        for op in ops:
            if op["path"] == "/metadata/resourceVersion":
                if op["value"] != obj["metadata"]["resourceVersion"]:
                    raise Conflict("the OnboardingSource was changed concurrently")
            elif op["path"] == "/status":
                obj["status"] = copy.deepcopy(op["value"])
        self.status_writes += 1
        self._bump(obj)

    def close(self) -> None:
        self.closed = True
