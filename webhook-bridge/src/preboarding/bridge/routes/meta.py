"""``GET /`` (name, version, uptime), ``GET /health`` and ``GET /metrics``; not rate-limited (probes, scrapes)."""

from __future__ import annotations

import asyncio

import anyio
from anyio import to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from preboarding.api import __version__
from preboarding.bridge import APP_NAME
from preboarding.bridge.deps import StateDep
from preboarding.bridge.models import CheckResult, HealthReport, ServiceInfo
from preboarding.bridge.repository import RepositoryError
from preboarding.storage import StoreError

router = APIRouter(tags=["meta"])


@router.get("/", response_model=ServiceInfo, summary="Name, version and uptime")
async def service_info(state: StateDep) -> ServiceInfo:
    return ServiceInfo(name=APP_NAME, version=__version__,
                       uptime_seconds=round(state.deps.monotonic() - state.started_at, 3))


async def _check_apiserver(state: StateDep) -> CheckResult:
    timeout = state.settings.health_timeout_seconds
    try:
        await asyncio.wait_for(state.deps.repository.ping(timeout), timeout + 1)
    except RepositoryError as exc:
        return CheckResult(ok=False, detail=exc.message)
    except TimeoutError:
        return CheckResult(ok=False, detail=f"the Kubernetes API server did not answer within {timeout:g} s")
    return CheckResult(ok=True, detail=f"OnboardingVideos in namespace {state.settings.namespace} can be listed")


async def _check_store(state: StateDep) -> CheckResult:
    timeout = state.settings.health_timeout_seconds
    try:
        with anyio.fail_after(timeout):
            await to_thread.run_sync(state.deps.store.ping, abandon_on_cancel=True)
    except TimeoutError:
        return CheckResult(ok=False, detail=f"the object store did not answer within {timeout:g} s")
    except StoreError as exc:  # the store's own, secret-free sentence, e.g. a missing bucket
        return CheckResult(ok=False, detail=str(exc))
    return CheckResult(ok=True, detail="the bucket is reachable")


def _check_config(state: StateDep) -> CheckResult:
    s = state.settings
    methods = []
    if s.webhook_secrets:
        methods.append(f"{len(s.webhook_secrets)} webhook secret(s)")
    if s.bearer_tokens:
        methods.append(f"{len(s.bearer_tokens)} bearer token(s)")
    return CheckResult(ok=bool(methods), detail="authentication: " + (", ".join(methods) or "none"))


@router.get(
    "/health",
    response_model=HealthReport,
    summary="Apiserver reachable, store reachable, configuration sane (503 if not)",
    responses={503: {"model": HealthReport, "description": "Something is not healthy; see checks."}},
)
async def health(state: StateDep) -> JSONResponse:
    apiserver, store = await asyncio.gather(_check_apiserver(state), _check_store(state))
    checks = {"apiserver": apiserver, "store": store, "config": _check_config(state)}
    healthy = all(c.ok for c in checks.values())
    report = HealthReport(status="ok" if healthy else "unhealthy", checks=checks)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if healthy else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
async def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
