"""Bridge route tests: the app from ``create_app`` on an in-memory repository, a folder store, a fixed clock."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from preboarding.bridge.deps import BridgeDeps
from preboarding.bridge.main import create_app
from preboarding.bridge.settings import BridgeSettings
from preboarding.storage import LocalStore

from .fakes import FakeClock, InMemorySourceRepository, InMemoryVideoRepository

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "new-hire.json"
SECRET = "whsec_" + base64.b64encode(b"unit-test-secret-key-32-bytes!!!").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"the-previous-secret-still-valid!").decode()
TOKEN = "bearer-token-for-unit-tests-0123456789"
WEBHOOK_PATH = "/webhooks/user-onboarding"


def example_payload() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return data


def make_settings(**overrides: Any) -> BridgeSettings:
    values: dict[str, Any] = {
        "namespace": "hr",
        "webhook_secrets": [SECRET, OLD_SECRET],
        "bearer_tokens": [TOKEN],
        "rate_limit_per_minute": 0,
        "source_refresh_seconds": 0,
        **overrides,
    }
    return BridgeSettings(**values)


class Bridge:
    """A test client plus the fakes behind it and a Standard Webhooks signer (the reference library)."""

    def __init__(self, app: FastAPI, repository: InMemoryVideoRepository, store: LocalStore, clock: FakeClock,
                 sources: InMemorySourceRepository):
        self.app, self.repository, self.store, self.clock = app, repository, store, clock
        self.sources = sources
        self.client = TestClient(app, raise_server_exceptions=False)
        self._deliveries = 0

    def signed_headers(self, body: bytes, *, secret: str = SECRET, webhook_id: str | None = None,
                       timestamp: float | None = None) -> dict[str, str]:
        self._deliveries += 1
        webhook_id = webhook_id or f"msg_{self._deliveries:06d}"
        sent = dt.datetime.fromtimestamp(self.clock() if timestamp is None else timestamp, dt.UTC)
        signature = Webhook(secret).sign(webhook_id, sent, body.decode())
        return {"webhook-id": webhook_id, "webhook-timestamp": str(int(sent.timestamp())),
                "webhook-signature": signature, "content-type": "application/json"}

    def post_webhook(self, payload: Any, **kwargs: Any) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = self.signed_headers(body, **kwargs)
        return self.client.post(WEBHOOK_PATH, content=body, headers=headers)

    def bearer(self) -> dict[str, str]:
        return {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def bridge_factory(tmp_path: Path) -> Iterator[Callable[..., Bridge]]:
    made: list[Bridge] = []

    def make(**overrides: Any) -> Bridge:
        repository = InMemoryVideoRepository("hr")
        store = LocalStore(tmp_path / f"store{len(made)}")
        clock = FakeClock()
        sources = InMemorySourceRepository()
        deps = BridgeDeps(repository=repository, store=store, sources=sources, clock=clock, monotonic=clock)
        bridge = Bridge(create_app(make_settings(**overrides), deps), repository, store, clock, sources)
        made.append(bridge)
        return bridge

    yield make
    for bridge in made:
        bridge.client.close()


@pytest.fixture
def bridge(bridge_factory: Callable[..., Bridge]) -> Bridge:
    return bridge_factory()
