"""Delivery benchmark: a held email's send time -> the mail in the SMTP server, and the watch page's load time.

On the test ground (started if needed): the real apiserver, Job controller, MinIO and SMTP server, the operator
and the bridge as subprocesses, and the kubelet stand-in from the tests. The render stages finish at once
(exit 0) and the benchmark writes their records and a small MP4 into the store while the email is held, so
the notify stage that runs at the send time is the real ``preboarding stage notify`` mailing through SMTP.

1. ``--videos N`` OnboardingVideos, all due ``--lead`` seconds after creation (``spec.delivery.sendAt``).
   Per video: send time -> notify Job created (the operator's daemon waking up and creating the Job), and
   send time -> the mail stored by the SMTP server (adds the Job controller, the stand-in's 0.3 s poll for
   pods, the stage CLI's start-up and the SMTP exchange).
2. ``--page-loads M`` GETs of ``/watch/<token>`` on the bridge (each verifies the token, gets the video,
   reads the script from MinIO, counts the view in status, renders the page), one at a time: p50/p95; then
   Debian's chromium opening the page until the video can play (``readyState >= 2``), ``--browser-loads``
   times, each in a fresh context.

    .venv/bin/python -m benchmarks.delivery [--videos 20] [--lead 30] [--page-loads 200] [--browser-loads 10]

Loopback only, bounded in count and time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import mailbox
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, Python puts benchmarks/ first on sys.path, where a file could shadow a module of the
# same name; the source tree goes there instead (for the tests' support modules, tests.*).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from kubernetes import client as k8s  # noqa: E402
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.integration.bridge.harness import (  # noqa: E402
    BridgeProcess,
    grant_bridge_access,
    mint_token,
    write_kubeconfig,
)
from tests.integration.operator.harness import OperatorProcess, example_video  # noqa: E402
from tests.integration.operator.kubelet import KubeletStandIn  # noqa: E402

from preboarding import api  # noqa: E402
from preboarding.api.inputs import stage_inputs_hashes  # noqa: E402
from preboarding.api.layout import CAPTIONS_KEY, SCRIPT_KEY, THUMBNAIL_KEY, VIDEO_KEY, record_key  # noqa: E402
from preboarding.api.models import OnboardingVideoSpec  # noqa: E402
from preboarding.api.records import StageRecord  # noqa: E402
from preboarding.api.stages import Stage  # noqa: E402
from preboarding.api.watch import WatchKeys, mint  # noqa: E402
from preboarding.storage import S3Store, StoreSettings  # noqa: E402
from preboarding.testenv.ground import Ground, GroundInfo  # noqa: E402
from preboarding.testenv.kube import admin_api_client, apply_crd  # noqa: E402

KEYS = "bench:" + "b" * 40
RENDER_STAGES = (Stage.SCRIPT, Stage.AUDIO, Stage.SLIDES, Stage.COMPOSE)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def _row(name: str, values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    v = [x * scale for x in values]
    return (f"  {name:<42} n={len(v):<4} p50 {_pct(v, 0.5):8.3f} {unit}  p95 {_pct(v, 0.95):8.3f} {unit}  "
            f"max {max(v):8.3f} {unit}")


def _small_mp4(path: Path) -> bytes:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=10",
                    "-f", "lavfi", "-i", "sine=frequency=440", "-t", "3", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-shortest", "-movflags", "+faststart", str(path)], check=True)
    return path.read_bytes()


def _seed(store: S3Store, prefix: str, spec: OnboardingVideoSpec, mp4: bytes) -> None:
    """What the render stages would have left: their records for the current spec and the outputs."""
    hashes = stage_inputs_hashes(spec)
    now = dt.datetime.now(dt.UTC)
    store.put_bytes(prefix + VIDEO_KEY, mp4, "video/mp4")
    store.put_bytes(prefix + CAPTIONS_KEY, b"WEBVTT\n\n00:00.000 --> 00:03.000\nWelcome aboard\n", "text/vtt")
    store.put_bytes(prefix + SCRIPT_KEY, json.dumps({"title": "Welcome", "lines": [
        {"speaker": "alex", "section": "welcome", "text": "Welcome aboard!"}]}).encode(), "application/json")
    for stage in RENDER_STAGES:
        outputs = [VIDEO_KEY, CAPTIONS_KEY] if stage is Stage.COMPOSE else []
        record = StageRecord(stage=stage, state="Succeeded", provider="benchmark", started_at=now,
                             finished_at=now, inputs_hash=hashes[stage], outputs=outputs)
        store.put_bytes(prefix + record_key(stage), record.to_json(), "application/json")


def _stored_at(mail_dir: Path) -> dict[str, float]:
    """Each stored message's recipient -> when the SMTP server stored it (the Maildir file's mtime)."""
    found: dict[str, float] = {}
    box = mailbox.Maildir(mail_dir, create=False)
    for key in box.iterkeys():
        message = box.get_message(key)
        for sub in ("new", "cur"):
            path = mail_dir / sub / key
            if path.exists():
                found[message["To"] or ""] = path.stat().st_mtime
    return found


def measure_send(info: GroundInfo, client: Any, namespace: str, store: S3Store, work: Path, videos: int,
                 lead: float, timeout: float) -> tuple[list[float], list[float]]:
    objects, batch = k8s.CustomObjectsApi(client), k8s.BatchV1Api(client)
    operator = OperatorProcess(info, namespace, work / "operator.log", {}).start()
    env = {**info.env(), "PREBOARDING_MAIL_PROVIDER": "smtp", "PREBOARDING_MAIL_FROM": "welcome@northwind.example"}
    kubelet = KubeletStandIn(client, namespace, env, lambda stage, pod: None if stage == "notify" else 0).start()
    try:
        send_at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lead)).replace(microsecond=0)
        tag = uuid.uuid4().hex[:6]
        addresses: dict[str, str] = {}
        for i in range(videos):
            body = example_video(namespace, f"held-{tag}-{i}")
            addresses[body["metadata"]["name"]] = body["spec"]["employee"]["email"] = f"held-{tag}-{i}@example.com"
            body["spec"]["delivery"] = {"sendAt": send_at.isoformat().replace("+00:00", "Z")}
            objects.create_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL, body)
        mp4 = _small_mp4(work / "small.mp4")
        seeded: set[str] = set()
        deadline = time.monotonic() + timeout
        while len(seeded) < videos:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(seeded)} of {videos} videos held before the deadline")
            for item in objects.list_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL)["items"]:
                status, name = item.get("status") or {}, item["metadata"]["name"]
                if name in seeded or status.get("progress") != "4/5":
                    continue
                if (status.get("delivery") or {}).get("state") != "Scheduled":
                    raise RuntimeError(f"{name} finished rendering after its send time: raise --lead")
                _seed(store, status["storagePrefix"], OnboardingVideoSpec.model_validate(item["spec"]), mp4)
                seeded.add(name)
            time.sleep(0.3)
        print(f"  {videos} videos rendered and held; due at {send_at:%H:%M:%S} UTC "
              f"({(send_at - dt.datetime.now(dt.UTC)).total_seconds():.1f} s from now)")
        stored: dict[str, float] = {}
        while len(stored) < videos:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(stored)} of {videos} mails arrived; stand-in errors: {kubelet.errors}")
            stored = {to: at for to, at in _stored_at(info.mail_dir).items() if f"held-{tag}-" in to}
            time.sleep(0.2)
        while any((i.get("status") or {}).get("phase") != "Succeeded" for i in objects.list_namespaced_custom_object(
                api.GROUP, api.VERSION, namespace, api.PLURAL)["items"]):
            if time.monotonic() > deadline:
                raise TimeoutError("the mails arrived but not every video reached Succeeded")
            time.sleep(0.2)
        due = send_at.timestamp()
        created = [j.metadata.creation_timestamp.timestamp() - due
                   for j in batch.list_namespaced_job(namespace).items
                   if (j.metadata.labels or {}).get(api.LABEL_STAGE) == "notify"]
        early = [c for c in created if c < 0]
        if early:
            raise AssertionError(f"{len(early)} notify Jobs created before the send time")
        # creationTimestamp has whole seconds: the Job-created figures are within a second of the truth.
        return created, [at - due for at in stored.values()]
    finally:
        kubelet.stop()
        operator.stop()


def measure_page(info: GroundInfo, client: Any, namespace: str, store: S3Store, work: Path, loads: int,
                 browser_loads: int) -> tuple[list[float], list[float]]:
    objects = k8s.CustomObjectsApi(client)
    grant_bridge_access(client, namespace)
    kubeconfig = write_kubeconfig(work / "bridge.kubeconfig", info, mint_token(client, namespace))
    bridge = BridgeProcess(info, namespace, kubeconfig, work / "bridge.log", {
        "PREBOARDING_WATCH_KEYS": KEYS, "PREBOARDING_RATE_LIMIT_PER_MINUTE": "0"}).start()
    try:
        item = _succeeded_video(objects, namespace)
        uid = item["metadata"]["uid"]
        store.put_file(item["status"]["storagePrefix"] + THUMBNAIL_KEY, _thumbnail(work), "image/jpeg")
        url = f"{bridge.url}/watch/{mint(WatchKeys.parse(KEYS), uid, dt.datetime.now(dt.UTC) + dt.timedelta(days=1))}"
        server: list[float] = []
        with httpx.Client(timeout=30) as http:
            assert http.get(url).status_code == 200  # warm: the finder's name cache, connections
            for _ in range(loads):
                start = time.perf_counter()
                response = http.get(url)
                server.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text
        return server, _browser_loads(url, browser_loads)
    finally:
        bridge.stop()


def _succeeded_video(objects: Any, namespace: str, timeout: float = 60) -> dict[str, Any]:
    """A video whose notify Job the operator has seen finish (the mail can be stored a moment before)."""
    deadline = time.monotonic() + timeout
    while True:
        for item in objects.list_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL)["items"]:
            if (item.get("status") or {}).get("phase") == "Succeeded":
                return dict(item)
        if time.monotonic() > deadline:
            raise TimeoutError("no video reached Succeeded")
        time.sleep(0.2)


def _thumbnail(work: Path) -> Path:
    path = work / "thumbnail.jpg"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(work / "small.mp4"), "-frames:v", "1",
                    str(path)], check=True)
    return path


def _browser_loads(url: str, loads: int) -> list[float]:
    if loads <= 0 or not CHROMIUM.exists():
        return []
    from playwright.sync_api import sync_playwright

    timings: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
                page = context.new_page()
                start = time.perf_counter()
                page.goto(url, wait_until="commit")
                page.wait_for_function("() => { const v = document.querySelector('video');"
                                       " return v && v.readyState >= 2; }", timeout=30_000)
                timings.append(time.perf_counter() - start)
                context.close()
        finally:
            browser.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--lead", type=float, default=30.0, help="seconds from creation to the send time")
    parser.add_argument("--page-loads", type=int, default=200)
    parser.add_argument("--browser-loads", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    ground = Ground.default()
    ground.start()
    info = ground.info()
    client = admin_api_client(info)
    apply_crd(client)
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    k8s.CoreV1Api(client).create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
    store = S3Store(StoreSettings(endpoint=info.s3_endpoint, access_key=info.s3_access_key,
                                  secret_key=info.s3_secret_key, bucket=info.s3_bucket))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
            work = Path(tmp)
            print(f"delivery benchmark: {args.videos} held emails, {args.page_loads} page loads "
                  f"({args.browser_loads} in chromium), namespace {namespace}")
            created, mailed = measure_send(info, client, namespace, store, work, args.videos, args.lead,
                                           args.timeout)
            server, browser = measure_page(info, client, namespace, store, work, args.page_loads,
                                           args.browser_loads)
        print("results:")
        print(_row("send time -> notify Job created (1 s grain)", created))
        print(_row("send time -> mail stored by SMTP", mailed))
        print(_row("GET /watch/<token> (server, sequential)", server, "ms", 1000))
        if browser:
            print(_row("chromium: navigation -> video can play", browser, "ms", 1000))
        print(f"  mean page load {statistics.mean(server) * 1000:.1f} ms")
    finally:
        store.delete_prefix(f"{namespace}/")
        k8s.CoreV1Api(client).delete_namespace(namespace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
