"""Value tiers (客户价值分层): private 私行, wealth 财富, affluent 富裕, mass 大众.

How a tier is computed, for individual customers (companies are not tiered: their value
is judged by credit, not by deposits, and ``value_tier`` stays as it is):

1. **AUM** (assets under management, CNY): with ``aum_basis = "average"`` (the default),
   the mean of the customer's daily AUM snapshots (``customer_archive_aum_snapshot``) of
   the last ``average_days`` days, when there is any; otherwise the current sum of the
   balances of the customer's asset holdings that are not closed, in CNY (holdings in
   other currencies are left out: the archive keeps no exchange rates). The average damps
   a deposit parked for a day at a quarter's end.
2. **Thresholds** of the customer's branch (:class:`~.settings.ValueTierSettings`,
   inherited from the nearest ancestor): private from 6,000,000, wealth from 600,000,
   affluent from 50,000, else mass (defaults).
3. **Dormancy**: a customer whose status is ``dormant``, or whose latest activity is older
   than ``dormant_after_days`` (default 365; 0 switches the rule off), goes one tier down
   (mass stays mass). Activity is the latest of ``last_activity_at`` (kept by the plugins
   that see contacts and transactions), the opening date of the newest holding and the
   customer's creation (a new customer is not dormant).

The scheduled job (:data:`recompute_value_tiers`, daily) recomputes every branch in its
scope with one set-based statement per branch: it updates ``value_tier`` only where it
changes and appends a rating history row (kind ``value_tier``, source ``job``, the AUM and
the dormancy in the note) for exactly those customers, so a second run changes nothing
and writes no history. Each run leaves one audit row per branch with the counts of
changes per new tier. :func:`recompute_customer_tier` does the same for one customer
through :func:`bankcrm_customer_archive.profile.services.record_rating`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bankcrm import audit, branches, db, jobs
from bankcrm.context import require_scope
from bankcrm.plugin_api import ScheduleSpec
from bankcrm.web.problems import invalid, not_found
from bankcrm_customer_archive.manifest import MANIFEST
from bankcrm_customer_archive.settings import CustomerArchiveSettings, ValueTierSettings

__all__ = [
    "TIERS",
    "TierRun",
    "enqueue_recompute",
    "recompute_branch",
    "recompute_customer_tier",
    "recompute_value_tiers",
    "tier_settings",
]

log = logging.getLogger(__name__)

TIERS = ("private", "wealth", "affluent", "mass")
"""Best first: the position is the tier's rank, and dormancy adds one."""

ENTITY_TIER_RUN = "customer_archive.value_tier_run"

# One statement computes every customer's tier; the batch wraps it in an UPDATE and a
# history INSERT, the single-customer path only reads it. Parameters: $1 branch,
# $2..$4 the private/wealth/affluent thresholds, $5 use the snapshot average, $6 its
# days, $7 dormancy days (0: off), $8 one customer or NULL.
_MEASURE = """
measured AS (
  SELECT c.id, c.branch_id, c.value_tier AS old_tier,
    round(coalesce(a.aum, cur.aum, 0), 2) AS aum,
    ($7::int > 0 AND (c.status = 'dormant' OR greatest(c.last_activity_at,
       cur.last_opened::timestamptz, c.created_at) < now() - make_interval(days => $7::int)))
      AS dormant
  FROM customer_archive_customer c
  -- Per-customer index lookups rather than joins with grouped subqueries: the plan then
  -- cannot turn quadratic when statistics lag behind a bulk load (as in one transaction
  -- that loads a million customers and computes their tiers).
  LEFT JOIN LATERAL (
    SELECT sum(h.balance) FILTER (WHERE p.balance_type = 'asset' AND h.status <> 'closed'
                                    AND h.currency = 'CNY') AS aum,
      max(h.opened_on) AS last_opened
    FROM customer_archive_holding h JOIN customer_archive_product p ON p.id = h.product
    WHERE h.customer = c.id) cur ON true
  LEFT JOIN LATERAL (
    SELECT avg(s.aum) AS aum FROM customer_archive_aum_snapshot s
    WHERE $5 AND s.customer = c.id AND s.snapshot_on > current_date - $6::int) a ON true
  WHERE c.branch_id = $1 AND c.deleted_at IS NULL AND c.kind = 'individual'
    AND ($8::bigint IS NULL OR c.id = $8)
),
computed AS (
  SELECT m.*, (ARRAY['private', 'wealth', 'affluent', 'mass'])[least(4,
      CASE WHEN m.aum >= $2 THEN 1 WHEN m.aum >= $3 THEN 2 WHEN m.aum >= $4 THEN 3 ELSE 4 END
      + CASE WHEN m.dormant THEN 1 ELSE 0 END)] AS new_tier
  FROM measured m
)"""

_NOTE = "format('AUM %s CNY%s', aum, CASE WHEN dormant THEN '; dormant: one tier down' ELSE '' END)"

MEASURE_SQL = f"WITH {_MEASURE} SELECT id, old_tier, new_tier, aum, dormant FROM computed"

BATCH_SQL = f"""WITH {_MEASURE},
changed AS (
  UPDATE customer_archive_customer c SET value_tier = computed.new_tier
  FROM computed
  WHERE c.id = computed.id AND c.value_tier IS DISTINCT FROM computed.new_tier
  RETURNING c.id, c.branch_id, computed.new_tier, computed.aum, computed.dormant
),
history AS (
  INSERT INTO customer_archive_rating (branch_id, customer, kind, value, rated_by, source,
    rated_at, note)
  SELECT branch_id, id, 'value_tier', new_tier, NULL, 'job', now(), {_NOTE} FROM changed
  RETURNING 1
)
SELECT (SELECT count(*) FROM computed) AS evaluated,
  (SELECT count(*) FROM history) AS recorded,
  (SELECT coalesce(json_object_agg(new_tier, n), '{{}}') FROM
     (SELECT new_tier, count(*) AS n FROM changed GROUP BY new_tier) t) AS changed_to,
  (SELECT coalesce(json_object_agg(new_tier, n), '{{}}') FROM
     (SELECT new_tier, count(*) AS n FROM computed GROUP BY new_tier) t) AS distribution"""


@dataclass(frozen=True)
class TierRun:
    """What one batch recomputation of a branch did."""

    branch_id: int
    evaluated: int
    changed_to: dict[str, int]
    """New tier -> customers moved into it."""
    distribution: dict[str, int]
    """Tier -> customers in it after the run."""

    @property
    def changed(self) -> int:
        return sum(self.changed_to.values())


async def tier_settings(branch_id: int) -> ValueTierSettings:
    settings = await branches.plugin_settings(MANIFEST.name, branch_id, CustomerArchiveSettings)
    return settings.value_tiers


def _arguments(branch_id: int, rules: ValueTierSettings, customer_id: int | None) -> list[Any]:
    return [
        branch_id,
        Decimal(rules.private_min_aum),
        Decimal(rules.wealth_min_aum),
        Decimal(rules.affluent_min_aum),
        rules.aum_basis == "average",
        rules.average_days,
        rules.dormant_after_days,
        customer_id,
    ]


async def recompute_branch(branch_id: int, *, run_id: str) -> TierRun:
    """Recompute the tiers of one branch's own customers (not its sub-branches'), with
    that branch's thresholds; audited as one row. Caller holds the transaction."""
    rules = await tier_settings(branch_id)
    row = await db.fetchrow(BATCH_SQL, *_arguments(branch_id, rules, None))
    assert row is not None
    run = TierRun(
        branch_id=branch_id,
        evaluated=row["evaluated"],
        changed_to=_counts(row["changed_to"]),
        distribution=_counts(row["distribution"]),
    )
    await audit.record(
        audit.Action.UPDATE,
        ENTITY_TIER_RUN,
        run_id,
        branch_id=branch_id,
        after={
            "evaluated": run.evaluated,
            "changed": run.changed,
            "changed_to": run.changed_to,
            "distribution": run.distribution,
            "settings": {
                "private_min_aum": rules.private_min_aum,
                "wealth_min_aum": rules.wealth_min_aum,
                "affluent_min_aum": rules.affluent_min_aum,
                "aum_basis": rules.aum_basis,
                "average_days": rules.average_days,
                "dormant_after_days": rules.dormant_after_days,
            },
        },
    )
    return run


def _counts(value: Any) -> dict[str, int]:
    decoded = json.loads(value) if isinstance(value, str) else value
    return {str(k): int(v) for k, v in sorted(decoded.items(), key=lambda kv: TIERS.index(kv[0]))}


async def _branches_to_run(branch_id: int | None) -> list[int]:
    scope = require_scope()
    tree = await branches.snapshot()
    chosen = scope.branch_ids if branch_id is None else tree.subtree(branch_id) & scope.branch_ids
    return sorted(chosen)


@jobs.actor("customer_archive.recompute_value_tiers", time_limit=60 * 60 * 1000)
async def recompute_value_tiers(branch_id: int | None = None) -> None:
    """Recompute value tiers of every branch in the job's scope (or of ``branch_id`` and
    its sub-branches within it), each branch with its own thresholds.

    Runs in the job's one transaction: a crash rolls every branch back, and a re-delivery
    recomputes from the same data, changing only what differs.
    """
    try:
        run_id = jobs.current_job().message_id
    except RuntimeError:
        run_id = require_scope().request_id
    for branch in await _branches_to_run(branch_id):
        run = await recompute_branch(branch, run_id=run_id)
        log.info(
            "value tiers recomputed",
            extra={"branch_id": branch, "evaluated": run.evaluated, "changed": run.changed},
        )


async def enqueue_recompute(branch_id: int | None) -> tuple[str, list[int]]:
    """Queue a recomputation for the caller's branches (or ``branch_id``'s subtree)."""
    scope = require_scope()
    if branch_id is not None and branch_id not in scope.branch_ids:
        raise invalid("body.branch_id", "the branch is outside your scope")
    chosen = await _branches_to_run(branch_id)
    async with db.transaction():
        message_id = await recompute_value_tiers.enqueue(branch_id)
    return message_id, chosen


async def recompute_customer_tier(customer_id: int) -> str | None:
    """Recompute one customer's tier now; a change is recorded through
    :func:`~bankcrm_customer_archive.profile.services.record_rating` (history, audit). Returns the
    tier (None for a company, which is not tiered)."""
    from bankcrm_customer_archive.profile import services as profile

    async with db.transaction():
        branch_id = await db.fetchval(
            "SELECT branch_id FROM customer_archive_customer WHERE id = $1"
            " AND deleted_at IS NULL FOR UPDATE",
            customer_id,
        )
        if branch_id is None:
            raise not_found(f"customer {customer_id}")
        rules = await tier_settings(branch_id)
        row = await db.fetchrow(MEASURE_SQL, *_arguments(branch_id, rules, customer_id))
        if row is None:
            return None
        if row["new_tier"] != row["old_tier"]:
            note = f"AUM {row['aum']} CNY" + ("; dormant: one tier down" if row["dormant"] else "")
            await profile.record_rating(
                customer_id, "value_tier", row["new_tier"], source="job", note=note
            )
        tier: str = row["new_tier"]
        return tier


TIER_ACTORS = [recompute_value_tiers]
TIER_SCHEDULES = [
    ScheduleSpec(
        name="customer_archive.recompute_value_tiers",
        actor_name="customer_archive.recompute_value_tiers",
        every_seconds=24 * 3600,
        description="Recompute every branch's value tiers from AUM and activity (daily).",
    )
]
