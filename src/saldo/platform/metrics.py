"""Prometheus metrics: HTTP traffic by route template, and business counters."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "saldo_http_requests_total", "HTTP requests answered",
    ["method", "route", "status"], registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "saldo_http_request_duration_seconds", "Time to answer an HTTP request",
    ["method", "route"], registry=REGISTRY,
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS = Gauge(
    "saldo_events", "Events recorded, by type (from the event_type_counts projection)",
    ["event_type"], registry=REGISTRY,
)
EVENTS_APPENDED = Counter(
    "saldo_events_appended_total", "Events appended by this process", registry=REGISTRY,
)
