"""What /metrics tells the monitoring, and the alert rules and dashboard built on it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bankcrm import audit, db
from bankcrm_sdk.world import World

OPERATIONS = Path(__file__).resolve().parents[4] / "docs" / "operations"
METRIC_NAME = re.compile(r"\b((?:bankcrm|process)_[a-z_]+)\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum", "_created")


async def scrape(world: World) -> dict[str, list[Any]]:
    answer = await world.anonymous_client().get("/metrics")
    assert answer.status_code == 200
    samples: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict[str, list[Any]], name: str, **labels: str) -> float:
    for sample in samples[name]:
        if all(sample.labels.get(k) == v for k, v in labels.items()):
            return float(sample.value)
    raise AssertionError(f"no sample {name} {labels}")


async def test_the_platforms_health_is_in_the_metrics(world: World) -> None:
    with world.bind(world.system_scope()):
        await audit.seal()
        await db.fetch(
            "INSERT INTO bankcrm_outbox (queue_name, actor_name, message, created_at)"
            " VALUES ('default', 'bankcrm.prune', '{}', now() - interval '5 minutes')"
        )
    samples = await scrape(world)
    assert value(samples, "bankcrm_database_up") == 1
    assert value(samples, "bankcrm_outbox_pending_messages") >= 1
    assert value(samples, "bankcrm_outbox_oldest_pending_seconds") >= 299
    assert value(samples, "bankcrm_audit_unsealed_rows") == 0
    assert 0 <= value(samples, "bankcrm_audit_last_seal_age_seconds") < 60
    assert value(samples, "bankcrm_db_pool_connections", state="max") >= 1
    assert value(samples, "process_resident_memory_bytes") > 0

    manager = await world.client("demo.bj.manager")
    created = await manager.post(
        "/api/v1/api-clients",
        json={"name": "metrics", "branch_id": world.branch("BJ"), "permissions": []},
    )
    assert created.status_code == 201
    assert value(await scrape(world), "bankcrm_audit_unsealed_rows") >= 1
    with world.bind(world.system_scope()):
        await audit.seal()
        await db.fetch("DELETE FROM bankcrm_outbox WHERE sent_at IS NULL")
    after = await scrape(world)
    assert value(after, "bankcrm_audit_unsealed_rows") == 0
    assert value(after, "bankcrm_outbox_pending_messages") == 0
    assert value(after, "bankcrm_outbox_oldest_pending_seconds") == 0


async def test_a_database_that_does_not_answer_shows_as_down(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(*args: Any) -> Any:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(db, "fetchrow", unreachable)
    samples = await scrape(world)
    assert value(samples, "bankcrm_database_up") == 0


async def test_alert_rules_and_dashboard_use_only_exported_metrics(world: World) -> None:
    await world.anonymous_client().get("/api/v1/auth/me")  # a request, so histograms exist
    exported = set(await scrape(world))
    for suffix in HISTOGRAM_SUFFIXES:
        exported |= {name.removesuffix(suffix) for name in exported if name.endswith(suffix)}

    rules = yaml.safe_load((OPERATIONS / "prometheus-alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 8
    runbooks = (OPERATIONS / "runbooks.md").read_text()
    for rule in alerts:
        used = set(METRIC_NAME.findall(rule["expr"]))
        assert used, rule["alert"]
        assert used <= exported, (rule["alert"], used - exported)
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert f'<a id="{anchor}"></a>' in runbooks, (rule["alert"], anchor)

    dashboard = json.loads((OPERATIONS / "grafana-dashboard.json").read_text())
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    assert expressions
    for expression in expressions:
        used = set(METRIC_NAME.findall(expression))
        assert used <= exported, (expression, used - exported)
