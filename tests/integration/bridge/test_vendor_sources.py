"""Each HR vendor's webhook through its OnboardingSource, on the real apiserver.

The bridge runs as a process with the chart's least privilege (the Secrets its sources name, no others);
vendors whose webhooks carry only ids are looked up in a local server speaking that vendor's API (the
same ``VendorApiClient`` as in production). Each delivery is signed the vendor's way
(``preboarding.bridge.vendors.signers``, itself checked against each vendor's documented scheme) over the
vendor-shaped samples in ``tests/samples/hr``. Per vendor: the API down answers 503 and creates nothing;
the vendor's redelivery then makes exactly one video with the mapped fields and the profile's team
defaults; a second redelivery is a duplicate; the vendor's removal deletes the video.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from preboarding import api
from preboarding.api.sources import Vendor
from preboarding.bridge.vendors.signers import SIGNERS
from preboarding.testenv.ground import GroundInfo
from tests.protocol_servers.ashby_api import AshbyApiServer
from tests.protocol_servers.bamboohr_api import BambooHRApiServer
from tests.protocol_servers.base import ProtocolServer
from tests.protocol_servers.hibob_api import HiBobApiServer
from tests.protocol_servers.lever_api import LeverApiServer

from .harness import BridgeProcess, Cluster, grant_bridge_access, mint_token, new_secret, wait_for, write_kubeconfig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "hr"
WEBHOOK_SECRETS = "hr-webhooks"
API_TOKENS = "hr-api-tokens"
PROFILE = {
    "company": {"name": "Northwind", "brandColor": "#0F766E"},
    "defaults": {"script": {"tone": "professional"}},
    "hrContact": "people@northwind.example",
    "teams": [{"match": {"department": "data"}, "techStack": ["Python", "dbt", "Kubernetes"],
               "schedule": [{"day": "Monday", "items": ["Laptop setup", "Data platform tour"]}],
               "buddy": "Ada Quinn"},
              {"techStack": ["Slack"]}],
}


@dataclass(frozen=True)
class VendorCase:
    """One vendor: its samples, its API server (None: its hire webhook is complete), what the video shows."""

    vendor: Vendor
    server: Callable[[], ProtocolServer] | None
    person_id: str
    removal: str
    api_url: Callable[[Any], str] = lambda server: str(server.api_url)
    api_token: Callable[[Any], str] = lambda server: str(server.api_key)


CASES = [
    VendorCase(Vendor.GREENHOUSE, None, "88001234", "unhire.json"),
    VendorCase(Vendor.ASHBY, AshbyApiServer, "f9e52a51-a075-4116-a7b8-484deba69004", "candidate-delete.json",
               api_url=lambda server: str(server.url)),
    VendorCase(Vendor.LEVER, LeverApiServer, "05c248f9-ccb1-435f-bab5-0ec608aec263", "archive-change.json"),
    VendorCase(Vendor.BAMBOOHR, BambooHRApiServer, "4711", "deleted.json"),
    VendorCase(Vendor.HIBOB, HiBobApiServer, "3332883894235038486", "deleted.json",
               api_token=lambda server: f"{server.service_user_id}:{server.token}"),
]


@pytest.fixture
def vendor_bridge(bridge_factory: Callable[..., BridgeProcess], kube_api: Any, ground: GroundInfo,
                  namespace: str, tmp_path: Path) -> BridgeProcess:
    """The bridge with the chart's Role for sources naming the two Secrets an administrator creates."""
    grant_bridge_access(kube_api, namespace, secret_names=[WEBHOOK_SECRETS, API_TOKENS])
    kubeconfig = write_kubeconfig(tmp_path / "bridge.kubeconfig", ground, mint_token(kube_api, namespace))
    return bridge_factory(kubeconfig, PREBOARDING_SOURCE_REFRESH_SECONDS="1")


@pytest.fixture
def vendor_api(request: pytest.FixtureRequest) -> Iterator[ProtocolServer | None]:
    case: VendorCase = request.param
    if case.server is None:
        yield None
        return
    with case.server() as server:
        yield server


def connect(cluster: Cluster, case: VendorCase, server: ProtocolServer | None) -> str:
    """What the administrator applies for one vendor (docs/hr-vendors.md): Secrets, profile, source."""
    secret = new_secret()
    spec: dict[str, Any] = {"vendor": case.vendor.value, "secretRef": {"name": WEBHOOK_SECRETS, "key": "webhook"},
                            "profileRef": {"name": "northwind"}}
    cluster.secret(WEBHOOK_SECRETS, {"webhook": secret})
    if server is not None:
        cluster.secret(API_TOKENS, {"token": case.api_token(server)})
        spec["api"] = {"url": case.api_url(server), "tokenSecretRef": {"name": API_TOKENS, "key": "token"}}
    cluster.create(api.PROFILE_PLURAL, "northwind", PROFILE)
    cluster.create(api.SOURCE_PLURAL, case.vendor.value, spec)
    return secret


def sample(case: VendorCase, name: str, secret: str) -> tuple[dict[str, str], bytes]:
    """A sample signed as the vendor signs it now (Lever: a new token inside the body)."""
    return SIGNERS[case.vendor]((SAMPLES / case.vendor.value / name).read_bytes(), secret, time.time())


def post(bridge: BridgeProcess, case: VendorCase, signed: tuple[dict[str, str], bytes]) -> httpx.Response:
    headers, body = signed
    with httpx.Client(base_url=bridge.url, timeout=30) as http:
        return http.post(f"/webhooks/sources/{case.vendor.value}", content=body, headers=headers)


@pytest.mark.parametrize("vendor_api", CASES, indirect=True, ids=[c.vendor.value for c in CASES])
def test_a_vendor_hire_makes_one_video_once_and_its_removal_deletes_it(
        request: pytest.FixtureRequest, cluster: Cluster, vendor_bridge: BridgeProcess,
        vendor_api: ProtocolServer | None) -> None:
    case: VendorCase = request.node.callspec.params["vendor_api"]
    secret = connect(cluster, case, vendor_api)
    assert wait_for(lambda: cluster.ready(case.vendor.value)) == ("True", "Ready")
    hire = sample(case, "hire.json", secret)

    if vendor_api is not None:
        # The vendor's API is down: 503 with Retry-After (every vendor redelivers on a 5xx), nothing written.
        vendor_api.fail_next(503, times=50)
        down = post(vendor_bridge, case, hire)
        assert down.status_code == 503, down.text
        assert int(down.headers["retry-after"]) > 0
        assert down.json()["error"] == "vendor_api_unavailable"
        assert cluster.videos() == []
        vendor_api.clear()

    first = post(vendor_bridge, case, hire)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted", first.json()
    [video] = cluster.videos()
    assert video["metadata"]["name"] == first.json()["jobs"][0]["job_id"]
    spec = video["spec"]
    employee = spec["employee"]
    assert (employee["id"], employee["name"], employee["email"]) == (
        case.person_id, "Zoë Ångström-Núñez", "zoe.angstrom@example.com")
    assert (employee["role"], employee["startDate"], employee["location"]) == (
        "Data Platform Engineer", "2026-09-14", "Berlin")
    # The profile's entry for the department the vendor reported (Ashby: through its API).
    assert employee["techStack"] == ["Python", "dbt", "Kubernetes"]
    assert employee["schedule"] == [{"day": "Monday", "items": ["Laptop setup", "Data platform tour"]}]
    assert employee["buddy"] == "Ada Quinn"
    assert spec["company"]["name"] == "Northwind" and spec["script"]["tone"] == "professional"
    assert (spec["source"]["name"], spec["source"]["vendor"]) == (case.vendor.value, case.vendor.value)
    assert spec["source"]["deliveryId"]
    assert spec["profile"]["name"] == "northwind"

    again = post(vendor_bridge, case, hire)
    assert again.status_code == 200 and again.json()["status"] == "duplicate", again.text
    assert [v["metadata"]["uid"] for v in cluster.videos()] == [video["metadata"]["uid"]]

    removed = post(vendor_bridge, case, sample(case, case.removal, secret))
    assert removed.status_code == 200 and removed.json()["status"] == "deleted", removed.text
    assert wait_for(lambda: cluster.videos() == [])
    deliveries = wait_for(lambda: (cluster.source(case.vendor.value).get("status") or {}).get("deliveries", {})
                          .get("deleted") and cluster.source(case.vendor.value)["status"]["deliveries"])
    assert (deliveries["accepted"], deliveries["duplicate"], deliveries["deleted"]) == (1, 1, 1)


@pytest.mark.parametrize("vendor_api", [CASES[2]], indirect=True, ids=["lever"])
def test_a_refused_api_token_is_a_502_and_marks_the_source_not_ready(
        cluster: Cluster, vendor_bridge: BridgeProcess, vendor_api: ProtocolServer | None) -> None:
    case = CASES[2]
    assert vendor_api is not None
    secret = connect(cluster, case, vendor_api)
    cluster.core.patch_namespaced_secret(API_TOKENS, cluster.namespace, {"stringData": {"token": "revoked-key"}})
    response = post(vendor_bridge, case, sample(case, "hire.json", secret))
    assert response.status_code == 502, response.text
    assert response.json()["error"] == "vendor_api_unauthorized"
    assert cluster.videos() == []
    assert cluster.ready(case.vendor.value) == ("False", "ApiUnauthorized")


@pytest.mark.parametrize("vendor_api", [CASES[3]], indirect=True, ids=["bamboohr"])
def test_a_bamboohr_batch_makes_one_video_per_employee_or_none(
        cluster: Cluster, vendor_bridge: BridgeProcess, vendor_api: ProtocolServer | None) -> None:
    case = CASES[3]
    assert isinstance(vendor_api, BambooHRApiServer)
    secret = connect(cluster, case, vendor_api)
    batch = sample(case, "field-based-created.json", secret)
    # BambooHR does not know the second employee yet: the batch is not half-created.
    response = post(vendor_bridge, case, batch)
    assert response.status_code == 503, response.text
    assert cluster.videos() == []
    vendor_api.employees["4712"] = {"id": "4712", "firstName": "Tomás", "lastName": "Example",
                                    "workEmail": "tomas@work.example.com", "jobTitle": "Support Engineer",
                                    "hireDate": "2026-09-21"}
    response = post(vendor_bridge, case, batch)
    assert response.status_code == 200 and response.json()["status"] == "accepted", response.text
    people = sorted((v["spec"]["employee"]["id"], v["spec"]["employee"]["name"], v["spec"]["employee"]["email"])
                    for v in cluster.videos())
    assert people == [("4711", "Zoë Ångström-Núñez", "zoe.angstrom@example.com"),
                      ("4712", "Tomás Example", "tomas@work.example.com")]
