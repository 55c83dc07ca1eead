"""``preboarding crd``: print or write the OnboardingVideo CRD."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("crd", help="print the OnboardingVideo CRD (or write it with --out-dir)")
    parser.add_argument("--out-dir", type=Path, help="write the CRD YAML into this folder")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from preboarding.api.crd import render_crd_yaml, write_crd

    if args.out_dir:
        print(write_crd(args.out_dir))
    else:
        sys.stdout.write(render_crd_yaml())
    return 0
