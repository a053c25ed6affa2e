"""Prometheus metrics, off by default (``ORGA_METRICS=true``): request latency (Litestar's
Prometheus middleware), job queue depth per kind and status, jobs that keep failing, mails
sent, failed and deferred.

With ``orga serve --workers N`` set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder so the
figures of all worker processes are added up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    multiprocess,
)

from core.http import METRICS
from core.problems import Problem
from core.settings import Settings

__all__ = ["MAIL_DEFERRED", "MAIL_FAILED", "MAIL_SENT", "metrics_parts"]

MAIL_SENT = Counter("orga_mail_sent_total", "Mails accepted by the mail transport")
MAIL_FAILED = Counter("orga_mail_failed_total", "Mails refused or failed for good")
MAIL_DEFERRED = Counter(
    "orga_mail_deferred_total", "Mail attempts deferred (4xx) or failed to reach the server"
)
JOBS = Gauge(
    "orga_jobs",
    "Jobs in the durable queue by kind and status",
    ["kind", "status"],
    multiprocess_mode="mostrecent",
)
RETRYING = Gauge(
    "orga_jobs_retrying",
    "Jobs that failed and wait for another attempt, by kind",
    ["kind"],
    multiprocess_mode="mostrecent",
)
OLDEST_DUE = Gauge(
    "orga_jobs_oldest_due_seconds",
    "Age of the oldest job that is due and not yet running",
    multiprocess_mode="mostrecent",
)


def metrics_parts(settings: Settings) -> tuple[Any, Any] | None:
    """The request-latency middleware and the ``/metrics`` controller, when metrics are on."""
    if not settings.metrics:
        return None
    token = settings.metrics_token

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if token is None:
            return
        given = connection.headers.get("authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Problem(401, "unauthenticated", "The metrics need their bearer token.")

    @get("/metrics", guards=[guard], include_in_schema=False)
    async def metrics() -> Response[bytes]:
        """Refresh the queue gauges, then expose every metric (multiprocess-aware)."""
        from core.jobs.services import queue_stats

        stats = await queue_stats(failures=0)
        JOBS.clear()
        for row in stats["counts"]:
            JOBS.labels(row["kind"], row["status"]).set(row["n"])
        RETRYING.clear()
        for row in stats["retrying_counts"]:
            RETRYING.labels(row["kind"]).set(row["n"])
        OLDEST_DUE.set(stats["oldest_due_seconds"])
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=METRICS)

    config = PrometheusConfig(
        app_name="orga",
        prefix="orga",
        group_path=True,
        exclude=["^/metrics", "^/p/static"],
    )
    return config.middleware, metrics
