"""Kubernetes helpers for tests and the test ground: an admin client and CRD installation."""

from __future__ import annotations

import time
from typing import Any

from preboarding.testenv.ground import GroundInfo


def admin_api_client(info: GroundInfo) -> Any:
    """A ``kubernetes.client.ApiClient`` authenticated as the ground's admin."""
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(config_file=str(info.kubeconfig), client_configuration=configuration)
    return client.ApiClient(configuration)


def apply_crd(api_client: Any, timeout: float = 30, body: dict[str, Any] | None = None) -> None:
    """Create or replace a CRD (by default the OnboardingVideo one) and wait until it is Established."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from preboarding.api.crd import build_crd

    ext = client.ApiextensionsV1Api(api_client)
    body = body or build_crd()
    name = body["metadata"]["name"]
    # The client annotates V1CustomResourceDefinition bodies but serialises plain manifests (dicts) just the same.
    try:
        ext.create_custom_resource_definition(body)  # type: ignore[arg-type]
    except ApiException as exc:
        if exc.status != 409:
            raise
        current = ext.read_custom_resource_definition(name)
        if current.metadata is None:
            raise RuntimeError(f"CRD {name} was returned without metadata") from exc
        body["metadata"]["resourceVersion"] = current.metadata.resource_version
        ext.replace_custom_resource_definition(name, body)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        crd = ext.read_custom_resource_definition(name)
        status_conditions = crd.status.conditions if crd.status is not None else None
        conditions = {c.type: c.status for c in (status_conditions or [])}
        if conditions.get("Established") == "True" and conditions.get("NamesAccepted") == "True":
            return
        time.sleep(0.2)
    raise TimeoutError(f"CRD {name} not established after {timeout} s")
