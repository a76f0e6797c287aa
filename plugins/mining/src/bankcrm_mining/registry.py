"""The model registry: every version of every model, stored as data.

A version holds what scoring needs as JSON (a scorecard's points table, a logistic
model's coefficients and bins) — never a pickle, so reading the database cannot run
code — with the fingerprint of the data it was trained on, its features, its metrics,
who registered it and who approved it. A version is immutable once registered; only its
status moves: ``draft`` → ``approved`` (by a second person: maker-checker) → ``retired``.
Only an approved version scores production data.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from bankcrm import audit, db
from bankcrm.context import require_scope
from bankcrm.jobs import emit_event
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_mining import events, recommend, segments

TABLE = "mining_model"
ENTITY = "mining.model"
"""The audit trail's name for these rows."""
COLUMNS = (
    "id, name, task, version, status, kind, spec, features, metrics, data_fingerprint,"
    " description, created_by, approved_by, approved_at, created_at, updated_at"
)

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Name = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")]
Feature = Annotated[str, Meta(min_length=1, max_length=100)]
Fingerprint = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
Task = Literal["scorecard", "default", "churn", "propensity", "recommendation", "segmentation"]
Kind = Literal["scorecard", "logistic", "item_similarity", "kmeans"]
PAIRED_KINDS = {"recommendation": "item_similarity", "segmentation": "kmeans"}
"""Tasks that have a kind of their own (and kinds only they have)."""
Status = Literal["draft", "approved", "retired"]


class ModelIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    task: Task
    kind: Kind
    spec: dict[str, Any]
    """``scorecard``: ``{"base_points": n, "points": [{"feature", "bin", "points"}...]}``
    where a bin is ``{"lo": x|null, "hi": y|null}`` (numbers, ``lo <= v < hi``) or
    ``{"values": [...]}`` (categories) or ``{"missing": true}``. ``logistic``:
    ``{"intercept": b, "coefficients": {feature: w}}`` over standardised features
    (``"scale": {feature: [mean, std]}``). ``item_similarity`` (task ``recommendation``):
    ``{"products": {code: {"name", "share"}}, "neighbours": {code: [[other, P(other |
    code)], ...]}}``, its features the product codes."""
    features: Annotated[list[Feature], Meta(min_length=1, max_length=500)]
    metrics: dict[str, float] = {}
    data_fingerprint: Fingerprint
    """SHA-256 of the training data (``features.fingerprint``)."""
    description: Annotated[str, Meta(max_length=1000)] = ""


class ModelOut(Struct):
    id: int
    name: str
    task: str
    version: int
    status: str
    kind: str
    spec: dict[str, Any]
    features: list[str]
    metrics: dict[str, float]
    data_fingerprint: str
    description: str
    created_by: str
    approved_by: str | None
    approved_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _out(row: Any) -> ModelOut:
    values = dict(row)
    for key in ("spec", "features", "metrics"):
        if isinstance(values[key], str):
            values[key] = json.loads(values[key])
    return ModelOut(**values)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_spec(kind: str, spec: dict[str, Any], features: list[str]) -> None:
    """Refuse a spec a scorer could not apply, naming the field."""
    if len(set(features)) != len(features):
        raise invalid("/body/features", "a feature is named twice")
    if kind == "kmeans":
        wrong = segments.check_spec(spec)
        if wrong is not None:
            raise invalid(f"/body/spec/{wrong}", "not a segmentation model's centres")
    elif kind == "item_similarity":
        wrong = recommend.check_spec(spec)
        if wrong is not None:
            raise invalid(f"/body/spec/{wrong}", "not a recommendation model's neighbour lists")
    elif kind == "scorecard":
        if not _number(spec.get("base_points")):
            raise invalid("/body/spec/base_points", "a number is required")
        points = spec.get("points")
        if not isinstance(points, list) or not points:
            raise invalid("/body/spec/points", "a non-empty list of bins is required")
        for i, entry in enumerate(points):
            where = f"/body/spec/points/{i}"
            if not isinstance(entry, dict) or entry.get("feature") not in features:
                raise invalid(f"{where}/feature", "must be one of the model's features")
            if not _number(entry.get("points")):
                raise invalid(f"{where}/points", "a number is required")
            if not _valid_bin(entry.get("bin")):
                raise invalid(f"{where}/bin", "{lo, hi}, {values: [...]} or {missing: true}")
        unused = set(features) - {entry["feature"] for entry in points}
        if unused:
            raise invalid("/body/features", f"no bins for {sorted(unused)}")
    else:
        if not _number(spec.get("intercept")):
            raise invalid("/body/spec/intercept", "a number is required")
        coefficients = spec.get("coefficients")
        if not isinstance(coefficients, dict) or set(coefficients) != set(features):
            raise invalid("/body/spec/coefficients", "one number per feature, no other")
        for feature, weight in coefficients.items():
            if not _number(weight):
                raise invalid(f"/body/spec/coefficients/{feature}", "a number is required")


def _valid_bin(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if value.get("missing") is True:
        return len(value) == 1
    if "values" in value:
        return isinstance(value["values"], list) and len(value) == 1
    keys = set(value) - {"lo", "hi"}
    bounds = [value.get("lo"), value.get("hi")]
    return not keys and all(b is None or _number(b) for b in bounds) and bool(value)


async def list_models(
    *,
    name: str | None = None,
    task: str | None = None,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ModelOut]:
    """Model versions, newest first, in keyset pages."""
    after = decode_cursor(cursor, (int,))
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM {TABLE}"
        " WHERE ($1::text IS NULL OR name = $1) AND ($2::text IS NULL OR task = $2)"
        " AND ($3::text IS NULL OR status = $3) AND ($4::bigint IS NULL OR id < $4)"
        " ORDER BY id DESC LIMIT $5",
        name, task, status, after[0] if after else None, limit + 1,
    )  # fmt: skip
    items = [_out(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(items, encode_cursor([items[-1].id]) if more else None)


async def get_model(model_id: int) -> ModelOut:
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM {TABLE} WHERE id = $1", model_id)
    if row is None:
        raise not_found(f"model {model_id}")
    return _out(row)


async def approved_model(name: str) -> ModelOut | None:
    """The newest approved version of ``name`` (the one production scoring uses)."""
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM {TABLE} WHERE name = $1 AND status = 'approved'"
        " ORDER BY version DESC LIMIT 1",
        name,
    )
    return None if row is None else _out(row)


async def approved_task_model(task: str) -> ModelOut | None:
    """The newest approved version of any model of ``task``."""
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM {TABLE} WHERE task = $1 AND status = 'approved'"
        " ORDER BY approved_at DESC, id DESC LIMIT 1",
        task,
    )
    return None if row is None else _out(row)


async def register_model(data: ModelIn) -> ModelOut:
    """Register the next version of ``data.name`` as a draft."""
    wanted = PAIRED_KINDS.get(data.task)
    if (wanted is not None and data.kind != wanted) or (
        wanted is None and data.kind in PAIRED_KINDS.values()
    ):
        raise invalid("/body/kind", f"a {data.task} model cannot be of kind {data.kind}")
    check_spec(data.kind, data.spec, data.features)
    actor = require_scope().actor
    async with db.transaction():
        await db.fetchval("SELECT pg_advisory_xact_lock(hashtext($1))", f"{TABLE}:{data.name}")
        row = await db.fetchrow(
            f"INSERT INTO {TABLE} (name, task, version, status, kind, spec, features, metrics,"
            " data_fingerprint, description, created_by, created_at, updated_at)"
            " VALUES ($1::varchar, $2, (SELECT coalesce(max(version), 0) + 1 FROM mining_model"
            " WHERE name = $1::varchar), 'draft', $3, $4, $5, $6, $7, $8, $9, now(), now())"
            f" RETURNING {COLUMNS}",
            data.name, data.task, data.kind, db.jsonb(data.spec), db.jsonb(data.features),
            db.jsonb(data.metrics), data.data_fingerprint, data.description, actor,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.CREATE, ENTITY, row["id"], branch_id=None,
            after={"name": data.name, "version": row["version"], "task": data.task,
                   "data_fingerprint": data.data_fingerprint, "metrics": data.metrics},
        )  # fmt: skip
        await emit_event(
            events.MODEL_REGISTERED,
            {"model_id": row["id"], "name": data.name, "version": row["version"]},
        )
    return _out(row)


async def approve_model(model_id: int) -> ModelOut:
    """A second person approves a draft version for production scoring."""
    actor = require_scope().actor
    async with db.transaction():
        row = await db.fetchrow(f"SELECT {COLUMNS} FROM {TABLE} WHERE id = $1 FOR UPDATE", model_id)
        if row is None:
            raise not_found(f"model {model_id}")
        if row["status"] != "draft":
            raise Problem(
                409, f"only a draft is approved (this version is {row['status']})",
                [FieldError("status", row["status"])], "not_draft",
            )  # fmt: skip
        if row["created_by"] == actor:
            raise Problem(
                409, "a second person must approve the model (maker-checker)",
                [FieldError("created_by", "you registered this version")], "maker_checker",
            )  # fmt: skip
        row = await db.fetchrow(
            f"UPDATE {TABLE} SET status = 'approved', approved_by = $2, approved_at = now(),"
            f" updated_at = now() WHERE id = $1 RETURNING {COLUMNS}",
            model_id, actor,
        )  # fmt: skip
        assert row is not None
        await audit.record(
            audit.Action.UPDATE, ENTITY, model_id, branch_id=None,
            before={"status": "draft"}, after={"status": "approved"},
        )  # fmt: skip
        await emit_event(
            events.MODEL_APPROVED,
            {"model_id": model_id, "name": row["name"], "version": row["version"]},
        )
    return _out(row)


async def retire_model(model_id: int) -> ModelOut:
    """Take a version out of use; the previous approved version (if any) scores again."""
    async with db.transaction():
        row = await db.fetchrow(f"SELECT {COLUMNS} FROM {TABLE} WHERE id = $1 FOR UPDATE", model_id)
        if row is None:
            raise not_found(f"model {model_id}")
        if row["status"] == "retired":
            return _out(row)
        before = row["status"]
        row = await db.fetchrow(
            f"UPDATE {TABLE} SET status = 'retired', updated_at = now() WHERE id = $1"
            f" RETURNING {COLUMNS}",
            model_id,
        )
        assert row is not None
        await audit.record(
            audit.Action.UPDATE, ENTITY, model_id, branch_id=None,
            before={"status": before}, after={"status": "retired"},
        )  # fmt: skip
    return _out(row)
