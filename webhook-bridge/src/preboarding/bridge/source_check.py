"""``preboarding source test NAME --payload FILE``: sign a sample the way the source's vendor does and post it.

A first check by hand after applying an OnboardingSource: it reads the source and its signing Secret
with your kubeconfig (so it needs read access to both), signs the file like the HR system would, posts
it to the bridge and prints the answer. Nothing here is used by the bridge itself.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from typing import Any

from preboarding import api


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("source", help="work with OnboardingSources (HR systems' webhooks)")
    commands = parser.add_subparsers(dest="source_command", metavar="COMMAND", required=True)
    test = commands.add_parser("test", help="sign a sample payload as the source's vendor would and post it")
    test.add_argument("name", help="the OnboardingSource")
    test.add_argument("--payload", required=True, type=argparse.FileType("rb"),
                      help="the vendor's JSON, e.g. tests/samples/hr/greenhouse/hire.json")
    test.add_argument("--namespace", "-n", default=None, help="namespace of the source (default: the context's)")
    test.add_argument("--bridge", default="http://127.0.0.1:8080",
                      help="the bridge's base URL (default: %(default)s, e.g. after kubectl port-forward)")
    test.set_defaults(handler=_test)


def _namespace(explicit: str | None) -> str:
    if explicit:
        return explicit
    from kubernetes import config

    _, context = config.list_kube_config_contexts()
    return str((context or {}).get("context", {}).get("namespace") or "default")


def _test(args: argparse.Namespace) -> int:
    import httpx
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException

    from preboarding.api.sources import OnboardingSourceSpec, Vendor
    from preboarding.bridge.vendors.signers import SIGNERS, sign_generic

    body: bytes = args.payload.read()
    namespace = _namespace(args.namespace)
    config.load_kube_config()
    api_client = client.ApiClient()
    try:
        obj: Any = client.CustomObjectsApi(api_client).get_namespaced_custom_object(
            api.GROUP, api.VERSION, namespace, api.SOURCE_PLURAL, args.name)
        spec = OnboardingSourceSpec.model_validate(obj.get("spec") or {})
        secret_obj: Any = client.CoreV1Api(api_client).read_namespaced_secret(spec.secret_ref.name, namespace)
    except ApiException as exc:
        print(f"error: cannot read the source or its Secret in {namespace}: HTTP {exc.status} {exc.reason}",
              file=sys.stderr)
        return 2
    encoded = (secret_obj.data or {}).get(spec.secret_ref.key)
    if encoded is None:
        print(f"error: Secret {spec.secret_ref.name} has no key {spec.secret_ref.key}", file=sys.stderr)
        return 2
    secret = base64.b64decode(encoded).decode().strip()
    now = time.time()
    if spec.vendor is Vendor.GENERIC:
        if spec.signature is None:
            print("error: the generic source has no spec.signature", file=sys.stderr)
            return 2
        headers, body = sign_generic(body, secret, now, spec.signature)
    else:
        headers, body = SIGNERS[spec.vendor](body, secret, now)
    url = f"{args.bridge.rstrip('/')}/webhooks/sources/{args.name}"
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        print(f"error: cannot reach the bridge at {args.bridge}: {type(exc).__name__}", file=sys.stderr)
        return 1
    try:
        shown = json.dumps(response.json(), indent=2)
    except ValueError:
        shown = response.text
    print(f"HTTP {response.status_code} from {url}\n{shown}")
    return 0 if response.status_code == 200 else 1
