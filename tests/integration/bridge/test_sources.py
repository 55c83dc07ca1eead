"""OnboardingSources on the real apiserver: the bridge process, with a Role that reads only the Secrets its
sources name, takes signed deliveries, writes each source's status, and creates exactly one video each."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from preboarding import api
from preboarding.testenv.ground import GroundInfo

from .harness import (
    BridgeProcess,
    Cluster,
    example_payload,
    grant_bridge_access,
    mint_token,
    new_secret,
    wait_for,
    write_kubeconfig,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PROFILE = {
    "company": {"name": "Northwind", "brandColor": "#0F766E"},
    "defaults": {"script": {"tone": "professional"}},
    "teams": [{"match": {"team": "platform"}, "techStack": ["Go", "Kubernetes"],
               "schedule": [{"day": "Monday", "items": ["Laptop setup", "Lunch with the team"]}]},
              {"techStack": ["Slack"]}],
}


@pytest.fixture
def source_bridge(bridge_factory: Callable[..., BridgeProcess], kube_api: Any, ground: GroundInfo,
                  namespace: str, tmp_path: Path) -> BridgeProcess:
    """The bridge with the chart's least privilege: only the Secrets hris-webhook and missing-secret."""
    grant_bridge_access(kube_api, namespace, secret_names=["hris-webhook", "missing-secret"])
    kubeconfig = write_kubeconfig(tmp_path / "bridge.kubeconfig", ground, mint_token(kube_api, namespace))
    return bridge_factory(kubeconfig, PREBOARDING_SOURCE_REFRESH_SECONDS="1")


def signed(secret: str, body: bytes, webhook_id: str) -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    return {"content-type": "application/json", "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, now, body.decode())}


def test_a_standard_source_makes_exactly_one_video_and_counts_deliveries(cluster: Cluster,
                                                                         source_bridge: BridgeProcess) -> None:
    secret = new_secret()
    cluster.secret("hris-webhook", {"secret": secret})
    cluster.create(api.PROFILE_PLURAL, "northwind", PROFILE)
    cluster.create(api.SOURCE_PLURAL, "hris", {"vendor": "standard", "secretRef": {"name": "hris-webhook",
                   "key": "secret"}, "profileRef": {"name": "northwind"}})
    payload = example_payload("E-4242")
    payload["employee"] |= {"team": "Platform", "tech_stack": [], "schedule": []}
    payload.pop("company")
    body = json.dumps(payload).encode()
    with httpx.Client(base_url=source_bridge.url, timeout=30) as http:
        first = http.post("/webhooks/sources/hris", content=body, headers=signed(secret, body, "evt-1"))
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "accepted"
        again = http.post("/webhooks/sources/hris", content=body, headers=signed(secret, body, "evt-1"))
        assert again.json()["status"] == "duplicate"
        forged = http.post("/webhooks/sources/hris", content=body, headers=signed(new_secret(), body, "evt-2"))
        assert forged.status_code == 401
    [video] = cluster.videos()
    assert video["metadata"]["name"] == first.json()["jobs"][0]["job_id"]
    spec = video["spec"]
    assert spec["company"]["name"] == "Northwind"
    assert spec["employee"]["techStack"] == ["Go", "Kubernetes"]
    assert spec["employee"]["schedule"][0]["items"] == ["Laptop setup", "Lunch with the team"]
    assert spec["script"]["tone"] == "professional"
    assert spec["source"]["name"] == "hris" and spec["source"]["deliveryId"] == "evt-1"
    status = wait_for(lambda: (cluster.source("hris").get("status") or {}).get("deliveries", {}).get("rejected"))
    assert status == 1
    deliveries = cluster.source("hris")["status"]["deliveries"]
    assert (deliveries["accepted"], deliveries["duplicate"], deliveries["rejected"]) == (1, 1, 1)
    assert cluster.ready("hris") == ("True", "Ready")


def test_a_source_whose_secret_is_missing_is_not_ready_and_creates_nothing(cluster: Cluster,
                                                                          source_bridge: BridgeProcess) -> None:
    cluster.create(api.PROFILE_PLURAL, "northwind", PROFILE)
    cluster.create(api.SOURCE_PLURAL, "broken", {"vendor": "standard", "secretRef": {"name": "missing-secret",
                   "key": "secret"}, "profileRef": {"name": "northwind"}})
    # Without any delivery, the bridge's refresher writes the condition.
    assert wait_for(lambda: cluster.ready("broken")) == ("False", "SecretNotFound")
    body = json.dumps(example_payload("E-1")).encode()
    with httpx.Client(base_url=source_bridge.url, timeout=30) as http:
        response = http.post("/webhooks/sources/broken", content=body, headers=signed(new_secret(), body, "e1"))
    assert response.status_code == 503 and response.headers["retry-after"]
    assert cluster.videos() == []
    # Fixed by the administrator: ready again without a delivery.
    cluster.secret("missing-secret", {"secret": new_secret()})
    assert wait_for(lambda: cluster.ready("broken") == ("True", "Ready"))


def test_a_secret_the_role_does_not_name_is_not_readable(cluster: Cluster, source_bridge: BridgeProcess) -> None:
    cluster.secret("someone-elses", {"secret": new_secret()})
    cluster.create(api.PROFILE_PLURAL, "northwind", PROFILE)
    cluster.create(api.SOURCE_PLURAL, "snoop", {"vendor": "standard", "secretRef": {"name": "someone-elses",
                   "key": "secret"}, "profileRef": {"name": "northwind"}})
    assert wait_for(lambda: cluster.ready("snoop")) == ("False", "SecretNotFound")
