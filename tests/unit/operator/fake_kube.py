"""An in-memory ``ClusterApi`` for the reconciler's unit tests, with a Job controller stand-in.

It behaves like the apiserver for what the reconciler does: Job names are unique (a second create
of the same name is the 409 path, ``False``), a status patch is a JSON merge patch (``null`` removes
a field), and it answers the kopf index lookups (``jobs``, ``active``) from the Jobs it holds.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from preboarding import api
from preboarding.operator.jobs import JobObservation, observe_job


@dataclass(frozen=True)
class PostedEvent:
    object_name: str
    type: str
    reason: str
    message: str


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """RFC 7386 merge patch, in place."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _timestamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeKube:
    """Videos, Jobs, ServiceAccounts and Events in dicts; records every write the reconciler makes."""

    def __init__(self) -> None:
        self.videos: dict[tuple[str, str], dict[str, Any]] = {}
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.created_jobs: list[str] = []  # names, in order, of Jobs actually created
        self.duplicate_creates: list[str] = []  # creates answered "already exists" (the 409 path)
        self.status_patches: list[tuple[str, str, dict[str, Any]]] = []
        self.service_accounts: set[tuple[str, str]] = set()
        self.events: list[PostedEvent] = []

    # --- ClusterApi -------------------------------------------------------------------------------

    async def get_video(self, namespace: str, name: str) -> dict[str, Any] | None:
        video = self.videos.get((namespace, name))
        return copy.deepcopy(video) if video is not None else None

    async def create_job(self, namespace: str, manifest: dict[str, Any]) -> bool:
        name = manifest["metadata"]["name"]
        if (namespace, name) in self.jobs:
            self.duplicate_creates.append(name)
            return False
        job = copy.deepcopy(manifest)
        job["metadata"]["namespace"] = namespace
        job["status"] = {}
        self.jobs[(namespace, name)] = job
        self.created_jobs.append(name)
        return True

    async def patch_video_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.status_patches.append((namespace, name, copy.deepcopy(status)))
        video = self.videos.get((namespace, name))
        if video is not None:  # as the real one: a video deleted meanwhile is no error
            _merge(video, {"status": status})

    async def ensure_service_account(self, namespace: str, name: str) -> None:
        self.service_accounts.add((namespace, name))

    def post_event(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        self.events.append(PostedEvent(obj["metadata"]["name"], type_, reason, message))

    def adopt(self, child: dict[str, Any], owner: dict[str, Any]) -> None:
        meta = owner["metadata"]
        child["metadata"].setdefault("ownerReferences", []).append({
            "apiVersion": owner.get("apiVersion", api.API_VERSION), "kind": owner.get("kind", api.KIND),
            "name": meta["name"], "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True,
        })

    # --- the test's side: objects in, Job controller, kopf's indexes --------------------------------

    def add_video(self, video: dict[str, Any]) -> None:
        meta = video["metadata"]
        self.videos[(meta["namespace"], meta["name"])] = copy.deepcopy(video)

    def video(self, namespace: str, name: str) -> dict[str, Any]:
        return self.videos[(namespace, name)]

    def start_job(self, namespace: str, name: str, at: dt.datetime) -> None:
        """The Job controller started a pod."""
        self.jobs[(namespace, name)]["status"] = {"startTime": _timestamp(at), "active": 1}

    def finish_job(self, namespace: str, name: str, at: dt.datetime, *, succeeded: bool = True,
                   permanent: bool = False, attempts: int = 1) -> None:
        """The Job ended: Complete, or Failed by its podFailurePolicy (permanent) or its backoff limit."""
        status = self.jobs[(namespace, name)]["status"]
        status.pop("active", None)
        if succeeded:
            status.update(succeeded=1, failed=attempts - 1, completionTime=_timestamp(at),
                          conditions=[{"type": "Complete", "status": "True", "lastTransitionTime": _timestamp(at)}])
        else:
            reason, message = (
                ("PodFailurePolicy", "Container renderer exited with code 3") if permanent
                else ("BackoffLimitExceeded", "Job has reached the specified backoff limit"))
            status.update(failed=attempts, conditions=[{"type": "Failed", "status": "True", "reason": reason,
                                                        "message": message, "lastTransitionTime": _timestamp(at)}])

    def observed_jobs(self, namespace: str, video: str) -> list[JobObservation]:
        """What kopf's ``video_jobs`` index holds for a video: its Jobs, observed."""
        found = []
        for (ns, _name), job in self.jobs.items():
            owners = {ref["name"] for ref in job["metadata"].get("ownerReferences", [])}
            observation = observe_job(job)
            if ns == namespace and video in owners and observation is not None:
                found.append(observation)
        return found

    def active_jobs(self, namespace: str) -> set[str]:
        """What kopf's ``active_jobs`` index holds for a namespace."""
        return {o.name for o in (observe_job(j) for (ns, _), j in self.jobs.items() if ns == namespace)
                if o is not None and o.state == "Active"}
