"""Threshold alerts: after the daily snapshots, every open target of the month whose
branch's figure is worse than its threshold notifies the branch's managers, once.

Worse means below the threshold, or above it for a KPI whose direction of good is
``down``. The target's ``alerted_at`` records the alert, so a second run of the job (or a
re-delivered message) sends nothing twice; changing the threshold clears it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import bankcrm.organisation.service as organisation
from bankcrm import audit, db
from bankcrm.notifications import NotificationSource, NotificationTemplate, notify
from bankcrm_reporting import registry

THRESHOLD_ALERT = "reporting.threshold_alert"
ENTITY = "reporting.target"

TEMPLATES: tuple[NotificationTemplate, ...] = (
    NotificationTemplate(
        key=THRESHOLD_ALERT,
        category="reporting",
        title_zh="指标预警：$branch「$kpi」为 $value",
        body_zh="$branch $period 的「$kpi」当前为 $value，已越过预警阈值 $threshold"
        "（目标 $target）。请查看报表统计看板。",
        title_en="KPI alert: $kpi_en of $branch_en is $value",
        body_en="$kpi_en of $branch_en for $period is $value, past the alert threshold "
        "$threshold (target $target). See the reporting dashboard.",
    ),
)


def crossed(value: Decimal, threshold: Decimal, direction: str) -> bool:
    """Whether ``value`` is worse than ``threshold`` for a KPI with ``direction``."""
    return value > threshold if direction == "down" else value < threshold


async def check(day: date) -> int:
    """Alert on the open targets of ``day``'s month in scope whose snapshot of ``day`` is
    past the threshold; how many alerts went out. Must run inside a transaction."""
    kpis = registry.by_name()
    rows = await db.fetch(
        "SELECT t.id, t.branch_id, t.metric, t.period, t.value AS target, t.threshold,"
        " s.value, b.name AS branch, b.name_en AS branch_en"
        " FROM reporting_target t"
        " JOIN reporting_snapshot s ON s.branch_id = t.branch_id AND s.metric = t.metric"
        " AND s.day = $1 JOIN bankcrm_branch b ON b.id = t.branch_id"
        " WHERE t.status = 'open' AND t.period = $2 AND t.threshold IS NOT NULL"
        " AND t.alerted_at IS NULL ORDER BY t.id FOR UPDATE OF t",
        day,
        day.strftime("%Y-%m"),
    )
    sent = 0
    for row in rows:
        kpi = kpis.get(row["metric"])
        if kpi is None or not crossed(row["value"], row["threshold"], kpi.direction):
            continue
        managers = await organisation.branch_managers(row["branch_id"])
        if managers:
            await notify(
                managers, THRESHOLD_ALERT,
                {"branch": row["branch"], "branch_en": row["branch_en"], "kpi": kpi.spec.title,
                 "kpi_en": kpi.spec.title_en, "period": row["period"],
                 "value": f"{row['value'].normalize():f}",
                 "threshold": f"{row['threshold']:f}", "target": f"{row['target']:f}"},
                NotificationSource("reporting", ENTITY, row["id"], row["branch_id"]),
            )  # fmt: skip
            sent += 1
        await db.fetch("UPDATE reporting_target SET alerted_at = now() WHERE id = $1", row["id"])
        await audit.record(
            audit.Action.UPDATE, ENTITY, row["id"], branch_id=row["branch_id"],
            after={"alerted": True}, reason=f"{kpi.name} {row['value']} past {row['threshold']}",
        )  # fmt: skip
    return sent
