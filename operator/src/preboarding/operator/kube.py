"""Thin Kubernetes API wrapper for the operator: idempotent create (409 = exists), status patches.

The ``kubernetes`` client is synchronous; calls run in a worker thread so kopf's loop never blocks.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from preboarding import api


class KubeApi:
    """The few API calls the operator makes besides kopf's own watching."""

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
                "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "preboarding",
                                                      "app.kubernetes.io/component": "renderer",
                                                      "app.kubernetes.io/managed-by": "preboarding-operator"}}}
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
        from kubernetes.client.exceptions import ApiException

        try:
            await asyncio.to_thread(
                self._objects.patch_namespaced_custom_object_status,
                api.GROUP, api.VERSION, namespace, api.PLURAL, name, {"status": status},
            )
        except ApiException as exc:
            if exc.status != 404:  # deleted meanwhile: nothing to report on
                raise
