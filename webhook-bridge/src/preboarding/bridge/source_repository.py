"""The bridge's read access to OnboardingSources, OnboardingProfiles and their Secrets, and its status writes.

All in the bridge's own namespace. ``KubeSourceRepository`` uses the synchronous ``kubernetes`` client in
a worker thread and raises the ``RepositoryError`` family (``preboarding.bridge.repository``) like the
video repository. Secrets are read one key at a time and never logged; the chart's Role lets the bridge
read only the Secrets its sources name (``resourceNames``).
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from anyio import to_thread

from preboarding import api
from preboarding.bridge.repository import (
    Forbidden,
    NotFound,
    Unavailable,
    load_kube_configuration,
    translate_api_error,
    valid_name,
)

log = logging.getLogger(__name__)


class SourceRepository(Protocol):
    """What the sources route and the readiness refresher need from the apiserver."""

    async def get_source(self, name: str) -> dict[str, Any] | None: ...
    async def list_sources(self) -> list[dict[str, Any]]: ...
    async def get_profile(self, name: str) -> dict[str, Any] | None: ...

    async def read_secret(self, name: str, key: str) -> str | None:
        """The key's value as text; None if the Secret or the key does not exist (or is not readable)."""
        ...

    async def patch_source_status(self, name: str, ops: list[dict[str, Any]]) -> None:
        """JSON Patch of the source's status subresource; raises ``Conflict`` on a resourceVersion race."""
        ...

    def close(self) -> None: ...


@dataclass
class KubeSourceRepository:
    """``SourceRepository`` on the real apiserver."""

    namespace: str
    timeout: float = 10.0
    configuration: Any = None
    _client: Any = field(default=None, init=False, repr=False)
    _objects: Any = field(default=None, init=False, repr=False)
    _core: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        from kubernetes import client

        self._client = client.ApiClient(self.configuration or load_kube_configuration())
        self._objects = client.CustomObjectsApi(self._client)
        self._core = client.CoreV1Api(self._client)

    def close(self) -> None:
        self._client.close()

    async def _run(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        def call() -> Any:
            import urllib3
            from kubernetes.client.exceptions import ApiException

            try:
                return fn(*args, _request_timeout=self.timeout, **kwargs)
            except ApiException as exc:
                raise translate_api_error(exc.status, exc.body) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                log.warning("apiserver %s failed: %s", what, type(exc).__name__)
                raise Unavailable("the Kubernetes API server is unreachable; retry later") from None

        return await to_thread.run_sync(call)

    async def _get_custom(self, plural: str, name: str) -> dict[str, Any] | None:
        if not valid_name(name):
            return None
        try:
            result: dict[str, Any] = await self._run(
                f"get {plural}", self._objects.get_namespaced_custom_object,
                api.GROUP, api.VERSION, self.namespace, plural, name)
        except NotFound:
            return None
        return result

    async def get_source(self, name: str) -> dict[str, Any] | None:
        return await self._get_custom(api.SOURCE_PLURAL, name)

    async def get_profile(self, name: str) -> dict[str, Any] | None:
        return await self._get_custom(api.PROFILE_PLURAL, name)

    async def list_sources(self) -> list[dict[str, Any]]:
        result = await self._run("list sources", self._objects.list_namespaced_custom_object,
                                 api.GROUP, api.VERSION, self.namespace, api.SOURCE_PLURAL)
        return list(result.get("items") or [])

    async def read_secret(self, name: str, key: str) -> str | None:
        if not valid_name(name):
            return None
        try:
            secret = await self._run("get secret", self._core.read_namespaced_secret, name, self.namespace)
        except (NotFound, Forbidden):  # Forbidden: the Role's resourceNames do not include it
            return None
        encoded = (secret.data or {}).get(key)
        if encoded is None:
            return None
        try:
            return base64.b64decode(encoded).decode("utf-8").strip()
        except (binascii.Error, UnicodeDecodeError):
            return None

    async def patch_source_status(self, name: str, ops: list[dict[str, Any]]) -> None:
        await self._run("patch source status", self._objects.patch_namespaced_custom_object_status,
                        api.GROUP, api.VERSION, self.namespace, api.SOURCE_PLURAL, name, ops,
                        _content_type="application/json-patch+json")
