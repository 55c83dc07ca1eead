"""Operator benchmark: N OnboardingVideos created at once, stages that finish instantly.

Runs on the test ground (started if needed): the real apiserver and Job controller, the operator as a
subprocess, and the kubelet stand-in from the tests finishing every pod with exit code 0 at once.
Prints: time until all Jobs of each stage exist, per-stage orchestration overhead (a Job's creation
after the last Job it depends on completed, p50/p95), total time, and the operator's peak RSS.

    .venv/bin/python -m benchmarks.reconcile --videos 200   (or .venv/bin/python benchmarks/reconcile.py)

Not named operator.py: run as a script, that file would shadow the standard library's operator module.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, Python puts benchmarks/ first on sys.path, where a file could shadow a module of the
# same name; the source tree goes there instead (for the tests' support modules, tests.*).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(ROOT))

from kubernetes import client as k8s  # noqa: E402
from kubernetes import watch  # noqa: E402
from tests.integration.operator.harness import OperatorProcess, example_video  # noqa: E402
from tests.integration.operator.kubelet import KubeletStandIn  # noqa: E402

from preboarding import api  # noqa: E402
from preboarding.api.stages import STAGE_DEPENDENCIES, STAGES, Stage  # noqa: E402
from preboarding.testenv.ground import Ground  # noqa: E402
from preboarding.testenv.kube import admin_api_client, apply_crd  # noqa: E402


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep", action="store_true", help="keep the namespace for inspection")
    args = parser.parse_args()

    ground = Ground.default()
    ground.start()
    info = ground.info()
    client = admin_api_client(info)
    apply_crd(client)
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    core, batch = k8s.CoreV1Api(client), k8s.BatchV1Api(client)
    objects = k8s.CustomObjectsApi(client)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))

    created: dict[tuple[str, Stage], float] = {}
    completed: dict[tuple[str, Stage], float] = {}
    stop = threading.Event()

    def watch_jobs() -> None:
        # One ordered stream, resumed from the last resourceVersion: a re-list would stamp events
        # that happened during the gap with the time of the re-list.
        w = watch.Watch()
        version = batch.list_namespaced_job(namespace).metadata.resource_version
        while not stop.is_set():
            for event in w.stream(batch.list_namespaced_job, namespace, resource_version=version,
                                  timeout_seconds=30):
                job = event["object"]
                version = job.metadata.resource_version
                key = (job.metadata.owner_references[0].name, Stage(job.metadata.labels[api.LABEL_STAGE]))
                now = time.monotonic()
                created.setdefault(key, now)
                # SuccessCriteriaMet comes before Complete; the operator moves on at the first.
                if any(c.type in ("Complete", "SuccessCriteriaMet") and c.status == "True"
                       for c in job.status.conditions or []):
                    completed.setdefault(key, now)
                if stop.is_set():
                    break

    watcher = threading.Thread(target=watch_jobs, daemon=True)
    watcher.start()
    log = ROOT / "out" / "bench-operator.log"
    log.parent.mkdir(exist_ok=True)
    operator = OperatorProcess(info, namespace, log, {
        "PREBOARDING_MAX_RUNNING_JOBS_PER_NAMESPACE": str(args.videos * 2)}).start()
    kubelet = KubeletStandIn(client, namespace, {}, override=lambda stage, pod: 0).start()
    try:
        start = time.monotonic()
        names = [f"bench-{i:04d}" for i in range(args.videos)]
        for name in names:
            objects.create_namespaced_custom_object(api.GROUP, api.VERSION, namespace, api.PLURAL,
                                                    example_video(namespace, name))
        created_all = time.monotonic() - start
        deadline = start + args.timeout
        while time.monotonic() < deadline:
            done = sum(1 for n in names if (n, Stage.NOTIFY) in completed)
            if done == len(names):
                break
            time.sleep(0.5)
        total = time.monotonic() - start
        time.sleep(1)
        rss = _rss_kib(operator.proc.pid) if operator.proc else 0
    finally:
        kubelet.stop()
        operator.stop()
        stop.set()
        if not args.keep:
            core.delete_namespace(namespace)
        else:
            print(f"kept namespace {namespace}")

    finished = sum(1 for n in names if (n, Stage.NOTIFY) in completed)
    print(f"videos: {args.videos} created in {created_all:.1f} s; finished: {finished}; total {total:.1f} s")
    print(f"{'stage':<8} {'all Jobs created at':>20} {'overhead p50':>13} {'p95':>8}")
    for stage in STAGES:
        times = [created[(n, stage)] - start for n in names if (n, stage) in created]
        overheads = []
        for n in names:
            deps = [completed.get((n, d)) for d in STAGE_DEPENDENCIES[stage]]
            if (n, stage) in created and all(deps):
                ready = max(deps) if deps else None  # type: ignore[type-var]
                if ready is not None:
                    overheads.append(created[(n, stage)] - ready)
        last = f"{max(times):.1f} s" if len(times) == len(names) else f"{len(times)}/{len(names)}"
        p50 = f"{statistics.median(overheads) * 1000:.0f} ms" if overheads else "-"
        p95 = f"{_pct(overheads, 0.95) * 1000:.0f} ms" if overheads else "-"
        print(f"{stage.value:<8} {last:>20} {p50:>13} {p95:>8}")
    print(f"operator peak RSS: {rss / 1024:.0f} MiB; kubelet stand-in errors: {len(kubelet.errors)}")
    return 0 if finished == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
