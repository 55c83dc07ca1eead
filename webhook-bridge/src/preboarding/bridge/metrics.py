"""Prometheus metrics of one bridge app (its own registry, so several apps can live in one test process)."""

from __future__ import annotations

import time
from collections import Counter as Tally
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

WEBHOOK_OUTCOMES = ("accepted", "updated", "duplicate", "rejected", "error")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class BridgeMetrics:
    """Requests by route and status, request latency, webhook deliveries by outcome and rejection reason."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "preboarding_bridge_requests_total", "HTTP requests by route template, method and status",
            ["route", "method", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "preboarding_bridge_request_duration_seconds", "HTTP request latency by route template",
            ["route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.webhooks = Counter(
            "preboarding_bridge_webhooks_total",
            "Webhook deliveries by outcome: accepted (new video), updated, duplicate, rejected, error",
            ["outcome"], registry=self.registry,
        )
        self.rejections = Counter(
            "preboarding_bridge_webhook_rejections_total", "Rejected webhook deliveries by reason",
            ["reason"], registry=self.registry,
        )
        self.mail_events = Counter(
            "preboarding_bridge_mail_events_total",
            "SendGrid events received, by event (unmatched: no preboarding_video_uid custom arg)",
            ["event"], registry=self.registry,
        )
        for outcome in WEBHOOK_OUTCOMES:
            self.webhooks.labels(outcome)
        self.outcomes: Tally[str] = Tally()

    def webhook(self, outcome: str, reason: str | None = None) -> None:
        self.webhooks.labels(outcome).inc()
        self.outcomes[outcome] += 1
        if reason:
            self.rejections.labels(reason).inc()


    def mail_event(self, kind: str) -> None:
        # SendGrid's event names are a fixed set; anything else is one label, so the series stay bounded.
        known = {"processed", "dropped", "delivered", "deferred", "bounce", "open", "click", "spamreport",
                 "unsubscribe", "group_unsubscribe", "group_resubscribe", "unmatched"}
        self.mail_events.labels(kind if kind in known else "other").inc()


class MetricsMiddleware:
    """Pure ASGI middleware: counts and times every HTTP request by its route template (bounded labels)."""

    def __init__(self, app: Any, metrics: BridgeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(route, method if method in _METHODS else "other", str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)
