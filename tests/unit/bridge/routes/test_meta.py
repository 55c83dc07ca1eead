"""GET /, /health, /metrics, /webhooks/status, /docs, CORS."""

from __future__ import annotations

import threading
from collections.abc import Callable

from preboarding.bridge.repository import Forbidden, Unavailable
from preboarding.storage import StoreUnavailable

from ..conftest import SECRET, TOKEN, Bridge, example_payload
from .test_videos import BrokenStore


def test_root_names_the_service(bridge: Bridge) -> None:
    bridge.clock.now += 12.5
    body = bridge.client.get("/").json()
    assert body["name"] == "preboarding-bridge"
    assert body["version"]
    assert body["uptime_seconds"] == 12.5


def test_health_ok(bridge: Bridge) -> None:
    response = bridge.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"apiserver", "store", "config"}
    assert SECRET not in response.text and TOKEN not in response.text


def test_health_503_when_the_apiserver_is_down(bridge: Bridge) -> None:
    bridge.repository.fail_with = Unavailable("the Kubernetes API server is unreachable; retry later")
    response = bridge.client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["apiserver"] == {
        "ok": False, "detail": "the Kubernetes API server is unreachable; retry later"}


def test_health_503_when_rbac_is_missing(bridge: Bridge) -> None:
    bridge.repository.fail_with = Forbidden("the Kubernetes API server refused the bridge's request (HTTP 403)")
    assert bridge.client.get("/health").status_code == 503


def test_health_503_when_the_store_is_down(bridge: Bridge) -> None:
    bridge.app.state.bridge.deps.store = BrokenStore()
    response = bridge.client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["store"]["ok"] is False
    assert response.json()["checks"]["apiserver"]["ok"] is True


def test_metrics_count_requests_and_webhooks(bridge: Bridge) -> None:
    bridge.post_webhook(example_payload())
    bridge.post_webhook(example_payload())
    bridge.post_webhook(b"{")
    text = bridge.client.get("/metrics").text
    assert 'preboarding_bridge_webhooks_total{outcome="accepted"} 1.0' in text
    assert 'preboarding_bridge_webhooks_total{outcome="duplicate"} 1.0' in text
    assert 'preboarding_bridge_webhooks_total{outcome="rejected"} 1.0' in text
    assert 'preboarding_bridge_webhook_rejections_total{reason="invalid_json"} 1.0' in text
    assert ('preboarding_bridge_requests_total{method="POST",route="/webhooks/user-onboarding",status="202"} 1.0'
            in text)
    assert 'preboarding_bridge_request_duration_seconds_bucket{le="+Inf",route="/webhooks/user-onboarding"} 3.0' \
        in text


def test_metrics_label_unmatched_paths_without_the_path(bridge: Bridge) -> None:
    bridge.client.get("/wp-admin/secret-looking-path")
    text = bridge.client.get("/metrics").text
    assert 'route="unmatched"' in text
    assert "wp-admin" not in text


def test_webhooks_status_counts_jobs_by_phase(bridge: Bridge) -> None:
    for n, phase in enumerate(["Running", "Running", "Failed"]):
        payload = example_payload()
        payload["employee"]["id"] = f"E-{n}"
        job_id = bridge.post_webhook(payload).json()["job_id"]
        bridge.repository.set_status(job_id, {"phase": phase})
    body = bridge.client.get("/webhooks/status").json()
    assert body["jobs_by_phase"] == {"Pending": 0, "Running": 2, "Succeeded": 0, "Failed": 1}
    assert body["webhooks_since_start"]["accepted"] == 3
    assert {"path": "/webhooks/user-onboarding", "methods": ["POST"]} in body["routes"]
    assert body["namespace"] == "hr"


def test_openapi_documents_the_payload(bridge: Bridge) -> None:
    schema = bridge.client.get("/openapi.json").json()
    operation = schema["paths"]["/webhooks/user-onboarding"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/NewHirePayload"
    assert "PayloadEmployee" in schema["components"]["schemas"]


def test_docs_pages_load_everything_from_the_bridge_itself(bridge: Bridge) -> None:
    """Swagger UI and ReDoc work in an air-gapped cluster: no script, style or icon from a CDN."""
    import re

    for page in ("/docs", "/redoc"):
        response = bridge.client.get(page)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", response.text)
        assets += re.findall(r"""url: *["']([^"']+)["']""", response.text)
        assert assets, response.text
        assert "/openapi.json" in response.text
        for url in assets:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
            if url != "/openapi.json":
                asset = bridge.client.get(url)
                assert asset.status_code == 200, url
                assert len(asset.content) > 1000, url


def test_cors_is_off_by_default(bridge: Bridge) -> None:
    response = bridge.client.options("/webhooks/user-onboarding", headers={
        "origin": "https://hr.example.com", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_configured_origins_only(bridge_factory: Callable[..., Bridge]) -> None:
    bridge = bridge_factory(cors_origins="https://hr.example.com")
    preflight = {"access-control-request-method": "POST"}
    allowed = bridge.client.options("/webhooks/user-onboarding",
                                    headers={"origin": "https://hr.example.com", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "https://hr.example.com"
    denied = bridge.client.options("/webhooks/user-onboarding",
                                   headers={"origin": "https://evil.example.com", **preflight})
    assert "access-control-allow-origin" not in denied.headers


def test_unknown_routes_and_methods_answer_json(bridge: Bridge) -> None:
    assert bridge.client.get("/nope").json() == {"error": "not_found", "message": "Not Found"}
    response = bridge.client.put("/webhooks/user-onboarding")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_closing_the_app_closes_the_repository(bridge_factory: Callable[..., Bridge]) -> None:
    bridge = bridge_factory()
    with bridge.client:
        pass
    assert bridge.repository.closed


class MissingBucketStore(BrokenStore):
    def ping(self) -> None:
        raise StoreUnavailable("bucket 'videos' does not exist")


class HangingStore(BrokenStore):
    def __init__(self) -> None:
        self.release = threading.Event()

    def ping(self) -> None:
        self.release.wait(30)


def test_health_names_a_missing_bucket(bridge: Bridge) -> None:
    bridge.app.state.bridge.deps.store = MissingBucketStore()
    response = bridge.client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["store"]["detail"] == "bucket 'videos' does not exist"


def test_health_does_not_wait_for_a_hanging_store(bridge_factory: Callable[..., Bridge]) -> None:
    bridge = bridge_factory(health_timeout_seconds=0.2)
    store = HangingStore()
    bridge.app.state.bridge.deps.store = store
    try:
        response = bridge.client.get("/health")
    finally:
        store.release.set()
    assert response.status_code == 503
    assert "did not answer" in response.json()["checks"]["store"]["detail"]
