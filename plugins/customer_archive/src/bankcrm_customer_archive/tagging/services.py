"""Rule-based tags (规则标签): a tag whose customers are those matching a customer filter.

A tag has a kind: ``manual`` tags are set and removed by staff (``tag_customer``), ``rule``
tags only by their rule. A rule is a customer filter, the same one search and segments
use (:class:`~bankcrm_customer_archive.search.services.CustomerFilter`: kind, status, value tier,
AUM range, products and categories held, birth and customer-since dates, ratings, tags,
segment, relationship manager, text), stored on
``customer_archive_tag_rule`` and applied to the customers of the tag's own branch (a
branch's tags are its own vocabulary, so a Beijing rule never tags a Shanghai customer,
whoever runs it).

Evaluation is set-based, one statement per rule: link the matching customers that lack the
tag, unlink the rule's links of customers that no longer match, leave every manual link
alone. Links made by a rule carry ``source = 'rule'`` and the time they were made. The
statement reads and writes the same snapshot, so evaluating twice changes nothing the
second time; one audit row per evaluation keeps the counts (not one per link: a rule may
match a million customers). The scheduled job (:data:`evaluate_tag_rules`) evaluates every
active rule in its scope; ``POST /tag-rules/{id}/evaluate`` queues one rule now.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import asyncpg
import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import audit, db, jobs
from bankcrm.context import require_scope
from bankcrm.plugin_api import ScheduleSpec
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_customer_archive import events
from bankcrm_customer_archive.records import (
    CUSTOMER,
    ENTITY_CUSTOMER_TAG,
    ENTITY_TAG,
    branch_in_scope,
    live_customer,
)
from bankcrm_customer_archive.schemas import (
    Color,
    CustomerTagIn,
    Id,
    TagIn,
    TagName,
    TagOut,
    TagPatch,
)
from bankcrm_customer_archive.search import services as search
from bankcrm_customer_archive.validation import Problems

__all__ = [
    "PreviewIn",
    "PreviewOut",
    "RuleIn",
    "RuleOut",
    "RulePatch",
    "create_rule",
    "create_tag",
    "delete_rule",
    "delete_tag",
    "enqueue_evaluation",
    "evaluate_rule",
    "evaluate_tag_rules",
    "get_rule",
    "list_customer_tags",
    "list_rules",
    "list_tags",
    "preview",
    "tag_customer",
    "untag_customer",
    "update_rule",
    "update_tag",
]

log = logging.getLogger(__name__)

TAG = "customer_archive_tag"
CUSTOMER_TAG = "customer_archive_customer_tag"
RULE = "customer_archive_tag_rule"
ENTITY_RULE = "customer_archive.tag_rule"
ENTITY_EVALUATION = "customer_archive.tag_rule_evaluation"

Description = Annotated[str, Meta(max_length=500)]
Criteria = dict[str, Any]
"""A :class:`~bankcrm_customer_archive.search.services.CustomerFilter` as JSON (validated), plus
``age_min`` / ``age_max`` (whole years, evaluated on each day's date)."""


class _In(Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class RuleIn(_In):
    """A new rule tag: the tag and its rule, created together."""

    name: TagName
    criteria: Criteria
    color: Color = "#722ed1"
    description: Description = ""
    active: bool = True
    branch_id: Id | None = None
    """The tag's branch, whose customers the rule selects; defaults to your home branch."""


class RulePatch(_In):
    criteria: Criteria | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class PreviewIn(_In):
    criteria: Criteria
    branch_id: Id | None = None


class PreviewOut(Struct):
    branch_id: int
    matching: int
    """Customers of the branch the rule would tag now."""


class RuleOut(Struct):
    id: int
    tag_id: int
    branch_id: int
    name: str
    color: str
    criteria: Criteria
    description: str
    active: bool
    created_at: datetime
    updated_at: datetime
    evaluated_at: datetime | None
    matched: int | None
    """Customers carrying the tag after the last evaluation."""
    added: int | None
    removed: int | None


class EvaluationQueued(Struct):
    rule_id: int
    message_id: str


# --- criteria -------------------------------------------------------------------------------

# Personal data does not belong in a stored rule (rules are configuration, shown to every
# tag author of the branch); the branch is the tag's own.
FORBIDDEN_CRITERIA = ("phone", "id_number", "branch_id")
MAX_AGE = 150


@dataclass(frozen=True)
class RuleCriteria:
    """A search filter plus what only a standing rule needs: an age range, turned into
    birth dates on the day of each evaluation (a stored ``birth_to`` would go stale)."""

    filter: search.CustomerFilter
    age_min: int | None = None
    age_max: int | None = None

    def to_json(self) -> Criteria:
        stored = search.filter_to_json(self.filter)
        for name in ("age_min", "age_max"):
            if getattr(self, name) is not None:
                stored[name] = getattr(self, name)
        return stored

    def on(self, today: date) -> search.CustomerFilter:
        """The filter for ``today``: born on or before ``today`` minus ``age_min`` years,
        after ``today`` minus ``age_max + 1`` years."""
        births: dict[str, date] = {}
        if self.age_min is not None:
            births["birth_to"] = _years_before(today, self.age_min)
        if self.age_max is not None:
            births["birth_from"] = _years_before(today, self.age_max + 1) + timedelta(days=1)
        return msgspec.structs.replace(self.filter, **births) if births else self.filter


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _today() -> date:
    return datetime.now(search.CHINA).date()


def _decode_criteria(
    problems: Problems, raw: Mapping[str, Any], prefix: str
) -> RuleCriteria | None:
    rest = dict(raw)
    ages: dict[str, int | None] = {}
    for name in ("age_min", "age_max"):
        value = rest.pop(name, None)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AGE
        ):
            problems.add(f"{prefix}.{name}", f"a whole number of years from 0 to {MAX_AGE}")
            value = None
        ages[name] = value
    age_min, age_max = ages["age_min"], ages["age_max"]
    if age_min is not None and age_max is not None and age_min > age_max:
        problems.add(f"{prefix}.age_max", "must not be below age_min")
    if (age_min is not None or age_max is not None) and (
        rest.get("birth_from") is not None or rest.get("birth_to") is not None
    ):
        problems.add(f"{prefix}.age_min", "give ages or birth dates, not both")
    filter_ = search.filter_from_json(problems, rest, prefix)
    if filter_ is None or problems.errors:
        return None
    return RuleCriteria(filter_, age_min, age_max)


async def _validated_criteria(
    problems: Problems, raw: Mapping[str, Any], branch_id: int, tag_name: str | None
) -> RuleCriteria | None:
    """The criteria of a rule, or None with the problems recorded (field paths
    ``body.criteria.<field>``)."""
    for key in FORBIDDEN_CRITERIA:
        if raw.get(key) is not None:
            problems.add(f"body.criteria.{key}", "not allowed in a tag rule")
    if problems.errors:
        return None
    criteria = _decode_criteria(problems, raw, "body.criteria")
    if criteria is None:
        return None
    if not criteria.to_json():
        problems.add("body.criteria", "give at least one criterion")
    if tag_name is not None and tag_name in search.filter_tag_names(criteria.filter):
        problems.add("body.criteria.tags", "a rule cannot select by its own tag")
    if problems.errors:
        return None
    await search.check_filter_references(problems, criteria.filter, branch_id, "body.criteria")
    if problems.errors:
        return None
    try:
        # Whatever else search refuses (a segment nested too deep ...) is refused now,
        # not at the first evaluation.
        await _matching_sql(criteria, branch_id, prefix="body.criteria")
    except Problem as exc:
        for error in exc.errors or [FieldError("body.criteria", exc.detail)]:
            problems.add(error.field, error.message)
        return None
    return criteria


async def _matching_sql(
    criteria: RuleCriteria, branch_id: int, *, prefix: str = "criteria"
) -> tuple[str, list[Any]]:
    """``SELECT c.id`` of the branch's own customers (not its sub-branches') matching
    ``criteria`` today: the search's own conditions, so a rule selects exactly what a
    search with the same filter shows."""
    where, args = await search.filter_conditions(criteria.on(_today()), prefix=prefix)
    args = [*args, branch_id]
    return (
        f"SELECT c.id FROM customer_archive_customer c WHERE {where}"
        f" AND c.branch_id = ${len(args)}",
        args,
    )


# --- rules: reads ---------------------------------------------------------------------------

_RULE_COLUMNS = """r.id, r.tag, r.branch_id, t.name, t.color, r.criteria, r.description,
  r.active, r.created_at, r.updated_at, r.evaluated_at, r.matched, r.added, r.removed"""


def _rule_out(row: Mapping[str, Any]) -> RuleOut:
    criteria = row["criteria"]
    return RuleOut(
        id=row["id"], tag_id=row["tag"], branch_id=row["branch_id"], name=row["name"],
        color=row["color"],
        criteria=json.loads(criteria) if isinstance(criteria, str) else criteria,
        description=row["description"], active=row["active"], created_at=row["created_at"],
        updated_at=row["updated_at"], evaluated_at=row["evaluated_at"],
        matched=row["matched"], added=row["added"], removed=row["removed"],
    )  # fmt: skip


async def list_rules(branch_id: int | None = None) -> list[RuleOut]:
    rows = await db.fetch(
        f"SELECT {_RULE_COLUMNS} FROM {RULE} r JOIN {TAG} t ON t.id = r.tag"
        " WHERE ($1::bigint IS NULL OR r.branch_id = $1) ORDER BY r.branch_id, t.name",
        branch_id,
    )
    return [_rule_out(r) for r in rows]


async def _rule_row(rule_id: int, *, lock: bool = False) -> asyncpg.Record:
    row = await db.fetchrow(
        f"SELECT {_RULE_COLUMNS} FROM {RULE} r JOIN {TAG} t ON t.id = r.tag WHERE r.id = $1"
        + (" FOR UPDATE OF r" if lock else ""),
        rule_id,
    )
    if row is None:
        raise not_found(f"tag rule {rule_id}")
    return row


async def get_rule(rule_id: int) -> RuleOut:
    return _rule_out(await _rule_row(rule_id))


# --- rules: writes --------------------------------------------------------------------------


def _branch(branch_id: int | None) -> int:
    scope = require_scope()
    chosen = branch_id if branch_id is not None else scope.home_branch_id
    if chosen is None:
        raise Problem(422, "body.branch_id: required", [FieldError("body.branch_id",
                      "required: you have no home branch")], "invalid")  # fmt: skip
    if chosen not in scope.branch_ids:
        raise Problem(422, "body.branch_id: outside your scope", [FieldError("body.branch_id",
                      "the branch is outside your scope")], "invalid")  # fmt: skip
    return chosen


def _stored(criteria: RuleCriteria) -> str:
    return db.jsonb(criteria.to_json())


async def create_rule(data: RuleIn) -> RuleOut:
    """Create a rule tag and its rule (not evaluated yet: evaluate it, or wait for the
    schedule)."""
    branch_id = _branch(data.branch_id)
    name = data.name.strip()
    problems = Problems()
    criteria = await _validated_criteria(problems, data.criteria, branch_id, name)
    problems.raise_if_any()
    assert criteria is not None
    try:
        async with db.transaction():
            tag = await db.fetchrow(
                f"INSERT INTO {TAG} (branch_id, name, color, kind, created_at)"
                " VALUES ($1, $2, $3, 'rule', now()) RETURNING id",
                branch_id,
                name,
                data.color,
            )
            assert tag is not None
            rule_id = await db.fetchval(
                f"INSERT INTO {RULE} (branch_id, tag, criteria, description, active,"
                " created_by, created_at, updated_at)"
                " VALUES ($1, $2, $3::jsonb, $4, $5, $6, now(), now()) RETURNING id",
                branch_id,
                tag["id"],
                _stored(criteria),
                data.description.strip(),
                data.active,
                require_scope().user_id,
            )
            rule = _rule_out(await _rule_row(rule_id))
            await audit.record(
                audit.Action.CREATE,
                ENTITY_RULE,
                rule_id,
                branch_id=branch_id,
                after={"tag_id": rule.tag_id, "name": rule.name, "color": rule.color,
                       "criteria": rule.criteria, "description": rule.description,
                       "active": rule.active},
            )  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise Problem(
            409,
            "the branch already has a tag of this name",
            [FieldError("body.name", "already exists in this branch")],
            "duplicate",
        ) from exc
    return rule


async def update_rule(rule_id: int, data: RulePatch) -> RuleOut:
    """Change a rule (its links change at the next evaluation)."""
    async with db.transaction():
        row = await _rule_row(rule_id, lock=True)
        before = _rule_out(row)
        values: dict[str, Any] = {}
        if data.criteria is not UNSET:
            problems = Problems()
            criteria = await _validated_criteria(
                problems, data.criteria, row["branch_id"], row["name"]
            )
            problems.raise_if_any()
            assert criteria is not None
            if criteria.to_json() != before.criteria:
                values["criteria"] = _stored(criteria)
        if data.description is not UNSET and data.description.strip() != before.description:
            values["description"] = data.description.strip()
        if data.active is not UNSET and data.active != before.active:
            values["active"] = data.active
        if not values:
            return before
        assignments = ", ".join(
            f"{k} = ${i + 2}" + ("::jsonb" if k == "criteria" else "") for i, k in enumerate(values)
        )
        await db.fetch(
            f"UPDATE {RULE} SET {assignments}, updated_at = now() WHERE id = $1",
            rule_id,
            *values.values(),
        )
        after = _rule_out(await _rule_row(rule_id))
        changed = [k for k in values]
        await audit.record(
            audit.Action.UPDATE,
            ENTITY_RULE,
            rule_id,
            branch_id=row["branch_id"],
            before={k: getattr(before, k) for k in changed},
            after={k: getattr(after, k) for k in changed},
        )
    return after


async def delete_rule(rule_id: int) -> None:
    """Delete the rule, its tag and the tag's links, in one audited step."""
    async with db.transaction():
        row = await _rule_row(rule_id, lock=True)
        rule = _rule_out(row)
        unlinked = await db.fetchval(
            f"WITH d AS (DELETE FROM {CUSTOMER_TAG} WHERE tag = $1 RETURNING 1)"
            " SELECT count(*) FROM d",
            rule.tag_id,
        )
        await db.fetch(f"DELETE FROM {RULE} WHERE id = $1", rule_id)
        await db.fetch(f"DELETE FROM {TAG} WHERE id = $1", rule.tag_id)
        await audit.record(
            audit.Action.DELETE,
            ENTITY_RULE,
            rule_id,
            branch_id=rule.branch_id,
            before={"tag_id": rule.tag_id, "name": rule.name, "criteria": rule.criteria,
                    "description": rule.description, "unlinked_customers": unlinked},
        )  # fmt: skip


# --- preview and evaluation -----------------------------------------------------------------


async def preview(data: PreviewIn) -> PreviewOut:
    """How many of the branch's customers a rule would tag now (nothing is saved)."""
    branch_id = _branch(data.branch_id)
    problems = Problems()
    criteria = await _validated_criteria(problems, data.criteria, branch_id, None)
    problems.raise_if_any()
    assert criteria is not None
    sql, args = await _matching_sql(criteria, branch_id)
    matching = await db.fetchval(f"SELECT count(*) FROM ({sql}) m", *args)
    return PreviewOut(branch_id, matching)


async def evaluate_rule(rule_id: int, *, run_id: str) -> tuple[int, int, int]:
    """Bring the rule's links in line with its criteria: (matched, added, removed).

    Caller holds the transaction. Manual links are never touched; a customer tagged by
    hand with a rule tag (possible only before the tag became a rule tag) keeps that link.
    """
    row = await db.fetchrow(
        f"SELECT r.id, r.branch_id, r.tag, r.criteria FROM {RULE} r WHERE r.id = $1 FOR UPDATE",
        rule_id,
    )
    if row is None:
        raise not_found(f"tag rule {rule_id}")
    raw = row["criteria"]
    problems = Problems()
    criteria = _decode_criteria(
        problems, json.loads(raw) if isinstance(raw, str) else raw, "criteria"
    )
    if criteria is None:
        # The filter model changed under a stored rule: report it, keep the links as they
        # are rather than unlink every customer.
        log.error("tag rule %s has invalid criteria: %s", rule_id, problems.errors)
        return (0, 0, 0)
    matching_sql, args = await _matching_sql(criteria, row["branch_id"])
    tag_arg, branch_arg = len(args) + 1, len(args) + 2
    counts = await db.fetchrow(
        f"""WITH matching AS MATERIALIZED ({matching_sql}),
added AS (
  INSERT INTO {CUSTOMER_TAG} (branch_id, customer, tag, source, created_at)
  SELECT ${branch_arg}, m.id, ${tag_arg}, 'rule', now() FROM matching m
  ON CONFLICT (customer, tag) DO NOTHING
  RETURNING 1),
removed AS (
  DELETE FROM {CUSTOMER_TAG} ct
  WHERE ct.tag = ${tag_arg} AND ct.source = 'rule'
    AND NOT EXISTS (SELECT 1 FROM matching m WHERE m.id = ct.customer)
  RETURNING 1)
SELECT (SELECT count(*) FROM matching) AS matching, (SELECT count(*) FROM added) AS added,
  (SELECT count(*) FROM removed) AS removed""",
        *args,
        row["tag"],
        row["branch_id"],
    )
    assert counts is not None
    added, removed = counts["added"], counts["removed"]
    # Carrying the tag now: every match (linked before, or just now) plus manual links of
    # customers the rule does not match.
    matched = await db.fetchval(f"SELECT count(*) FROM {CUSTOMER_TAG} WHERE tag = $1", row["tag"])
    await db.fetch(
        f"UPDATE {RULE} SET evaluated_at = now(), matched = $2, added = $3, removed = $4"
        " WHERE id = $1",
        rule_id,
        matched,
        added,
        removed,
    )
    await audit.record(
        audit.Action.UPDATE,
        ENTITY_EVALUATION,
        rule_id,
        branch_id=row["branch_id"],
        after={"run": run_id, "matching": counts["matching"], "added": added,
               "removed": removed, "tagged": matched},
    )  # fmt: skip
    return (matched, added, removed)


def _run_id() -> str:
    try:
        return jobs.current_job().message_id
    except RuntimeError:
        return require_scope().request_id


@jobs.actor("customer_archive.evaluate_tag_rules", time_limit=60 * 60 * 1000)
async def evaluate_tag_rules(rule_id: int | None = None) -> None:
    """Evaluate one rule, or every active rule visible in the job's scope.

    Runs in the job's one transaction (with the idempotency ledger row): a re-delivered
    message is skipped, and a second message finds the links already right.
    """
    run_id = _run_id()
    if rule_id is not None:
        rule_ids = [rule_id] if await db.fetchval(
            f"SELECT id FROM {RULE} WHERE id = $1", rule_id
        ) else []  # fmt: skip
    else:
        rows = await db.fetch(f"SELECT id FROM {RULE} WHERE active ORDER BY id")
        rule_ids = [r["id"] for r in rows]
    for one in rule_ids:
        matched, added, removed = await evaluate_rule(one, run_id=run_id)
        log.info(
            "tag rule evaluated",
            extra={"rule_id": one, "matched": matched, "added": added, "removed": removed},
        )


async def enqueue_evaluation(rule_id: int) -> EvaluationQueued:
    """Queue the evaluation of one rule now (with the caller's scope)."""
    async with db.transaction():
        await _rule_row(rule_id)
        message_id = await evaluate_tag_rules.enqueue(rule_id)
    return EvaluationQueued(rule_id, message_id)


DEMO_RULES: tuple[tuple[str, str, Criteria, str], ...] = (
    ("财富及私行客户", "#fa8c16", {"value_tiers": ["private", "wealth"]},
     "Value tier private or wealth"),
    ("银发客户", "#13c2c2", {"kind": "individual", "age_min": 60}, "Individuals aged 60 or more"),
)  # fmt: skip


async def seed_demo_rules(branch_ids: Sequence[int]) -> None:
    """The demo's rule tags in each branch, evaluated once (caller holds the transaction
    and a scope over the branches; tiers should be computed first)."""
    for branch_id in branch_ids:
        for name, color, criteria, description in DEMO_RULES:
            tag_id = await db.fetchval(
                f"INSERT INTO {TAG} (branch_id, name, color, kind, created_at)"
                " VALUES ($1, $2, $3, 'rule', now()) RETURNING id",
                branch_id,
                name,
                color,
            )
            rule_id = await db.fetchval(
                f"INSERT INTO {RULE} (branch_id, tag, criteria, description, active,"
                " created_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, true, now(), now())"
                " RETURNING id",
                branch_id,
                tag_id,
                db.jsonb(criteria),
                description,
            )
            await audit.record(
                audit.Action.CREATE, ENTITY_RULE, rule_id, branch_id=branch_id,
                after={"tag_id": tag_id, "name": name, "criteria": criteria, "demo": True},
            )  # fmt: skip
            await evaluate_rule(rule_id, run_id="demo")


TAGGING_ACTORS = [evaluate_tag_rules]
TAGGING_SCHEDULES = [
    ScheduleSpec(
        name="customer_archive.evaluate_tag_rules",
        actor_name="customer_archive.evaluate_tag_rules",
        every_seconds=3600,
        description="Re-evaluate every active tag rule (links follow the data, hourly).",
    )
]


# --- the branch's tag vocabulary and manual tags --------------------------------------------------


def _tag_out(row: Mapping[str, Any]) -> TagOut:
    return TagOut(row["id"], row["branch_id"], row["name"], row["color"], row["kind"])


def _duplicate_tag() -> Problem:
    return Problem(
        409,
        "the branch already has a tag of this name",
        [FieldError("body.name", "already exists in this branch")],
        "duplicate",
    )


async def list_tags(branch_id: int | None = None) -> list[TagOut]:
    """Tags of the branches in scope (or of one branch), by branch and name."""
    rows = await db.fetch(
        f"SELECT * FROM {TAG} WHERE ($1::bigint IS NULL OR branch_id = $1)"
        " ORDER BY branch_id, name",
        branch_id,
    )
    return [_tag_out(r) for r in rows]


async def create_tag(data: TagIn) -> TagOut:
    branch_id = branch_in_scope(data.branch_id, "body.branch_id")
    try:
        async with db.transaction():
            row = await db.fetchrow(
                f"INSERT INTO {TAG} (branch_id, name, color, created_at)"
                " VALUES ($1, $2, $3, now()) RETURNING *",
                branch_id,
                data.name.strip(),
                data.color,
            )
            assert row is not None
            await audit.record(
                audit.Action.CREATE,
                ENTITY_TAG,
                row["id"],
                branch_id=branch_id,
                after={"name": row["name"], "color": row["color"]},
            )
    except asyncpg.UniqueViolationError as exc:
        raise _duplicate_tag() from exc
    return _tag_out(row)


async def update_tag(tag_id: int, data: TagPatch) -> TagOut:
    values = {k: v.strip() for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    try:
        async with db.transaction():
            row = await db.fetchrow(f"SELECT * FROM {TAG} WHERE id = $1 FOR UPDATE", tag_id)
            if row is None:
                raise not_found(f"tag {tag_id}")
            changed = {k: v for k, v in values.items() if row[k] != v}
            if not changed:
                return _tag_out(row)
            assignments = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(changed))
            updated = await db.fetchrow(
                f"UPDATE {TAG} SET {assignments} WHERE id = $1 RETURNING *",
                tag_id,
                *changed.values(),
            )
            assert updated is not None
            await audit.record(
                audit.Action.UPDATE,
                ENTITY_TAG,
                tag_id,
                branch_id=row["branch_id"],
                before={k: row[k] for k in changed},
                after=changed,
            )
    except asyncpg.UniqueViolationError as exc:
        raise _duplicate_tag() from exc
    return _tag_out(updated)


async def delete_tag(tag_id: int) -> None:
    """Delete a tag and remove it from its customers, in one audited step."""
    async with db.transaction():
        row = await db.fetchrow(f"SELECT * FROM {TAG} WHERE id = $1 FOR UPDATE", tag_id)
        if row is None:
            raise not_found(f"tag {tag_id}")
        untagged = await db.fetch(
            f"DELETE FROM {CUSTOMER_TAG} WHERE tag = $1 RETURNING customer", tag_id
        )
        await db.fetch(f"DELETE FROM {TAG} WHERE id = $1", tag_id)
        await audit.record(
            audit.Action.DELETE, ENTITY_TAG, tag_id, branch_id=row["branch_id"],
            before={"name": row["name"], "color": row["color"],
                    "customer_ids": sorted(r["customer"] for r in untagged)},
        )  # fmt: skip


async def list_customer_tags(customer_id: int) -> list[TagOut]:
    rows = await db.fetch(
        f"SELECT t.*, c.id AS live FROM {CUSTOMER} c LEFT JOIN {CUSTOMER_TAG} ct"
        f" ON ct.customer = c.id LEFT JOIN {TAG} t ON t.id = ct.tag"
        " WHERE c.id = $1 AND c.deleted_at IS NULL ORDER BY t.name",
        customer_id,
    )
    if not rows:
        raise not_found(f"customer {customer_id}")
    return [_tag_out(r) for r in rows if r["id"] is not None]


async def tag_customer(customer_id: int, data: CustomerTagIn) -> list[TagOut]:
    """Tag a customer with a tag of its own branch (tagging twice changes nothing)."""
    async with db.transaction():
        customer = await live_customer(customer_id)
        tag = await db.fetchrow(f"SELECT * FROM {TAG} WHERE id = $1", data.tag_id)
        if tag is None or tag["branch_id"] != customer["branch_id"]:
            raise invalid("body.tag_id", "no such tag in the customer's branch")
        if tag["kind"] != "manual":
            raise invalid("body.tag_id", "a rule tag is set by its rule only")
        inserted = await db.fetchval(
            f"INSERT INTO {CUSTOMER_TAG} (branch_id, customer, tag, created_at)"
            " VALUES ($1, $2, $3, now()) ON CONFLICT (customer, tag) DO NOTHING RETURNING id",
            customer["branch_id"],
            customer_id,
            data.tag_id,
        )
        if inserted is not None:
            await audit.record(
                audit.Action.CREATE,
                ENTITY_CUSTOMER_TAG,
                inserted,
                branch_id=customer["branch_id"],
                after={"customer_id": customer_id, "tag_id": data.tag_id, "tag": tag["name"]},
            )
            await events.emit(
                events.CUSTOMER_UPDATED,
                customer_id=customer_id,
                branch_id=customer["branch_id"],
                fields=["tags"],
            )
    return await list_customer_tags(customer_id)


async def untag_customer(customer_id: int, tag_id: int) -> None:
    async with db.transaction():
        await live_customer(customer_id)
        row = await db.fetchrow(
            f"DELETE FROM {CUSTOMER_TAG} ct USING {TAG} t WHERE ct.customer = $1 AND ct.tag = $2"
            " AND t.id = ct.tag AND ct.source = 'manual' RETURNING ct.id, ct.branch_id, t.name",
            customer_id,
            tag_id,
        )
        if row is None:
            if await db.fetchval(
                f"SELECT 1 FROM {CUSTOMER_TAG} WHERE customer = $1 AND tag = $2",
                customer_id,
                tag_id,
            ):
                raise Problem(
                    409, "the tag's rule set this tag: change the rule instead", code="rule_tag"
                )
            raise not_found(f"tag {tag_id} on customer {customer_id}")
        await audit.record(
            audit.Action.DELETE,
            ENTITY_CUSTOMER_TAG,
            row["id"],
            branch_id=row["branch_id"],
            before={"customer_id": customer_id, "tag_id": tag_id, "tag": row["name"]},
        )
        await events.emit(
            events.CUSTOMER_UPDATED,
            customer_id=customer_id,
            branch_id=row["branch_id"],
            fields=["tags"],
        )
