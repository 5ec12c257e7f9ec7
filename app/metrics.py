"""Prometheus metrics: requests by route template and status, latency, and the DB pool.

Each worker process keeps its own counters (no multiprocess mode): scrape every worker, or
run one worker per container as the Dockerfile's orchestration notes suggest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MAX_KEPT_CHILDREN = 1024
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class StateCollector(Collector):
    """Reads the engine's pool, and the API requests in progress, at scrape time."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        engine = getattr(self.app.state, "engine", None)
        in_use = GaugeMetricFamily(
            "db_pool_connections_in_use", "Database connections checked out of the pool"
        )
        size = GaugeMetricFamily("db_pool_size", "Database connections the pool keeps open")
        if engine is not None:
            in_use.add_metric([], engine.pool.checkedout())
            size.add_metric([], engine.pool.size())
        yield in_use
        yield size
        in_progress = getattr(self.app.state, "in_progress", None)
        if in_progress is not None:
            yield GaugeMetricFamily(
                "http_requests_in_progress",
                "API requests this worker is working on (past its limit: 503)",
                value=in_progress.count,
            )


class Metrics:
    def __init__(self, app: Any) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(StateCollector(app))
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        # `labels()` takes a lock and builds its key on every call: the few children each
        # route uses are kept at hand instead.
        if method not in KNOWN_METHODS:  # any token is a method to HTTP: keep the labels few
            method = "OTHER"
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            if len(self._children) < MAX_KEPT_CHILDREN:
                self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
