"""The bridge process against the real apiserver and MinIO, with a least-privilege ServiceAccount token."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from preboarding import api
from preboarding.api.payload import video_name
from preboarding.storage import S3Store
from preboarding.testenv.ground import GroundInfo

from .conftest import unique_id
from .harness import BridgeProcess, example_payload, free_port, grant_bridge_access, mint_token, write_kubeconfig

WEBHOOK = "/webhooks/user-onboarding"


def post(http: httpx.Client, bridge: BridgeProcess, payload: dict[str, Any], webhook_id: str) -> httpx.Response:
    body = json.dumps(payload).encode()
    return http.post(WEBHOOK, content=body, headers=bridge.sign(body, webhook_id))


def videos(kube_api: Any, namespace: str) -> list[dict[str, Any]]:
    objects: Any = k8s.CustomObjectsApi(kube_api)
    items: list[dict[str, Any]] = objects.list_namespaced_custom_object(api.GROUP, api.VERSION, namespace,
                                                                        api.PLURAL)["items"]
    return items


def read_video(kube_api: Any, namespace: str, name: str) -> dict[str, Any]:
    objects: Any = k8s.CustomObjectsApi(kube_api)
    obj: dict[str, Any] = objects.get_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, name)
    return obj


def set_status(kube_api: Any, namespace: str, name: str, status: dict[str, Any]) -> None:
    """Write the status subresource, as the operator does."""
    k8s.CustomObjectsApi(kube_api).patch_namespaced_custom_object_status(
        api.GROUP, api.VERSION, namespace, api.PLURAL, name, {"status": status})


def test_a_signed_webhook_creates_the_video(http: httpx.Client, bridge: BridgeProcess, kube_api: Any,
                                            namespace: str) -> None:
    employee = unique_id()
    response = post(http, bridge, example_payload(employee), "msg-create-1")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["job_id"] == video_name(employee)
    assert body["status"] == "queued"
    assert body["status_url"] == f"{bridge.url}/jobs/{body['job_id']}/status"
    video = read_video(kube_api, namespace, body["job_id"])
    assert video["spec"]["employee"]["id"] == employee
    assert video["spec"]["employee"]["startDate"] == "2026-12-07"
    assert video["metadata"]["annotations"][api.ANNOTATION_WEBHOOK_ID] == "msg-create-1"
    assert len(video["metadata"]["annotations"][api.ANNOTATION_PAYLOAD_HASH]) == 64
    assert http.get(f"/jobs/{body['job_id']}/status", headers=bridge.bearer()).json()["phase"] == "Pending"


def test_an_unsigned_webhook_creates_nothing(http: httpx.Client, kube_api: Any, namespace: str) -> None:
    response = http.post(WEBHOOK, json=example_payload(unique_id()))
    assert response.status_code == 401
    assert videos(kube_api, namespace) == []


def test_sequential_duplicates(http: httpx.Client, bridge: BridgeProcess, kube_api: Any, namespace: str) -> None:
    payload = example_payload(unique_id())
    first = post(http, bridge, payload, "msg-dup-1")
    same_delivery = post(http, bridge, payload, "msg-dup-1")
    same_data = post(http, bridge, payload, "msg-dup-2")
    assert [r.status_code for r in (first, same_delivery, same_data)] == [202, 200, 200]
    assert same_data.json()["status"] == "duplicate"
    assert len(videos(kube_api, namespace)) == 1
    generation = read_video(kube_api, namespace, first.json()["job_id"])["metadata"]["generation"]
    assert generation == 1


@pytest.mark.parametrize("same_webhook_id", [False, True])
def test_concurrent_duplicates_create_exactly_one(http: httpx.Client, bridge: BridgeProcess, kube_api: Any,
                                                  namespace: str, same_webhook_id: bool) -> None:
    payload = example_payload(unique_id())
    threads_count = 16
    barrier = threading.Barrier(threads_count)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def deliver(n: int) -> None:
        body = json.dumps(payload).encode()
        headers = bridge.sign(body, "msg-same" if same_webhook_id else f"msg-{n}")
        with httpx.Client(base_url=bridge.url, timeout=30) as own:
            barrier.wait()
            response = own.post(WEBHOOK, content=body, headers=headers)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    statuses = sorted(r.json()["status"] for r in results)
    assert statuses == ["duplicate"] * (threads_count - 1) + ["queued"], [r.text for r in results]
    assert len(videos(kube_api, namespace)) == 1


def test_changed_data_updates_the_spec(http: httpx.Client, bridge: BridgeProcess, kube_api: Any,
                                       namespace: str) -> None:
    payload = example_payload(unique_id())
    job_id = post(http, bridge, payload, "msg-v1").json()["job_id"]
    before = read_video(kube_api, namespace, job_id)
    payload["employee"]["start_date"] = "2027-01-04"
    payload["employee"].pop("buddy")
    payload["options"] = {"tone": "playful"}
    response = post(http, bridge, payload, "msg-v2")
    assert response.status_code == 202
    assert response.json()["status"] == "updated"
    after = read_video(kube_api, namespace, job_id)
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["metadata"]["generation"] == 2
    assert after["spec"]["employee"]["startDate"] == "2027-01-04"
    assert "buddy" not in after["spec"]["employee"]  # the spec is replaced, not merged
    assert after["spec"]["script"]["tone"] == "playful"
    annotations = after["metadata"]["annotations"]
    assert annotations[api.ANNOTATION_WEBHOOK_ID] == "msg-v2"
    assert annotations[api.ANNOTATION_PAYLOAD_HASH] != before["metadata"]["annotations"][api.ANNOTATION_PAYLOAD_HASH]
    assert len(videos(kube_api, namespace)) == 1


def test_status_route_reads_what_the_operator_wrote(http: httpx.Client, bridge: BridgeProcess, kube_api: Any,
                                                     namespace: str) -> None:
    job_id = post(http, bridge, example_payload(unique_id()), "msg-status").json()["job_id"]
    set_status(kube_api, namespace, job_id, {
        "phase": "Failed", "stage": "audio", "progress": "1/5", "message": "Stage audio failed.",
        "stages": [
            {"name": "script", "state": "Succeeded", "attempts": 1, "startedAt": "2026-11-24T10:00:00Z",
             "finishedAt": "2026-11-24T10:00:03Z", "durationSeconds": 3.2},
            {"name": "audio", "state": "Failed", "attempts": 4, "message": "voice not available"},
        ],
    })
    body = http.get(f"/jobs/{job_id}/status", headers=bridge.bearer()).json()
    assert (body["phase"], body["stage"], body["progress"]) == ("Failed", "audio", "1/5")
    assert body["stages"][0]["duration_seconds"] == 3.2
    assert body["error"] == "audio: voice not available"
    assert http.get("/jobs/welcome-nobody-00000000/status", headers=bridge.bearer()).status_code == 404


def test_video_redirects_to_minio(http: httpx.Client, bridge: BridgeProcess, kube_api: Any, namespace: str,
                                  store: S3Store) -> None:
    job_id = post(http, bridge, example_payload(unique_id()), "msg-video").json()["job_id"]
    uid = read_video(kube_api, namespace, job_id)["metadata"]["uid"]
    prefix = f"{namespace}/{job_id}/{uid}/"
    mp4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 8

    set_status(kube_api, namespace, job_id, {"phase": "Running", "stage": "compose", "progress": "3/5"})
    rendering = http.get(f"/videos/{job_id}.mp4", headers=bridge.bearer())
    assert rendering.status_code == 409
    assert rendering.json()["phase"] == "Running"

    set_status(kube_api, namespace, job_id, {"phase": "Succeeded", "progress": "5/5",
                                             "videoKey": prefix + "video.mp4", "storagePrefix": prefix})
    assert http.get(f"/videos/{job_id}.mp4", headers=bridge.bearer()).status_code == 404  # not in the store yet

    store.put_bytes(prefix + "video.mp4", mp4, content_type="video/mp4")
    try:
        redirect = http.get(f"/videos/{job_id}.mp4", headers=bridge.bearer())
        assert redirect.status_code == 307
        location = redirect.headers["location"]
        assert location.startswith(f"http://{store.settings.endpoint}/") and "X-Amz-Signature=" in location
        with httpx.Client(follow_redirects=True, timeout=30) as browser:
            video = browser.get(f"{bridge.url}/videos/{job_id}.mp4", headers=bridge.bearer())
        assert video.status_code == 200
        assert video.content == mp4
        assert video.headers["content-type"] == "video/mp4"
        status = http.get(f"/jobs/{job_id}/status", headers=bridge.bearer()).json()
        assert status["video_url"] == f"{bridge.url}/videos/{job_id}.mp4"
    finally:
        store.delete_prefix(prefix)


def test_dev_output_lists_stored_files_with_working_links(http: httpx.Client, bridge: BridgeProcess,
                                                          kube_api: Any, namespace: str, store: S3Store) -> None:
    job_id = post(http, bridge, example_payload(unique_id()), "msg-dev").json()["job_id"]
    uid = read_video(kube_api, namespace, job_id)["metadata"]["uid"]
    prefix = f"{namespace}/{job_id}/{uid}/"
    store.put_bytes(prefix + "script.json", b'{"lines": []}', content_type="application/json")
    store.put_bytes(prefix + "records/script.json", b'{"seconds": 1}', content_type="application/json")
    set_status(kube_api, namespace, job_id, {"phase": "Running", "storagePrefix": prefix})
    try:
        assert http.get(f"/dev_output/{job_id}/").status_code == 401
        body = http.get(f"/dev_output/{job_id}/", headers=bridge.bearer()).json()
        files = {f["key"]: f for f in body["files"]}
        assert set(files) == {"script.json", "records/script.json"}
        assert httpx.get(files["records/script.json"]["url"], timeout=30).content == b'{"seconds": 1}'
    finally:
        store.delete_prefix(prefix)


def test_list_retry_delete(http: httpx.Client, bridge: BridgeProcess, kube_api: Any, namespace: str) -> None:
    made = {post(http, bridge, example_payload(unique_id()), f"msg-list-{n}").json()["job_id"] for n in range(5)}
    seen: list[str] = []
    url: str | None = "/jobs/?limit=2"
    while url:
        page = http.get(url, headers=bridge.bearer())
        assert page.status_code == 200, page.text
        seen += [item["job_id"] for item in page.json()["items"]]
        url = page.json()["next_url"]
    assert sorted(seen) == sorted(made)

    job_id = sorted(made)[0]
    set_status(kube_api, namespace, job_id, {"phase": "Failed", "stage": "script"})
    retried = http.post(f"/jobs/{job_id}/retry", headers=bridge.bearer())
    assert retried.status_code == 202, retried.text
    assert read_video(kube_api, namespace, job_id)["metadata"]["annotations"][api.ANNOTATION_RETRY]

    assert http.delete(f"/jobs/{job_id}", headers=bridge.bearer()).status_code == 202
    assert http.get(f"/jobs/{job_id}/status", headers=bridge.bearer()).status_code == 404
    assert len(videos(kube_api, namespace)) == 4


def test_health_with_the_real_servers(http: httpx.Client) -> None:
    response = http.get("/health")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"
    metrics = http.get("/metrics").text
    assert "preboarding_bridge_requests_total" in metrics


def test_the_bridge_token_cannot_do_anything_else(bridge_kubeconfig: Path, kube_api: Any, namespace: str,
                                                  http: httpx.Client, bridge: BridgeProcess) -> None:
    # The bridge works with this token (the other tests), and the token is good for nothing else.
    assert post(http, bridge, example_payload(unique_id()), "msg-rbac").status_code == 202
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(config_file=str(bridge_kubeconfig), client_configuration=configuration)
    with k8s.ApiClient(configuration) as as_bridge:
        core = k8s.CoreV1Api(as_bridge)
        objects = k8s.CustomObjectsApi(as_bridge)
        denied: list[Callable[[], Any]] = [
            lambda: core.list_namespaced_secret(namespace),
            lambda: core.list_namespaced_pod(namespace),
            lambda: core.list_namespace(),
            lambda: objects.list_namespaced_custom_object(api.GROUP, api.VERSION, "default", api.PLURAL),
            # (It may patch its own namespace's video status: the watch page counts views there.)
            lambda: objects.patch_namespaced_custom_object_status(
                api.GROUP, api.VERSION, "default", api.PLURAL, "x", {"status": {"phase": "Succeeded"}}),
        ]
        for call in denied:
            with pytest.raises(ApiException) as info:
                call()
            assert info.value.status == 403
        # ... while what it needs is allowed:
        objects.list_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL)


def test_missing_rbac_is_reported_not_hidden(bridge_factory: Callable[..., BridgeProcess], kube_api: Any,
                                             ground: GroundInfo, namespace: str, tmp_path: Path) -> None:
    # A ServiceAccount without the verbs to create: webhooks get a 502 that says why; /health says so too.
    grant_bridge_access(kube_api, namespace, name="read-only-bridge", verbs=["get"])
    kubeconfig = write_kubeconfig(tmp_path / "ro.kubeconfig", ground, mint_token(kube_api, namespace,
                                                                                 "read-only-bridge"))
    bridge = bridge_factory(kubeconfig)
    with httpx.Client(base_url=bridge.url, timeout=30) as http:
        response = post(http, bridge, example_payload(unique_id()), "msg-forbidden")
        assert response.status_code == 502
        assert response.json()["error"] == "apiserver_forbidden"
        health = http.get("/health")
        assert health.status_code == 503
        assert health.json()["checks"]["apiserver"]["ok"] is False
    assert videos(kube_api, namespace) == []


def test_an_unreachable_apiserver_is_503(bridge_factory: Callable[..., BridgeProcess], ground: GroundInfo,
                                         tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "nowhere.kubeconfig", ground, "no-token",
                                  server=f"https://127.0.0.1:{free_port()}")
    bridge = bridge_factory(kubeconfig, PREBOARDING_KUBE_TIMEOUT_SECONDS="3")
    with httpx.Client(base_url=bridge.url, timeout=30) as http:
        response = post(http, bridge, example_payload(unique_id()), "msg-unreachable")
        assert response.status_code == 503
        assert response.json()["error"] == "apiserver_unavailable"
        assert response.headers["retry-after"]
        assert http.get("/health").status_code == 503


def test_a_missing_bucket_fails_health(bridge_factory: Callable[..., BridgeProcess], bridge_kubeconfig: Path) -> None:
    bridge = bridge_factory(bridge_kubeconfig, PREBOARDING_S3_BUCKET="no-such-bucket")
    with httpx.Client(base_url=bridge.url, timeout=30) as http:
        health = http.get("/health")
    assert health.status_code == 503
    checks = health.json()["checks"]
    assert checks["store"] == {"ok": False, "detail": "bucket 'no-such-bucket' does not exist"}
    assert checks["apiserver"]["ok"] is True
