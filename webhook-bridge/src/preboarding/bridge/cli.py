"""``preboarding bridge``: serve the webhook bridge with uvicorn (argparse only at import)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from preboarding.bridge import source_check

    source_check.register(subparsers)
    parser = subparsers.add_parser(
        "bridge",
        help="run the webhook bridge (HR new-hire webhooks -> OnboardingVideos)",
        description="Serve the webhook bridge. Configuration comes from PREBOARDING_* environment variables "
        "(see docs/bridge.md); Kubernetes access from the in-cluster service account or KUBECONFIG.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: %(default)s)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--log-format", choices=["json", "text"], default=None,
                        help="default: json when not on a terminal")
    parser.add_argument("--access-log", action="store_true", help="log every request (uvicorn's access log)")
    parser.add_argument("--check-config", action="store_true",
                        help="validate the configuration, print a summary and exit")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import sys

    from pydantic import ValidationError

    from preboarding.api.fields import describe_settings_error
    from preboarding.bridge.settings import BridgeSettings
    from preboarding.logs import configure_logging

    log_format = args.log_format or ("text" if sys.stderr.isatty() else "json")
    configure_logging(args.log_level, log_format)
    try:
        settings = BridgeSettings()
    except ValidationError as exc:
        print(describe_settings_error(exc, "bridge"), file=sys.stderr)
        return 2
    if args.check_config:
        print(f"configuration OK: namespace {settings.namespace}, {len(settings.webhook_secrets)} webhook "
              f"secret(s), {len(settings.bearer_tokens)} bearer token(s), store {settings.store.endpoint}")
        return 0

    import uvicorn
    from kubernetes.config import ConfigException

    from preboarding.bridge.main import create_app

    try:
        app = create_app(settings)
    except ConfigException as exc:
        print(f"no Kubernetes configuration: not in a cluster and no usable KUBECONFIG ({exc})", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,  # keep the logging configured above
        access_log=args.access_log,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
    )
    return 0
