"""Schema-driven fuzzing of the OpenAPI document: no input, valid or not, gets a 5xx.

Runs on the in-memory repository, 15 examples per operation and mode (a few seconds in total); the
bodies come from the documented schemas, in both positive and negative generation modes. A second,
plain hypothesis test throws arbitrary bytes and headers at the webhook.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preboarding.bridge.deps import BridgeDeps
from preboarding.bridge.main import create_app
from preboarding.storage import LocalStore

from .conftest import TOKEN, example_payload, make_settings
from .fakes import FakeClock, InMemoryVideoRepository

_repository = InMemoryVideoRepository("hr")
_clock = FakeClock()
_store_dir = tempfile.TemporaryDirectory(prefix="bridge-fuzz-")  # removed when the session ends
_app = create_app(
    make_settings(dev_output_enabled=True, max_body_bytes=4096),
    BridgeDeps(repository=_repository, store=LocalStore(Path(_store_dir.name)), clock=_clock, monotonic=_clock),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)
_client = TestClient(_app, raise_server_exceptions=False)


def _seed() -> None:
    """A few jobs in every phase, so that generated ids sometimes hit real resources."""
    from preboarding.api.payload import NewHirePayload, build_onboarding_video

    for n, phase in enumerate(["Pending", "Running", "Succeeded", "Failed"]):
        payload = example_payload()
        payload["employee"]["id"] = f"{n}"
        manifest = build_onboarding_video(NewHirePayload.model_validate(payload), "hr")
        name = manifest["metadata"]["name"]
        _repository.objects[name] = {**manifest, "metadata": {**manifest["metadata"], "uid": "u",
                                                              "resourceVersion": "1", "generation": 1}}
        _repository.set_status(name, {"phase": phase, "videoKey": f"hr/{name}/u/video.mp4"})


_seed()


@schema.given(authenticated=st.booleans())
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_input_makes_a_server_error(case: schemathesis.Case, authenticated: bool) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"} if authenticated else {}
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text)


_ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_WEBHOOK_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.sampled_from(["application/json", "application/json; charset=latin-1", "text/plain",
                                         "", "application/json;;", "multipart/form-data; boundary=x"]),
        "webhook-id": st.text(_ASCII, max_size=300),
        "webhook-timestamp": st.one_of(st.integers().map(str), st.text(_ASCII, max_size=20)),
        "webhook-signature": st.text(_ASCII, max_size=200),
        "authorization": st.sampled_from([f"Bearer {TOKEN}", "Bearer", "Basic abc", f"bearer  {TOKEN} "]),
        "content-length": st.sampled_from(["0", "-1", "abc", "99999999999999999999", "10"]),
    },
)


@given(body=st.one_of(st.binary(max_size=600), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20).map(lambda v: json.dumps(v).encode())), headers=_WEBHOOK_HEADERS)
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_arbitrary_webhook_requests_never_make_a_server_error(body: bytes, headers: dict[str, str]) -> None:
    response = _client.post("/webhooks/user-onboarding", content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text)
