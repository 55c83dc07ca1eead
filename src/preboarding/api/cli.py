"""``preboarding crd``: print or write the CRDs (OnboardingVideo, OnboardingSource, OnboardingProfile)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("crd", help="print the CRDs (or write them with --out-dir)")
    parser.add_argument("--out-dir", type=Path, help="write one YAML file per CRD into this folder")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from preboarding.api.crd import KINDS, render_crd_yaml, write_crds

    if args.out_dir:
        for path in write_crds(args.out_dir):
            print(path)
    else:
        sys.stdout.write("---\n".join(render_crd_yaml(kind) for kind in KINDS))
    return 0
