"""Shared fixtures. ``ground`` starts (or reuses) the real test ground: apiserver, MinIO, SMTP."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from preboarding.testenv.ground import Ground, GroundInfo

# Local servers speaking the OpenAI, Google Text-to-Speech and SendGrid wire protocols; Debian's chromium
# driven by Playwright, axe-core and screenshots for the browser tests.
pytest_plugins = ["tests.protocol_servers.fixtures", "tests.browser.fixtures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests under tests/unit are unit tests unless they say otherwise; integration and e2e likewise.
    for item in items:
        path = str(item.path)
        for kind in ("unit", "integration", "e2e"):
            if f"/tests/{kind}/" in path and not any(item.iter_markers(name=kind)):
                item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def ground() -> Iterator[GroundInfo]:
    """The running test ground; started on first use and stopped at the end if this session started it."""
    g = Ground.default()
    started_here = g.start()
    try:
        yield g.info()
    finally:
        if started_here and os.environ.get("PREBOARDING_KEEP_TESTENV") != "1":
            g.stop()


@pytest.fixture(scope="session")
def kube_api(ground: GroundInfo):  # type: ignore[no-untyped-def]
    """A ``kubernetes.client.ApiClient`` for the ground's apiserver (admin), with our CRDs applied."""
    from preboarding.api.crd import KINDS, build_crd
    from preboarding.testenv.kube import admin_api_client, apply_crd

    client = admin_api_client(ground)
    for kind in KINDS:
        apply_crd(client, body=build_crd(kind))
    return client


@pytest.fixture
def namespace(kube_api) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh namespace for one test, deleted afterwards."""
    import uuid

    from kubernetes import client as k8s

    name = f"t-{uuid.uuid4().hex[:10]}"
    core = k8s.CoreV1Api(kube_api)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        # The operator is gone by now: drop its finalizers, or the namespace stays Terminating for good.
        from preboarding import api

        objects = k8s.CustomObjectsApi(kube_api)
        for item in objects.list_namespaced_custom_object(api.GROUP, api.VERSION, name, api.PLURAL)["items"]:
            if item["metadata"].get("finalizers"):
                objects.patch_namespaced_custom_object(api.GROUP, api.VERSION, name, api.PLURAL,
                                                       item["metadata"]["name"], {"metadata": {"finalizers": None}})
        core.delete_namespace(name)
