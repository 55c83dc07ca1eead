"""``preboarding operator``: run the kopf operator."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from preboarding.operator.settings import OperatorSettings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("operator", help="run the operator (reconciles OnboardingVideos into Jobs)")
    parser.add_argument("--namespace", "-n", action="append", default=[],
                        help="namespace to watch (repeatable); default: all namespaces")
    parser.add_argument("--liveness", default="http://0.0.0.0:8080/healthz",
                        help="liveness endpoint URL to serve (default: %(default)s); '' to disable")
    parser.add_argument("--metrics-port", type=int, default=9090, help="Prometheus port; 0 to disable")
    parser.add_argument("--metrics-host", default="0.0.0.0")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--standalone", action="store_true",
                       help="no peering: only for a single replica (tests, local runs)")
    group.add_argument("--peering", default="preboarding",
                       help="kopf peering object name; replicas sharing it never both act (default: %(default)s)")
    parser.add_argument("--priority", type=int, default=None,
                        help="peering priority of this replica (default: derived from its pod name, so that "
                             "replicas differ; kopf pauses all replicas that share a priority)")
    parser.add_argument("--log-format", choices=["json", "text"], default=None,
                        help="default: json when not on a terminal")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import logging
    import sys

    settings = load_settings()
    if settings is None:
        return 2

    import kopf
    from prometheus_client import start_http_server

    from preboarding.operator import handlers  # registers the handlers

    log_format = args.log_format or ("text" if sys.stderr.isatty() else "json")
    kopf.configure(log_format=kopf.LogFormat.JSON if log_format == "json" else kopf.LogFormat.PLAIN,
                   verbose=False)
    logging.getLogger("kubernetes").setLevel(logging.WARNING)
    if args.metrics_port:
        start_http_server(args.metrics_port, addr=args.metrics_host)
    namespaces = args.namespace
    kopf.run(
        standalone=args.standalone,
        peering_name=None if args.standalone else args.peering,
        priority=args.priority if args.priority is not None else default_priority(settings.pod_name),
        clusterwide=not namespaces,
        namespaces=namespaces,
        liveness_endpoint=args.liveness or None,
        memo=kopf.Memo({handlers.MEMO_SETTINGS: settings}),  # the startup handler builds on these
    )
    return 0


def load_settings() -> OperatorSettings | None:
    """The operator's settings from the environment; None after printing what is wrong (no traceback)."""
    import sys

    from pydantic import ValidationError

    from preboarding.api.fields import NESTED_PREFIXES, describe_settings_error
    from preboarding.operator.settings import OperatorSettings
    from preboarding.storage import StoreSettings

    try:
        return OperatorSettings()
    except ValidationError as exc:
        # The store's settings are built by their own default factory from PREBOARDING_S3_*, so their
        # errors arrive as StoreSettings errors, located without the "store" field in front.
        prefix = NESTED_PREFIXES["store"] if exc.title == StoreSettings.__name__ else "PREBOARDING_"
        print(describe_settings_error(exc, "operator", prefix=prefix, delimiter="__"), file=sys.stderr)
        return None


def default_priority(pod_name: str | None) -> int:
    """A priority that differs between replicas: from the pod name, else from this host and process.

    The replica with the highest priority acts and the others stand by; equal priorities would make
    kopf pause every replica.
    """
    import hashlib
    import os
    import socket

    identity = pod_name or f"{socket.gethostname()}/{os.getpid()}"
    return int(hashlib.sha256(identity.encode()).hexdigest()[:7], 16) + 1
