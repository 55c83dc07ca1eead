"""The ``preboarding`` command: one entry point, a subcommand per component.

Each component registers its subcommand from a light module (argparse only); heavy imports happen
when the subcommand runs, so an image that installs one component's extra still gets a working CLI.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from preboarding.api import __version__

# subcommand -> module whose ``register(subparsers)`` adds it. The test ground is not one: it has its own
# test-only command, ``preboarding-testenv`` (testenv/pyproject.toml).
_SUBCOMMANDS = {
    "render": "preboarding.renderer.cli",
    "stage": "preboarding.renderer.cli",
    "operator": "preboarding.operator.cli",
    "bridge": "preboarding.bridge.cli",
    "crd": "preboarding.api.cli",
}


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser; components that are not installed are left out."""
    parser = argparse.ArgumentParser(
        prog="preboarding",
        description="Personalized welcome videos for new hires, rendered on Kubernetes.",
    )
    parser.add_argument("--version", action="version", version=f"preboarding {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in dict.fromkeys(_SUBCOMMANDS.values()):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # A component that is not part of this installation; anything else missing is a bug.
            if exc.name is None or not module_name.startswith(exc.name):
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    result = args.handler(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
