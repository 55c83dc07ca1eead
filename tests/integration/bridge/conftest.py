"""Fixtures: the bridge as a subprocess with a least-privilege token, and an HTTP client to it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from preboarding.storage import S3Store, StoreSettings
from preboarding.testenv.ground import GroundInfo

from .harness import BridgeProcess, Cluster, grant_bridge_access, mint_token, write_kubeconfig


@pytest.fixture
def bridge_kubeconfig(kube_api: Any, ground: GroundInfo, namespace: str, tmp_path: Path) -> Path:
    """A kubeconfig holding only the bridge ServiceAccount's token (Role: onboardingvideos in ``namespace``)."""
    grant_bridge_access(kube_api, namespace)
    return write_kubeconfig(tmp_path / "bridge.kubeconfig", ground, mint_token(kube_api, namespace))


@pytest.fixture
def bridge_factory(ground: GroundInfo, namespace: str, tmp_path: Path) -> Iterator[Callable[..., BridgeProcess]]:
    started: list[BridgeProcess] = []

    def start(kubeconfig: Path, **extra_env: str) -> BridgeProcess:
        log = tmp_path / f"bridge-{len(started)}.log"
        process = BridgeProcess(ground, namespace, kubeconfig, log, extra_env).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def bridge(bridge_factory: Callable[..., BridgeProcess], bridge_kubeconfig: Path) -> BridgeProcess:
    return bridge_factory(bridge_kubeconfig)


@pytest.fixture
def http(bridge: BridgeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bridge.url, timeout=30) as client:
        yield client


@pytest.fixture
def store(ground: GroundInfo) -> S3Store:
    return S3Store(StoreSettings(endpoint=ground.s3_endpoint, access_key=SecretStr(ground.s3_access_key),
                                 secret_key=SecretStr(ground.s3_secret_key), bucket=ground.s3_bucket,
                                 region=ground.s3_region, secure=False))


@pytest.fixture
def cluster(kube_api: Any, namespace: str) -> Cluster:
    """Admin access to the test namespace (Secrets, profiles, sources, videos), as an administrator has."""
    return Cluster(kube_api, namespace)


def unique_id() -> str:
    return f"E-{uuid.uuid4().hex[:8]}"
