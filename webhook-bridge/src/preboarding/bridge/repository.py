"""The bridge's only access to Kubernetes: create/get/list/patch/delete OnboardingVideos in one namespace.

``VideoRepository`` is what the routes use; ``KubeVideoRepository`` implements it with the synchronous
``kubernetes`` client in a worker thread, translating API errors into the ``RepositoryError`` family
(the routes map those to HTTP answers). Unit tests use an in-memory implementation of the protocol.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from anyio import to_thread

from preboarding import api

log = logging.getLogger(__name__)

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def valid_name(name: str) -> bool:
    """Whether ``name`` can name a resource at all (anything else is simply not found)."""
    return len(name) <= 253 and bool(_DNS_SUBDOMAIN.match(name))


@dataclass(frozen=True)
class ResourceFieldError:
    field: str  # as the apiserver names it, e.g. spec.employee.email
    message: str


class RepositoryError(Exception):
    """A Kubernetes API call failed; ``message`` is safe to show to HTTP callers."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AlreadyExists(RepositoryError):
    """Create found a resource with that name (the idempotency lock)."""


class Conflict(RepositoryError):
    """An update's resourceVersion precondition failed: someone else wrote first."""


class NotFound(RepositoryError):
    pass


class Rejected(RepositoryError):
    """The apiserver's schema validation refused the object (HTTP 422)."""

    def __init__(self, message: str, fields: list[ResourceFieldError]) -> None:
        super().__init__(message)
        self.fields = fields


class InvalidContinue(RepositoryError):
    """A list's continue token is malformed (400) or expired (410, ``expired`` is True)."""

    def __init__(self, message: str, expired: bool) -> None:
        super().__init__(message)
        self.expired = expired


class Forbidden(RepositoryError):
    """The apiserver refused the bridge's credentials or its RBAC does not allow the call."""


class Unavailable(RepositoryError):
    """The apiserver is unreachable, timed out, overloaded or failing (worth a retry)."""


class UpstreamError(RepositoryError):
    """Any other unexpected answer from the apiserver."""


@dataclass
class VideoPage:
    items: list[dict[str, Any]]
    continue_token: str | None = None


class VideoRepository(Protocol):
    """OnboardingVideos of one namespace, as plain dicts (the apiserver's JSON)."""

    namespace: str

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Create; raises ``AlreadyExists`` if the name is taken."""
        ...

    async def get(self, name: str) -> dict[str, Any] | None: ...

    async def list_page(self, limit: int, continue_token: str | None = None) -> VideoPage:
        """One page of the apiserver's list (its order; ``limit``/``continue``)."""
        ...

    async def json_patch(self, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        """Apply a JSON Patch; raises ``Conflict`` (resourceVersion precondition) or ``NotFound``."""
        ...

    async def set_annotation(self, name: str, key: str, value: str) -> dict[str, Any] | None:
        """Set one annotation; None if the resource does not exist."""
        ...

    async def patch_status(self, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        """JSON Patch of the status subresource; raises ``Conflict`` (a ``test`` op failed) or ``NotFound``."""
        ...

    async def delete(self, name: str) -> bool:
        """Delete (the operator's finalizer then cleans up); False if it did not exist."""
        ...

    async def ping(self, timeout: float) -> None:
        """Raise a ``RepositoryError`` unless the bridge can list OnboardingVideos in its namespace."""
        ...

    def close(self) -> None: ...


def _status_body(body: Any) -> dict[str, Any]:
    try:
        data = json.loads(body) if isinstance(body, str | bytes) and body else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def translate_api_error(status: int | None, body: Any, *, listing: bool = False) -> RepositoryError:
    """An apiserver error answer (a metav1.Status) -> the repository's error for it."""
    data = _status_body(body)
    reason = str(data.get("reason") or "")
    causes = (data.get("details") or {}).get("causes") or []
    if status == 409:
        if reason == "AlreadyExists":
            return AlreadyExists("the OnboardingVideo already exists")
        return Conflict("the OnboardingVideo was changed concurrently")
    if status == 404:
        return NotFound("no such OnboardingVideo")
    if status == 422:
        fields = [ResourceFieldError(str(c.get("field") or ""), str(c.get("message") or ""))
                  for c in causes if isinstance(c, dict)]
        return Rejected("the Kubernetes API server rejected the OnboardingVideo", fields)
    if status == 410 and listing:
        return InvalidContinue("the continue token has expired; list again from the start", expired=True)
    if status == 400 and listing:
        return InvalidContinue("the continue token is not valid", expired=False)
    if status in (401, 403):
        return Forbidden(f"the Kubernetes API server refused the bridge's request (HTTP {status}); "
                         "check the bridge's ServiceAccount and Role")
    if status is None or status == 429 or status >= 500:
        return Unavailable(f"the Kubernetes API server is unavailable (HTTP {status}); retry later")
    return UpstreamError(f"unexpected answer from the Kubernetes API server (HTTP {status})")


def load_kube_configuration(pool_size: int = 64) -> Any:
    """In-cluster service account if there is one, else KUBECONFIG / ~/.kube/config."""
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException:
        config.load_kube_config(client_configuration=configuration)
    # One connection per concurrent request; the default (5 x CPUs) makes a busy bridge reconnect.
    configuration.connection_pool_maxsize = pool_size
    return configuration


@dataclass
class KubeVideoRepository:
    """``VideoRepository`` on the real apiserver through the ``kubernetes`` client."""

    namespace: str
    timeout: float = 10.0
    configuration: Any = None
    _client: Any = field(default=None, init=False, repr=False)
    _objects: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        from kubernetes import client

        self._client = client.ApiClient(self.configuration or load_kube_configuration())
        self._objects = client.CustomObjectsApi(self._client)

    def close(self) -> None:
        self._client.close()

    async def _call(
        self, method: str, *args: Any, listing: bool = False, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        return await to_thread.run_sync(lambda: self._call_sync(method, args, kwargs, listing, timeout))

    def _call_sync(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], listing: bool, timeout: float | None
    ) -> Any:
        import urllib3
        from kubernetes.client.exceptions import ApiException

        try:
            return getattr(self._objects, method)(
                api.GROUP, api.VERSION, self.namespace, api.PLURAL, *args,
                _request_timeout=timeout or self.timeout, **kwargs,
            )
        except ApiException as exc:
            error = translate_api_error(exc.status, exc.body, listing=listing)
            if isinstance(error, Forbidden | Unavailable | UpstreamError):
                log.warning("apiserver %s failed: HTTP %s %s", method, exc.status, exc.reason)
            raise error from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            log.warning("apiserver %s failed: %s", method, type(exc).__name__)
            raise Unavailable("the Kubernetes API server is unreachable; retry later") from None

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("create_namespaced_custom_object", manifest)
        return result

    async def get(self, name: str) -> dict[str, Any] | None:
        if not valid_name(name):
            return None
        try:
            result: dict[str, Any] = await self._call("get_namespaced_custom_object", name)
        except NotFound:
            return None
        return result

    async def list_page(self, limit: int, continue_token: str | None = None) -> VideoPage:
        kwargs: dict[str, Any] = {"limit": limit}
        if continue_token:
            kwargs["_continue"] = continue_token
        result = await self._call("list_namespaced_custom_object", listing=True, **kwargs)
        return VideoPage(items=list(result.get("items") or []),
                         continue_token=(result.get("metadata") or {}).get("continue") or None)

    async def json_patch(self, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "patch_namespaced_custom_object", name, ops, _content_type="application/json-patch+json"
        )
        return result

    async def patch_status(self, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "patch_namespaced_custom_object_status", name, ops, _content_type="application/json-patch+json"
        )
        return result

    async def set_annotation(self, name: str, key: str, value: str) -> dict[str, Any] | None:
        if not valid_name(name):
            return None
        try:
            result: dict[str, Any] = await self._call(
                "patch_namespaced_custom_object", name, {"metadata": {"annotations": {key: value}}},
                _content_type="application/merge-patch+json",
            )
        except NotFound:
            return None
        return result

    async def delete(self, name: str) -> bool:
        if not valid_name(name):
            return False
        try:
            await self._call("delete_namespaced_custom_object", name)
        except NotFound:
            return False
        return True

    async def ping(self, timeout: float) -> None:
        await self._call("list_namespaced_custom_object", limit=1, listing=True, timeout=timeout)
