"""``GET /watch/{token}``: the page a genuine token opens, and what every other token gets."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from preboarding.api.watch import WatchKeys, mint
from preboarding.bridge.repository import Forbidden

from ..conftest import Bridge, example_payload

pytestmark = pytest.mark.unit

KEYS = "k1:" + "w" * 40
LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
SCRIPT = {"title": "Welcome to Acme, Priya", "lines": [
    {"speaker": "alex", "section": "welcome", "text": "Hi Priya, <welcome> to Acme!"},
    {"speaker": "jordan", "section": "welcome", "text": "We can't wait to meet you."}]}


@pytest.fixture
def watch_bridge(bridge_factory: Callable[..., Bridge]) -> Bridge:
    return bridge_factory(watch_keys=KEYS, hr_contact="people@acme.example",
                          store={"endpoint": "media.acme.example:9000"})


def finished_video(bridge: Bridge, **payload_changes: Any) -> tuple[str, dict[str, Any]]:
    """A video that rendered: its objects in the store, its status Succeeded; returns (name, resource)."""
    response = bridge.post_webhook(example_payload() | payload_changes)
    assert response.status_code == 202, response.text
    name = response.json()["job_id"]
    video = bridge.repository.objects[name]
    prefix = f"hr/{name}/{video['metadata']['uid']}/"
    bridge.store.put_bytes(prefix + "video.mp4", b"\x00mp4", "video/mp4")
    bridge.store.put_bytes(prefix + "thumbnail.jpg", b"\xff\xd8", "image/jpeg")
    bridge.store.put_bytes(prefix + "captions.vtt", b"WEBVTT\n\n00:00.000 --> 00:02.000\nHi\n", "text/vtt")
    bridge.store.put_bytes(prefix + "script.json", json.dumps(SCRIPT).encode(), "application/json")
    bridge.repository.set_status(name, {"phase": "Succeeded", "videoKey": prefix + "video.mp4",
                                        "storagePrefix": prefix})
    return name, video


def token_for(video: dict[str, Any], expires_at: dt.datetime = LATER, keys: str = KEYS) -> str:
    return mint(WatchKeys.parse(keys), video["metadata"]["uid"], expires_at)


def test_a_genuine_token_opens_the_branded_page(watch_bridge: Bridge) -> None:
    _, video = finished_video(watch_bridge)
    token = token_for(video)
    page = watch_bridge.client.get(f"/watch/{token}")
    assert page.status_code == 200, page.text
    html = page.text
    spec = video["spec"]
    first = spec["employee"]["name"].split()[0]
    assert f'<html lang="{spec["employee"]["language"]}">' in html
    assert f"Welcome, {first}!" in html and spec["company"]["name"] in html
    assert f'<source src="/watch/{token}/video.mp4" type="video/mp4">' in html
    assert f'poster="/watch/{token}/poster.jpg"' in html
    assert re.search(rf'<track kind="captions" src="/watch/{re.escape(token)}/captions.vtt"[^>]* default>', html)
    assert "Hi Priya, &lt;welcome&gt; to Acme!" in html  # the transcript, escaped
    assert "Alex:" in html and "Jordan:" in html
    assert spec["company"]["brandColor"] in html
    assert "<script" not in html
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "media-src 'self' http://media.acme.example:9000" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and f'<style nonce="{nonce.group(1)}">' in html
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"


def test_each_visit_presigns_the_video_and_serves_the_captions(watch_bridge: Bridge) -> None:
    _, video = finished_video(watch_bridge)
    token = token_for(video)
    media = watch_bridge.client.get(f"/watch/{token}/video.mp4", follow_redirects=False)
    assert media.status_code == 307 and media.headers["location"].endswith("/video.mp4")
    poster = watch_bridge.client.get(f"/watch/{token}/poster.jpg", follow_redirects=False)
    assert poster.status_code == 307 and poster.headers["location"].endswith("/thumbnail.jpg")
    captions = watch_bridge.client.get(f"/watch/{token}/captions.vtt")
    assert captions.status_code == 200 and captions.text.startswith("WEBVTT")
    assert captions.headers["content-type"].startswith("text/vtt")


def test_the_page_needs_no_other_credential_while_reads_require_auth(bridge_factory: Callable[..., Bridge]) -> None:
    bridge = bridge_factory(watch_keys=KEYS, reads_require_auth=True)
    name, video = finished_video(bridge)
    assert bridge.client.get(f"/jobs/{name}/status").status_code == 401
    assert bridge.client.get(f"/watch/{token_for(video)}").status_code == 200


@pytest.mark.parametrize("token", ["nonsense", "v1.k1." + "0" * 32 + ".99999999999." + "A" * 43, "x" * 300])
def test_an_unknown_token_gets_a_friendly_404_that_reveals_nothing(watch_bridge: Bridge, token: str) -> None:
    finished_video(watch_bridge)
    page = watch_bridge.client.get(f"/watch/{token}")
    assert page.status_code == 404
    assert "This link does not work" in page.text and "people@acme.example" in page.text
    assert "Acme" not in page.text  # not even which company: nothing says a video exists
    assert watch_bridge.client.get(f"/watch/{token}/video.mp4", follow_redirects=False).status_code == 404


def test_a_token_of_a_rotated_out_key_is_unknown(watch_bridge: Bridge) -> None:
    _, video = finished_video(watch_bridge)
    assert watch_bridge.client.get(f"/watch/{token_for(video, keys='k0:' + 'z' * 40)}").status_code == 404


def test_an_expired_link_gets_410_naming_the_company_to_ask(watch_bridge: Bridge) -> None:
    _, video = finished_video(watch_bridge)
    page = watch_bridge.client.get(f"/watch/{token_for(video, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))}")
    assert page.status_code == 410
    assert "This link has ended" in page.text and video["spec"]["company"]["name"] in page.text


def test_a_deleted_video_is_410_and_a_new_video_of_the_same_name_is_not_reached(watch_bridge: Bridge) -> None:
    name, video = finished_video(watch_bridge)
    token = token_for(video)
    assert watch_bridge.client.get(f"/watch/{token}").status_code == 200  # cached: name by uid
    del watch_bridge.repository.objects[name]
    assert watch_bridge.client.get(f"/watch/{token}").status_code == 410
    finished_video(watch_bridge)  # same employee, same name, another uid
    assert watch_bridge.client.get(f"/watch/{token}").status_code == 410


def test_a_video_being_rerendered_says_so(watch_bridge: Bridge) -> None:
    name, video = finished_video(watch_bridge)
    watch_bridge.repository.set_status(name, {"phase": "Running"})
    page = watch_bridge.client.get(f"/watch/{token_for(video)}")
    assert page.status_code == 410 and "being updated" in page.text


def test_without_watch_keys_the_route_is_404(bridge: Bridge) -> None:
    _, video = finished_video(bridge)
    assert bridge.client.get(f"/watch/{token_for(video)}").status_code == 404


def test_the_stylesheet_is_served_from_here(watch_bridge: Bridge) -> None:
    css = watch_bridge.client.get("/watch-assets/watch.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "http" not in css.text  # no import from anywhere else


def test_views_are_counted_in_status_and_the_first_one_kept(watch_bridge: Bridge) -> None:
    name, video = finished_video(watch_bridge)
    token = token_for(video)
    assert watch_bridge.client.get(f"/watch/{token}").status_code == 200
    first = watch_bridge.repository.objects[name]["status"]["delivery"]
    assert first["views"] == 1 and first["firstViewedAt"].endswith("Z")
    assert set(first) == {"views", "firstViewedAt", "state"}  # nothing about the visitor
    assert first["state"] == "Opened"
    assert watch_bridge.client.get(f"/watch/{token}").status_code == 200
    again = watch_bridge.repository.objects[name]["status"]["delivery"]
    assert (again["views"], again["firstViewedAt"]) == (2, first["firstViewedAt"])
    assert watch_bridge.repository.objects[name]["status"]["phase"] == "Succeeded"  # the operator's part kept


def test_a_view_racing_another_write_is_still_counted(watch_bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
    name, video = finished_video(watch_bridge)
    repository = watch_bridge.repository
    original = repository.patch_status
    raced = []

    async def racing(patch_name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        if not raced:  # the operator writes in between: the bridge's resourceVersion is stale
            raced.append(True)
            repository.set_status(patch_name, {**repository.objects[patch_name]["status"], "message": "done"})
        return await original(patch_name, ops)

    monkeypatch.setattr(repository, "patch_status", racing)
    assert watch_bridge.client.get(f"/watch/{token_for(video)}").status_code == 200
    status = repository.objects[name]["status"]
    assert status["delivery"]["views"] == 1 and status["message"] == "done"


def test_the_page_is_served_when_the_view_cannot_be_written(watch_bridge: Bridge,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _, video = finished_video(watch_bridge)

    async def refused(name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        raise Forbidden("no RBAC for onboardingvideos/status")

    monkeypatch.setattr(watch_bridge.repository, "patch_status", refused)
    assert watch_bridge.client.get(f"/watch/{token_for(video)}").status_code == 200
