"""The feature store: per-customer features as of a date, point-in-time correct,
materialised and versioned.

A build (:func:`build_features`) computes every extractor's features for the customers
in scope who existed before ``as_of`` (00:00 Asia/Shanghai, the date excluded) from data
dated before it only — transactions booked before it, holdings opened before it — and
stores them as one run: a version per branch and date, the extractors' definitions and a
fingerprint of the values. Training reads a run (:func:`feature_frame`), so a model is
tied to exactly the features it saw. Plugins add extractors through the
``mining_feature_extractors`` hook.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from msgspec import Struct

from bankcrm import audit, db
from bankcrm.business_calendar import DEFAULT_ZONE
from bankcrm.context import require_scope
from bankcrm.plugin_api import PluginHooks, plugin_hooks
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import invalid, not_found
from bankcrm_customer_archive import services as archive

RUN = "mining_feature_run"
VALUE = "mining_feature_value"
ENTITY = "mining.feature_run"
WINDOWS = (90, 365)
Values = Mapping[int, Mapping[str, float | None]]


@dataclass(frozen=True)
class FeatureExtractor:
    """A named, versioned set of features; see the ``mining_feature_extractors`` hook."""

    name: str
    version: int
    features: tuple[str, ...]
    extract: Callable[[Sequence[int], date], Awaitable[Values]]


def start_of(as_of: date) -> datetime:
    """The instant the date begins in the bank's zone: features see only what is before."""
    return datetime.combine(as_of, time(0), DEFAULT_ZONE)


def rfm(transactions: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Recency, frequency and monetary features, and the balance and its trend, per
    customer from ``transactions`` (columns ``customer``, ``booked_at`` tz-aware,
    ``amount``, ``account_no``, ``balance_after``); rows on or after ``as_of`` are ignored
    whatever the caller passed."""
    end = pd.Timestamp(start_of(as_of))
    tx = transactions[transactions["booked_at"] < end]
    out = pd.DataFrame(index=pd.Index(sorted(tx["customer"].unique()), name="customer"))
    if tx.empty:
        return out
    grouped = tx.groupby("customer")
    out["recency_days"] = (end - grouped["booked_at"].max()).dt.days.astype("float64")
    for window in WINDOWS:
        recent = tx[tx["booked_at"] >= end - pd.Timedelta(days=window)]
        by = recent.groupby("customer")["amount"]
        out[f"frequency_{window}d"] = by.size().reindex(out.index, fill_value=0).astype("float64")
        out[f"monetary_{window}d"] = by.apply(lambda a: a.abs().sum()).reindex(
            out.index, fill_value=0.0
        )
        out[f"inflow_{window}d"] = by.apply(lambda a: a[a > 0].sum()).reindex(
            out.index, fill_value=0.0
        )
        out[f"outflow_{window}d"] = by.apply(lambda a: -a[a < 0].sum()).reindex(
            out.index, fill_value=0.0
        )
    known = tx[tx["balance_after"].notna()]
    for name, cutoff in (("balance_last", end), ("balance_90d_ago", end - pd.Timedelta(days=90))):
        before = known[known["booked_at"] < cutoff].sort_values("booked_at")
        last = before.groupby(["customer", before["account_no"].fillna("")])["balance_after"].last()
        out[name] = last.groupby(level=0).sum().reindex(out.index)
    out["balance_trend_90d"] = out["balance_last"] - out["balance_90d_ago"]
    return out.drop(columns=["balance_90d_ago"]).astype("float64")


RFM_FEATURES = tuple(
    ["recency_days"]
    + [f"{kind}_{w}d" for w in WINDOWS for kind in ("frequency", "monetary", "inflow", "outflow")]
    + ["balance_last", "balance_trend_90d"]
)
ZERO_WHEN_NONE = ("frequency", "monetary", "inflow", "outflow")
CATEGORIES = ("deposit", "loan", "card", "wealth", "other")


async def _transactions(customer_ids: Sequence[int], as_of: date) -> pd.DataFrame:
    end = start_of(as_of)
    rows = await db.fetch(
        "SELECT customer, booked_at, amount::float8 AS amount, account_no,"
        " balance_after::float8 AS balance_after FROM mining_transaction"
        " WHERE customer = ANY($1::bigint[]) AND booked_at >= $2 AND booked_at < $3",
        list(customer_ids), end - timedelta(days=max(WINDOWS)), end,
    )  # fmt: skip
    frame = pd.DataFrame(
        [dict(r) for r in rows],
        columns=["customer", "booked_at", "amount", "account_no", "balance_after"],
    )
    frame["booked_at"] = pd.to_datetime(frame["booked_at"], utc=True)
    frame["amount"] = frame["amount"].astype("float64")
    frame["balance_after"] = frame["balance_after"].astype("float64")
    return frame


def _records(frame: pd.DataFrame) -> dict[int, dict[str, float | None]]:
    clean = frame.astype("float64").replace([np.inf, -np.inf], np.nan)
    return {
        int(customer): {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}
        for customer, row in clean.iterrows()
    }


async def _rfm_values(customer_ids: Sequence[int], as_of: date) -> Values:
    """A customer without transactions has none counted (0) and no recency or balance."""
    frame = rfm(await _transactions(customer_ids, as_of), as_of)
    frame = frame.reindex(index=list(customer_ids), columns=list(RFM_FEATURES))
    counted = [f for f in RFM_FEATURES if f.split("_")[0] in ZERO_WHEN_NONE]
    frame[counted] = frame[counted].fillna(0.0)
    return _records(frame)


async def _holding_values(customer_ids: Sequence[int], as_of: date) -> Values:
    """Tenure and products held as of the date (holdings opened before it)."""
    facts = {f.customer_id: f for f in await archive.customer_facts(customer_ids)}
    held: dict[int, dict[str, float | None]] = {}
    for customer_id, fact in facts.items():
        opened = fact.created_at.astimezone(DEFAULT_ZONE).date()
        values: dict[str, float | None] = {"tenure_days": float((as_of - opened).days)}
        values["product_count"] = 0.0
        for category in CATEGORIES:
            values[f"held_{category}"] = 0.0
        held[customer_id] = values
    for holding in await archive.holding_facts(customer_ids):
        found = held.get(holding.customer_id)
        if found is None or holding.opened_on is None or holding.opened_on >= as_of:
            continue
        category = holding.product_category if holding.product_category in CATEGORIES else "other"
        found["product_count"] = (found["product_count"] or 0.0) + 1
        found[f"held_{category}"] = (found[f"held_{category}"] or 0.0) + 1
    return held


CORE: tuple[FeatureExtractor, ...] = (
    FeatureExtractor("mining.rfm", 1, RFM_FEATURES, _rfm_values),
    FeatureExtractor(
        "mining.holdings",
        1,
        ("tenure_days", "product_count", *(f"held_{c}" for c in CATEGORIES)),
        _holding_values,
    ),
)


class OwnOnly:
    """Hooks that answer nothing: a build with mining's own extractors only (the demo,
    which may run before any kernel is the running one)."""

    def __init__(self) -> None:
        self.order: list[str] = []

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        return []

    async def call_all(
        self, hook_name: str, plugins: frozenset[str] | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        return []


def extractors(hooks: PluginHooks | None = None) -> list[FeatureExtractor]:
    """The plugin's own extractors, then every other plugin's (hook order)."""
    found = list(CORE)
    running = hooks if hooks is not None else plugin_hooks()
    for plugin, answer in running.call_each("mining_feature_extractors"):
        for extractor in answer or ():
            prefix = f"{plugin}."
            names = (extractor.name, *extractor.features)
            if plugin != "mining" and not all(n.startswith(prefix) for n in names):
                raise ValueError(
                    f"{plugin}'s extractor {extractor.name}: names start with {prefix}"
                )
            found.append(extractor)
    return found


class RunOut(Struct):
    id: int
    branch_id: int
    as_of: date
    version: int
    definition: dict[str, Any]
    customers: int
    fingerprint: str
    created_by: str
    created_at: datetime


RUN_COLUMNS = (
    "id, branch_id, as_of, version, definition, customers, fingerprint, created_by, created_at"
)


def _run_out(row: Any) -> RunOut:
    values = dict(row)
    if isinstance(values["definition"], str):
        values["definition"] = json.loads(values["definition"])
    return RunOut(**values)


def fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's values in a canonical order (columns and rows sorted)."""
    canonical = frame.sort_index(axis=1)
    canonical = canonical.sort_values(list(canonical.columns)).reset_index(drop=True)
    return hashlib.sha256(canonical.to_csv(index=False, float_format="%.10g").encode()).hexdigest()


async def build_features(
    as_of: date, branch_id: int | None = None, hooks: PluginHooks | None = None
) -> RunOut:
    """Materialise every extractor's features for the customers in scope as of the date."""
    scope = require_scope()
    branch = branch_id if branch_id is not None else scope.home_branch_id
    if branch is None or branch not in scope.branch_ids:
        raise invalid("/body/branch_id", "the branch is outside your scope")
    today = datetime.now(DEFAULT_ZONE).date()
    if as_of > today + timedelta(days=1):
        raise invalid("/body/as_of", "a feature date after tomorrow would see no data yet")
    found = extractors(hooks)
    definition = {e.name: {"version": e.version, "features": list(e.features)} for e in found}
    names = [f for e in found for f in e.features]
    if len(set(names)) != len(names):
        raise ValueError("two extractors name the same feature")
    async with db.transaction():
        customers = [
            f for f in await archive.customer_facts()
            if f.created_at < start_of(as_of)
        ]  # fmt: skip
        ids = [f.customer_id for f in customers]
        table = pd.DataFrame(index=pd.Index(ids, name="customer"), columns=names, dtype="float64")
        for extractor in found:
            answer = await extractor.extract(ids, as_of) if ids else {}
            for customer_id, values in answer.items():
                if customer_id in table.index:
                    for feature in extractor.features:
                        value = values.get(feature)
                        table.at[customer_id, feature] = np.nan if value is None else float(value)
        version = await db.fetchval(
            f"SELECT coalesce(max(version), 0) + 1 FROM {RUN} WHERE branch_id = $1 AND as_of = $2",
            branch, as_of,
        )  # fmt: skip
        digest = fingerprint(table.reset_index())
        row = await db.fetchrow(
            f"INSERT INTO {RUN} (branch_id, as_of, version, definition, customers, fingerprint,"
            f" created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now())"
            f" RETURNING {RUN_COLUMNS}",
            branch, as_of, version, db.jsonb(definition), len(ids), digest, scope.actor,
        )  # fmt: skip
        assert row is not None
        branches = {f.customer_id: f.branch_id for f in customers}
        records = _records(table)
        await db.fetch(
            f"INSERT INTO {VALUE} (branch_id, run, customer, as_of, values)"
            " SELECT b, $1, c, $2, v::jsonb FROM unnest($3::int[], $4::int[], $5::text[])"
            " AS u(b, c, v)",
            row["id"], as_of, [branches[c] for c in records], list(records),
            [db.jsonb(v) for v in records.values()],
        )  # fmt: skip
        await audit.record(
            audit.Action.CREATE, ENTITY, row["id"], branch_id=branch,
            after={"as_of": as_of.isoformat(), "version": version, "customers": len(ids),
                   "fingerprint": digest},
        )  # fmt: skip
    return _run_out(row)


async def get_run(run_id: int) -> RunOut:
    row = await db.fetchrow(f"SELECT {RUN_COLUMNS} FROM {RUN} WHERE id = $1", run_id)
    if row is None:
        raise not_found(f"feature run {run_id}")
    return _run_out(row)


async def list_runs(limit: int = 50, cursor: str | None = None) -> Page[RunOut]:
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {RUN_COLUMNS} FROM {RUN} WHERE ($1::bigint IS NULL OR id < $1)"
        " ORDER BY id DESC LIMIT $2",
        after[0] if after else None, limit + 1,
    )  # fmt: skip
    items = [_run_out(r) for r in rows[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(rows) > limit else None)


async def feature_frame(run_id: int) -> pd.DataFrame:
    """A run's features, one row per customer (index ``customer``) in scope."""
    run = await get_run(run_id)
    names = [f for spec in run.definition.values() for f in spec["features"]]
    rows = await db.fetch(
        f"SELECT customer, values FROM {VALUE} WHERE run = $1 ORDER BY customer", run_id
    )
    data = {
        r["customer"]: json.loads(r["values"]) if isinstance(r["values"], str) else r["values"]
        for r in rows
    }
    frame = pd.DataFrame.from_dict(data, orient="index", columns=names, dtype="float64")
    frame.index.name = "customer"
    return frame


class FeaturesOut(Struct):
    customer: int
    run: int
    as_of: date
    values: dict[str, float | None]


async def customer_features(customer_id: int, run_id: int | None = None) -> FeaturesOut:
    """A customer's features in a run (default: the newest run that has them)."""
    row = await db.fetchrow(
        f"SELECT run, as_of, values FROM {VALUE} WHERE customer = $1"
        " AND ($2::bigint IS NULL OR run = $2) ORDER BY run DESC LIMIT 1",
        customer_id, run_id,
    )  # fmt: skip
    if row is None:
        raise not_found(f"features of customer {customer_id}")
    values = json.loads(row["values"]) if isinstance(row["values"], str) else row["values"]
    return FeaturesOut(customer_id, row["run"], row["as_of"], values)
