"""From creation to Succeeded with the real renderer stages, on the real apiserver and Job controller.

``KubeletStandIn`` (see its docstring) runs each pod's command, ``preboarding stage ...``, exactly as
the Job's pod spec says, against the ground's MinIO and SMTP server: real script, flite voices,
slides, ffmpeg and email. Only the container runtime is missing; the chart's e2e test adds one.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from preboarding import api
from preboarding.testenv.ground import GroundInfo
from tests.integration.renderer.media import assert_playable_video
from tests.integration.welcome_mail import mails_to, video_link

from .harness import example_video, wait_for
from .test_pipeline import _events, _store


def kubectl(ground: GroundInfo, *args: str) -> str:
    return subprocess.run([str(ground.kubectl), "--kubeconfig", str(ground.kubeconfig), *args],
                          capture_output=True, text=True, check=True, timeout=30).stdout


@pytest.mark.timeout(600)
def test_video_renders_and_mails_through_real_stages(  # type: ignore[no-untyped-def]
        kube_api, namespace, operator_factory, kubelet_factory, ground: GroundInfo, tmp_path: Path) -> None:
    operator_factory()
    kubelet = kubelet_factory()  # no override: every pod runs the real renderer
    body: dict[str, Any] = example_video(namespace)
    email = f"priya-{namespace}@example.com"
    body["spec"]["employee"]["email"] = email
    k8s.CustomObjectsApi(kube_api).create_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL,
                                                                   body)

    # What a platform engineer watching `kubectl get ov` sees while it runs.
    seen: list[str] = []
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        row = kubectl(ground, "get", "ov", "-n", namespace, "--no-headers").strip()
        if row and (not seen or seen[-1] != row):
            seen.append(row)
        if " Succeeded " in f" {row} " or " Failed " in f" {row} ":
            break
        time.sleep(0.5)
    assert kubelet.errors == []
    done = wait_for(kube_api, namespace, "welcome-priya", lambda s: s.get("phase") == "Succeeded", timeout=5)
    assert any("Running" in row for row in seen), seen
    assert "Succeeded" in seen[-1] and "5/5" in seen[-1]
    assert len({re.sub(r"\s+\S+$", "", row) for row in seen}) >= 3  # stage and progress moved

    wide = kubectl(ground, "get", "ov", "-n", namespace, "-o", "wide")
    assert "video.mp4" in wide
    _events(kube_api, namespace, "welcome-priya", until=lambda rs: sum(r.startswith("StageSucceeded") for r in rs) >= 5)
    story = kubectl(ground, "describe", "ov", "-n", namespace, "welcome-priya")
    for stage in ("Script", "Audio", "Slides", "Compose", "Notify"):
        assert f"{stage}Ready" in story
    assert len(re.findall(r"Normal\s+StageSucceeded", story)) == 5  # one event per stage

    status = done["status"]
    store = _store(ground)
    video, captions = tmp_path / "video.mp4", tmp_path / "captions.vtt"
    store.get_file(status["videoKey"], video)
    store.get_file(status["storagePrefix"] + "captions.vtt", captions)
    timeline = json.loads(store.get_bytes(status["storagePrefix"] + "audio/timeline.json"))
    assert_playable_video(video, captions, timeline)

    [msg] = mails_to(ground.mail_dir, email)
    with urllib.request.urlopen(video_link(msg), timeout=10) as response:
        assert response.read() == video.read_bytes()
    # The accepted message is recorded: the SMTP server's copy has the Message-ID the status names.
    delivery = status["delivery"]
    assert (delivery["state"], delivery["sends"], delivery["messageId"]) == ("Sent", 1, msg["Message-ID"])
    assert re.search(r"\bSent\b", wide)
