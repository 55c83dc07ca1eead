"""Builds the bridge's FastAPI app: settings + adapters in, routers, middleware and error handlers wired."""

from __future__ import annotations

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
from preboarding.bridge.routes import dev_output, jobs, meta, videos, webhooks
from preboarding.bridge.settings import BridgeSettings

DESCRIPTION = """\
Receives HR "new hire" webhooks and turns each into an `OnboardingVideo` resource that the Preboarding
operator renders into a personalized welcome video. Job ids are the resources' names.
"""
DOCS_URL, REDOC_URL, DOCS_STATIC_URL = "/docs", "/redoc", "/docs/static"


def build_deps(settings: BridgeSettings) -> BridgeDeps:
    """The real adapters: the apiserver (in-cluster or KUBECONFIG) and the S3 store."""
    from preboarding.bridge.repository import KubeVideoRepository
    from preboarding.storage import S3Store

    return BridgeDeps(
        repository=KubeVideoRepository(settings.namespace, timeout=settings.kube_timeout_seconds),
        store=S3Store(settings.store),
    )


def create_app(settings: BridgeSettings, deps: BridgeDeps | None = None) -> FastAPI:
    """The bridge app. Without ``deps`` it talks to the real apiserver and store."""
    deps = deps or build_deps(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        deps.repository.close()

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
    app.include_router(jobs.router)
    app.include_router(videos.router)
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
