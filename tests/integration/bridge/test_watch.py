"""The watch page on the real apiserver and MinIO: the bridge process, a token as notify mints it, the
video served through fresh presigned URLs with Range requests, and the view counted in status."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from preboarding.api.watch import WatchKeys, mint
from preboarding.storage import S3Store

from .conftest import unique_id
from .harness import BridgeProcess, example_payload
from .test_bridge import post, read_video, set_status

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

KEYS = "k1:" + "i" * 40


def small_mp4(path: Path) -> bytes:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
                    "-t", "2", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)], check=True)
    return path.read_bytes()


@pytest.fixture
def watch_bridge(bridge_factory: Callable[..., BridgeProcess], bridge_kubeconfig: Path) -> BridgeProcess:
    return bridge_factory(bridge_kubeconfig, PREBOARDING_WATCH_KEYS=KEYS,
                          PREBOARDING_HR_CONTACT="people@example.com")


def test_the_watch_link_plays_and_seeks_through_minio_and_counts_the_view(
        watch_bridge: BridgeProcess, kube_api: Any, namespace: str, store: S3Store, tmp_path: Path) -> None:
    with httpx.Client(base_url=watch_bridge.url, timeout=30) as http:
        job_id = post(http, watch_bridge, example_payload(unique_id()), "msg-watch").json()["job_id"]
        uid = read_video(kube_api, namespace, job_id)["metadata"]["uid"]
        prefix = f"{namespace}/{job_id}/{uid}/"
        mp4 = small_mp4(tmp_path / "v.mp4")
        store.put_bytes(prefix + "video.mp4", mp4, content_type="video/mp4")
        store.put_bytes(prefix + "captions.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.500\nHello\n", "text/vtt")
        store.put_bytes(prefix + "script.json", json.dumps({"title": "Welcome", "lines": [
            {"speaker": "alex", "section": "welcome", "text": "Hello there"}]}).encode(), "application/json")
        set_status(kube_api, namespace, job_id, {"phase": "Succeeded", "videoKey": prefix + "video.mp4",
                                                  "storagePrefix": prefix})
        try:
            token = mint(WatchKeys.parse(KEYS), uid, dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
            page = http.get(f"/watch/{token}")
            assert page.status_code == 200, page.text
            assert "Hello there" in page.text and "Content-Security-Policy" in page.headers
            ranged = http.get(f"/watch/{token}/video.mp4", headers={"Range": "bytes=100-199"}, follow_redirects=True)
            assert ranged.status_code == 206 and ranged.content == mp4[100:200]
            assert ranged.headers["content-type"] == "video/mp4"
            captions = http.get(f"/watch/{token}/captions.vtt")
            assert captions.status_code == 200 and "Hello" in captions.text
            delivery = read_video(kube_api, namespace, job_id)["status"]["delivery"]
            assert delivery["views"] == 1 and delivery["firstViewedAt"]
            # Deleted: the same link now says it has ended, and names whom to ask.
            http.delete(f"/jobs/{job_id}", headers=watch_bridge.bearer())
        finally:
            store.delete_prefix(prefix)
        gone = http.get(f"/watch/{token}")
        assert gone.status_code == 410 and "people@example.com" in gone.text
