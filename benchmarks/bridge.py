"""Bridge benchmark: N signed new-hire webhooks, C at a time, against the bridge on the test ground.

The bridge runs as ``preboarding bridge`` (uvicorn) in a subprocess with a least-privilege
ServiceAccount token, in front of the ground's real apiserver and etcd; every webhook is for a distinct
employee, so every one creates an OnboardingVideo. Loopback only, bounded in count and time.
Prints accepted/s, latency percentiles, errors, and checks that the namespace holds one video per
accepted webhook.

    .venv/bin/python -m benchmarks.bridge [--webhooks 2000] [--concurrency 32]   (or benchmarks/bridge.py)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, Python puts benchmarks/ first on sys.path, where a file could shadow a module of the
# same name; the source tree goes there instead (for the tests' support modules, tests.*).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(ROOT))

from kubernetes import client as k8s  # noqa: E402
from tests.integration.bridge.harness import (  # noqa: E402
    BridgeProcess,
    example_payload,
    grant_bridge_access,
    mint_token,
    write_kubeconfig,
)

from preboarding import api  # noqa: E402
from preboarding.api.payload import NewHirePayload, build_onboarding_video  # noqa: E402
from preboarding.testenv.ground import Ground, GroundInfo  # noqa: E402
from preboarding.testenv.kube import admin_api_client, apply_crd  # noqa: E402


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams (plain or TLS).

    The load generator shares the 2 cores with the bridge, the apiserver and etcd; this costs a
    fraction of a general-purpose client's CPU per request, leaving the cores to what is measured.
    """

    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.ssl_context = host, port, ssl_context
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port, ssl=self.ssl_context)
        assert self._reader is not None
        head = [f"POST {path} HTTP/1.1", f"host: {self.host}:{self.port}", f"content-length: {len(body)}",
                *(f"{k}: {v}" for k, v in headers.items())]
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        try:
            response_head = (await self._reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(response_head[0].split(" ", 2)[1])
            fields = dict(line.lower().split(":", 1) for line in response_head[1:] if ":" in line)
            if "chunked" in fields.get("transfer-encoding", ""):
                while size := int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    await self._reader.readexactly(size + 2)
                await self._reader.readuntil(b"\r\n")  # no trailers are sent here
            else:
                await self._reader.readexactly(int(fields.get("content-length", "0")))
            if fields.get("connection", "").strip() == "close":
                self.close()
        except BaseException:
            self.close()
            raise
        return status

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = self._reader = None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_cpu(info: GroundInfo) -> float:
    """CPU time used so far by the ground's apiserver and etcd (shared with anything else using them)."""
    return sum(_cpu_seconds(info.pids[name]) for name in ("kube-apiserver", "etcd"))


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _load(connect: Callable[[], RawHttp], path: str, requests: list[tuple[bytes, dict[str, str]]],
                concurrency: int, deadline: float) -> tuple[list[float], dict[str, int], float]:
    """Closed loop: ``concurrency`` workers, each sending the next request when its previous one is answered."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    queue = list(reversed(requests))

    async def worker() -> None:
        client = connect()
        try:
            while queue and time.monotonic() < deadline:
                body, headers = queue.pop()
                start = time.perf_counter()
                try:
                    key = str(await client.post(path, body, headers))
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    key = type(exc).__name__
                latencies.append(time.perf_counter() - start)
                outcomes[key] = outcomes.get(key, 0) + 1
        finally:
            client.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, outcomes, time.perf_counter() - start


def _report(label: str, latencies: list[float], outcomes: dict[str, int], elapsed: float, ok: str) -> int:
    accepted = outcomes.get(ok, 0)
    errors = sum(v for k, v in outcomes.items() if k != ok)
    print(f"{label}: {len(latencies)} requests in {elapsed:.2f} s; accepted {accepted} "
          f"({accepted / elapsed:.0f}/s); errors {errors}{' ' + str(outcomes) if errors else ''}")
    print(f"{'':>{len(label)}}  latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p90 {_pct(latencies, 0.90) * 1000:.1f} ms, p99 {_pct(latencies, 0.99) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms")
    return accepted


def _signed(bridge: BridgeProcess, count: int, tag: str) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    for n in range(count):
        body = json.dumps(example_payload(f"{tag}-{n:05d}")).encode()
        out.append((body, bridge.sign(body, f"msg-{tag}-{n}")))
    return out


def _manifests(namespace: str, token: str, count: int, tag: str) -> list[tuple[bytes, dict[str, str]]]:
    """The same OnboardingVideos the bridge would create, as direct apiserver requests (the baseline)."""
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    return [(json.dumps(build_onboarding_video(NewHirePayload.model_validate(example_payload(f"{tag}-{n:05d}")),
                                               namespace)).encode(), headers) for n in range(count)]


def _count_videos(admin: Any, namespace: str) -> int:
    objects: Any = k8s.CustomObjectsApi(admin)
    stored, token = 0, None
    while True:
        page = objects.list_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL,
                                                     limit=500, _continue=token)
        stored += len(page["items"])
        token = page["metadata"].get("continue")
        if not token:
            return stored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=64, help="requests sent first and not measured")
    parser.add_argument("--timeout", type=float, default=240, help="stop sending after this many seconds")
    parser.add_argument("--baseline", action="store_true",
                        help="also create the same number of videos directly on the apiserver (no bridge), "
                             "with the same token, client and concurrency: the ceiling the bridge sits under")
    parser.add_argument("--keep", action="store_true", help="keep the namespace for inspection")
    args = parser.parse_args()
    if args.webhooks + args.warmup > 20000 or not 1 <= args.concurrency <= 256:
        parser.error("bounded on purpose: at most 20,000 webhooks and 256 concurrent")

    ground = Ground.default()
    ground.start()
    info = ground.info()
    admin = admin_api_client(info)
    apply_crd(admin)
    namespace = f"bench-bridge-{uuid.uuid4().hex[:6]}"
    core = k8s.CoreV1Api(admin)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    log = out / "bench-bridge.log"
    log.write_text("")
    bridge: BridgeProcess | None = None
    status = 1
    try:
        grant_bridge_access(admin, namespace)
        token = mint_token(admin, namespace)
        kubeconfig = write_kubeconfig(out / "bench-bridge.kubeconfig", info, token)
        # The limiter stays in the request path, set far above the load (one client address sends it all).
        bridge = BridgeProcess(info, namespace, kubeconfig, log, {
            "PREBOARDING_RATE_LIMIT_PER_MINUTE": "100000000", "PREBOARDING_RATE_LIMIT_BURST": "1000000"}).start()
        tag = uuid.uuid4().hex[:6]
        path = "/webhooks/user-onboarding"

        def to_bridge() -> RawHttp:
            return RawHttp("127.0.0.1", bridge.port)  # type: ignore[union-attr]

        warmup = _signed(bridge, args.warmup, f"warm{tag}")
        measured = _signed(bridge, args.webhooks, f"E{tag}")
        asyncio.run(_load(to_bridge, path, warmup, args.concurrency, time.monotonic() + 60))
        cpu_before = _cpu_seconds(bridge.proc.pid) if bridge.proc else 0.0
        server_before = _server_cpu(info)
        latencies, outcomes, elapsed = asyncio.run(
            _load(to_bridge, path, measured, args.concurrency, time.monotonic() + args.timeout))
        bridge_cpu = (_cpu_seconds(bridge.proc.pid) - cpu_before) if bridge.proc else 0.0
        server_cpu = _server_cpu(info) - server_before
        rss = _rss_mib(bridge.proc.pid) if bridge.proc else 0.0
        bridge.stop()

        print(f"{args.webhooks} signed webhooks for distinct employees, {args.concurrency} concurrent, "
              f"after {args.warmup} warm-up; bridge -> apiserver with a least-privilege token")
        accepted = _report("bridge", latencies, outcomes, elapsed, ok="202")
        print(f"{'':>6}  CPU per webhook: bridge {bridge_cpu / max(1, len(latencies)) * 1000:.1f} ms, "
              f"apiserver + etcd {server_cpu / max(1, len(latencies)) * 1000:.1f} ms; bridge peak RSS {rss:.0f} MiB")
        expected = accepted + args.warmup
        stored = _count_videos(admin, namespace)
        print(f"{'':>6}  OnboardingVideos in the namespace: {stored} (expected {expected})")
        status = 0 if accepted == len(latencies) == args.webhooks and stored == expected else 1

        if args.baseline:
            ca = ssl.create_default_context(cafile=str(info.ca_file))
            host, port = info.api_server.removeprefix("https://").rsplit(":", 1)
            api_path = f"/apis/{api.GROUP}/{api.VERSION}/namespaces/{namespace}/{api.PLURAL}"

            def to_apiserver() -> RawHttp:
                return RawHttp(host, int(port), ca)

            direct = _manifests(namespace, token, args.webhooks, f"D{tag}")
            asyncio.run(_load(to_apiserver, api_path, _manifests(namespace, token, args.warmup, f"W{tag}"),
                              args.concurrency, time.monotonic() + 60))
            server_before = _server_cpu(info)
            base = asyncio.run(_load(to_apiserver, api_path, direct, args.concurrency,
                                     time.monotonic() + args.timeout))
            server_cpu = _server_cpu(info) - server_before
            _report("apiserver directly", *base, ok="201")
            print(f"{'':>18}  CPU per create: apiserver + etcd {server_cpu / max(1, len(base[0])) * 1000:.1f} ms")
    finally:
        if bridge:
            bridge.stop()
        if args.keep:
            print(f"kept namespace {namespace}")
        else:
            core.delete_namespace(namespace)
    return status


if __name__ == "__main__":
    sys.exit(main())
