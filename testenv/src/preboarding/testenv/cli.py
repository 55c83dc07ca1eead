"""``preboarding-testenv up|down|status|env``: the test ground from the command line (``make testenv``).

A console script of the test-only distribution preboarding-testenv, not a subcommand of the product's
``preboarding`` command: the images and the product wheel do not ship the test ground.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from preboarding.testenv.ground import Ground, GroundError
from preboarding.testenv.kube import admin_api_client, apply_crd


def build_parser() -> argparse.ArgumentParser:
    """The ``preboarding-testenv`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="preboarding-testenv",
        description="Start/stop the local test ground (apiserver, etcd, MinIO, SMTP on 127.0.0.1).",
    )
    parser.add_argument("action", choices=["up", "down", "status", "env"], help="what to do")
    parser.add_argument("--node", action="store_true",
                        help="up: add a real node (kube-scheduler, containerd, kubelet; root, `make node-deps`)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    return _run(build_parser().parse_args(argv))


def _run(args: argparse.Namespace) -> int:
    ground = Ground.default()
    if args.action == "down":
        ground.stop()
        # A ground the e2e tests kept (PREBOARDING_KEEP_TESTENV=1) lives inside this one's folder.
        e2e = Ground(ground.root / "e2e")
        if e2e.state_file.exists() or (e2e.root / "pids").is_dir():
            e2e.stop()
        print("test ground stopped")
        return 0
    if args.action == "status":
        running = ground.running()
        print("running" if running else "not running")
        return 0 if running else 1
    if args.action == "env":
        if not ground.running():
            print("the test ground is not running: run `make testenv`", file=sys.stderr)
            return 1
        sys.stdout.write((ground.root / "env").read_text())
        return 0
    start = time.monotonic()
    try:
        started = ground.start(node=args.node)
        if not args.node:  # a ground with a node is for `helm install`, which brings the CRDs itself
            apply_crd(admin_api_client(ground.info()))
    except GroundError as exc:
        print(f"preboarding-testenv: {exc}", file=sys.stderr)
        return 1
    info = ground.info()
    verb = "started" if started else "already running"
    print(f"test ground {verb} in {time.monotonic() - start:.1f} s")
    print(f"  apiserver  {info.api_server}   kubeconfig {info.kubeconfig}")
    print(f"  minio      http://{info.s3_endpoint}   bucket {info.s3_bucket}")
    print(f"  smtp       {info.smtp_host}:{info.smtp_port}   maildir {info.mail_dir}")
    if "kubelet" in info.pids:
        print(f"  node       localhost (kubelet 127.0.0.1:{info.ports['kubelet']}, containerd "
              f"{ground.root / 'node' / 'containerd.sock'}; project images imported)")
        print("             no CRDs applied: `helm install` the chart (see tests/e2e/conftest.py for the values)")
    print(f"  source {ground.root / 'env'} for the environment; `make testenv-down` stops it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
