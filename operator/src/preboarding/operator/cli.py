"""``preboarding operator``: run the kopf operator."""

from __future__ import annotations

import argparse


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

    import kopf
    from prometheus_client import start_http_server

    import preboarding.operator.handlers  # noqa: F401  (registers the handlers)
    from preboarding.operator.settings import OperatorSettings

    settings = OperatorSettings()  # fail fast with a clear message on bad configuration
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
    )
    return 0


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
