"""Builds the bridge's FastAPI app: settings + adapters in, routers, middleware and error handlers wired."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from preboarding.api import __version__
from preboarding.api.payload import NewHirePayload
from preboarding.bridge.deps import BridgeDeps, BridgeState
from preboarding.bridge.errors import install_error_handlers
from preboarding.bridge.metrics import MetricsMiddleware
from preboarding.bridge.repository import RepositoryError
from preboarding.bridge.routes import dev_output, jobs, mail_events, meta, sources, videos, watch, webhooks
from preboarding.bridge.settings import BridgeSettings
from preboarding.bridge.source_repository import SourceRepository
from preboarding.bridge.sources import refresh_readiness

DESCRIPTION = """\
Receives HR "new hire" webhooks and turns each into an `OnboardingVideo` resource that the Preboarding
operator renders into a personalized welcome video. Job ids are the resources' names.
"""
log = logging.getLogger(__name__)
DOCS_URL, REDOC_URL, DOCS_STATIC_URL = "/docs", "/redoc", "/docs/static"


def build_deps(settings: BridgeSettings) -> BridgeDeps:
    """The real adapters: the apiserver (in-cluster or KUBECONFIG) and the S3 store."""
    from preboarding.bridge.repository import KubeVideoRepository, load_kube_configuration
    from preboarding.bridge.source_repository import KubeSourceRepository
    from preboarding.storage import S3Store

    configuration = load_kube_configuration()
    return BridgeDeps(
        repository=KubeVideoRepository(settings.namespace, timeout=settings.kube_timeout_seconds,
                                       configuration=configuration),
        store=S3Store(settings.store),
        sources=KubeSourceRepository(settings.namespace, timeout=settings.kube_timeout_seconds,
                                     configuration=configuration) if settings.sources_enabled else None,
    )


async def refresh_sources(repository: SourceRepository, interval: float) -> None:
    """Every ``interval`` seconds, write each source's Ready condition (a missing Secret shows without a delivery)."""
    while True:
        try:
            await refresh_readiness(repository)
        except RepositoryError as exc:
            log.warning("source readiness not refreshed: %s", exc.message)
        except Exception:  # a bug must not stop the refresher for the bridge's lifetime
            log.exception("source readiness refresh failed")
        await asyncio.sleep(interval)


def create_app(settings: BridgeSettings, deps: BridgeDeps | None = None) -> FastAPI:
    """The bridge app. Without ``deps`` it talks to the real apiserver and store."""
    deps = deps or build_deps(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        refresher = None
        if deps.sources is not None and settings.source_refresh_seconds > 0:
            refresher = asyncio.create_task(refresh_sources(deps.sources, settings.source_refresh_seconds))
        yield
        if refresher is not None:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
        deps.repository.close()
        if deps.sources is not None:
            deps.sources.close()

    # /docs and /redoc serve Swagger UI and ReDoc from the package, not a CDN: they work air-gapped.
    app = FastAPIOffline(
        docs_url=DOCS_URL,
        redoc_url=REDOC_URL,
        static_url=DOCS_STATIC_URL,
        title="Preboarding webhook bridge",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.bridge = BridgeState(settings=settings, deps=deps)
    install_error_handlers(app)
    app.include_router(meta.router)
    app.include_router(webhooks.router)
    app.include_router(sources.router)
    app.include_router(jobs.router)
    app.include_router(videos.router)
    app.include_router(watch.router)
    app.include_router(mail_events.router)
    if settings.dev_output_enabled:
        app.include_router(dev_output.router)
    _document_payload(app)

    app.add_middleware(MetricsMiddleware, metrics=app.state.bridge.metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["authorization", "content-type", "webhook-id", "webhook-timestamp", "webhook-signature"],
            max_age=600,
        )
    return app


def _document_payload(app: FastAPI) -> None:
    """Put ``NewHirePayload`` (read by hand from the raw body) into the OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        payload = NewHirePayload.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(payload.pop("$defs", {}))
        components["NewHirePayload"] = payload
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
