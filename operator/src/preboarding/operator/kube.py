"""Thin Kubernetes API wrapper for the operator: idempotent create (409 = exists), status patches.

``ClusterApi`` is what the reconciler needs from Kubernetes; ``KubeApi`` is the real one (unit tests
use an in-memory one). The ``kubernetes`` client is synchronous; calls run in a worker thread so
kopf's loop never blocks.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol, cast

from preboarding import api
from preboarding.api.labels import OPERATOR, standard_labels


class ClusterApi(Protocol):
    """The Kubernetes calls the reconciler makes besides kopf's own watching."""

    async def get_video(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The OnboardingVideo as the apiserver returns it; None if it does not exist."""
        ...

    async def create_job(self, namespace: str, manifest: dict[str, Any]) -> bool:
        """Create a Job; False if one of that name already exists (which counts as success)."""
        ...

    async def patch_video_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Merge-patch the video's status subresource; a video deleted meanwhile is no error."""
        ...

    async def ensure_service_account(self, namespace: str, name: str) -> None:
        """Make sure the renderer's ServiceAccount exists in the namespace (or is not ours to create)."""
        ...

    def post_event(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        """Post a Kubernetes Event about ``obj`` (type Normal or Warning, a CamelCase reason)."""
        ...

    def adopt(self, child: dict[str, Any], owner: dict[str, Any]) -> None:
        """Make ``owner`` the owner of the ``child`` manifest before it is created (garbage collection)."""
        ...


class KubeApi:
    """The real ``ClusterApi``: the ``kubernetes`` client, and kopf for events and adoption."""

    def __init__(self, api_client: Any | None = None) -> None:
        from kubernetes import client, config

        if api_client is None:
            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
            api_client = client.ApiClient()
        self._objects = client.CustomObjectsApi(api_client)
        self._batch = client.BatchV1Api(api_client)
        self._core = client.CoreV1Api(api_client)

    async def ensure_service_account(self, namespace: str, name: str) -> None:
        """The renderer's ServiceAccount (no roles, no token mounted) in a video's namespace."""
        from kubernetes.client.exceptions import ApiException

        body = {"apiVersion": "v1", "kind": "ServiceAccount", "automountServiceAccountToken": False,
                "metadata": {"name": name, "labels": standard_labels("renderer", OPERATOR)}}
        try:
            # The client annotates V1ServiceAccount but serialises plain manifests (dicts) just the same.
            await asyncio.to_thread(
                self._core.create_namespaced_service_account, namespace, body  # type: ignore[arg-type]
            )
        except ApiException as exc:
            # 409: it exists. 403: not ours to create (the Helm chart creates it and grants no create
            # on ServiceAccounts); if it is really missing, the Job controller says so on the Job.
            if exc.status not in (403, 409):
                raise

    async def get_video(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The OnboardingVideo as the apiserver returns it; None on 404."""
        from kubernetes.client.exceptions import ApiException

        try:
            video = await asyncio.to_thread(
                self._objects.get_namespaced_custom_object, api.GROUP, api.VERSION, namespace, api.PLURAL, name
            )
            # Custom objects come back as the decoded JSON object; the client annotates them as `object`.
            return cast(dict[str, Any], video)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    async def create_job(self, namespace: str, manifest: dict[str, Any]) -> bool:
        """Create a Job; returns False if it already existed (409), which is success too."""
        from kubernetes.client.exceptions import ApiException

        try:
            # The client annotates V1Job but serialises plain manifests (dicts) just the same.
            await asyncio.to_thread(self._batch.create_namespaced_job, namespace, manifest)  # type: ignore[arg-type]
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise
        return True

    async def patch_video_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Merge-patch ``status`` into the video's status subresource; a 404 (deleted meanwhile) is ignored."""
        from kubernetes.client.exceptions import ApiException

        try:
            await asyncio.to_thread(
                self._objects.patch_namespaced_custom_object_status,
                api.GROUP, api.VERSION, namespace, api.PLURAL, name, {"status": status},
            )
        except ApiException as exc:
            if exc.status != 404:  # deleted meanwhile: nothing to report on
                raise

    def post_event(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        """Queue an Event through kopf's poster (asynchronous, best effort)."""
        import kopf

        # kopf annotates kopf.Body but only reads the object reference, so a raw manifest works.
        kopf.event(cast(kopf.Body, obj), type=type_, reason=reason, message=message)

    def adopt(self, child: dict[str, Any], owner: dict[str, Any]) -> None:
        """Append the owner reference; kopf also fills in name, namespace and labels the child lacks."""
        import kopf

        # As for events: kopf annotates kopf.Body but only reads the owner's metadata.
        kopf.adopt(child, owner=cast(kopf.Body, owner), forced=False, strict=False)
