"""Assignment rules per branch: checked against the kind's declared attributes when saved,
so a rule that cannot run is refused with the reason instead of silently never matching."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bankcrm import audit, db
from bankcrm.assignment import engine
from bankcrm.assignment.service import RULE_ENTITY, db_json, kind_of
from bankcrm.context import require_scope
from bankcrm.web.problems import FieldError, Problem, invalid, not_found


@dataclass(frozen=True)
class RuleFields:
    branch_id: int
    work_kind: str
    name: str
    priority: int = 100
    condition: str = ""
    strategy: str = "least_loaded"
    match_skills: Mapping[str, str] | None = None
    team_id: int | None = None
    active: bool = True


@dataclass(frozen=True)
class Rule(RuleFields):
    id: int = 0


_COLUMNS = (
    "id, branch_id, work_kind, name, priority, condition, strategy, match_skills, team_id, active"
)


def _rule(row: Mapping[str, Any]) -> Rule:
    values = dict(row)
    values["match_skills"] = db_json(values["match_skills"])
    return Rule(**values)


async def _check(data: RuleFields) -> None:
    if data.branch_id not in require_scope().branch_ids:
        raise invalid("body.branch_id", f"branch {data.branch_id} is not one of your branches")
    kind = kind_of(data.work_kind)
    if data.strategy not in engine.STRATEGIES:
        raise invalid("body.strategy", f"use one of {', '.join(engine.STRATEGIES)}")
    try:
        engine.compile_condition(kind, data.condition)
        engine.check_match_skills(kind, data.match_skills or {})
    except engine.RuleProblem as exc:
        raise Problem(
            422, f"body.{exc.field}: {exc.message}", [FieldError(f"body.{exc.field}", exc.message)],
            "invalid_rule",
        ) from exc  # fmt: skip
    if data.team_id is not None:
        team_branch = await db.fetchval(
            "SELECT branch_id FROM bankcrm_team WHERE id = $1", data.team_id
        )
        if team_branch != data.branch_id:
            raise invalid("body.team_id", "no team of this branch has this id")


async def list_rules(branch_id: int | None = None, work_kind: str | None = None) -> list[Rule]:
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM bankcrm_assignment_rule WHERE ($1::int IS NULL OR branch_id = $1)"
        " AND ($2::text IS NULL OR work_kind = $2) ORDER BY branch_id, work_kind, priority, id",
        branch_id,
        work_kind,
    )
    return [_rule(r) for r in rows]


async def get_rule(rule_id: int) -> Rule:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM bankcrm_assignment_rule WHERE id = $1", rule_id
    )
    if row is None:
        raise not_found(f"assignment rule {rule_id}")
    return _rule(row)


def _audited(rule: RuleFields) -> dict[str, Any]:
    values = asdict(rule)
    values["match_skills"] = dict(rule.match_skills or {})
    return values


async def create_rule(data: RuleFields) -> Rule:
    await _check(data)
    async with db.transaction():
        rule_id = await db.fetchval(
            "INSERT INTO bankcrm_assignment_rule (branch_id, work_kind, name, priority, condition,"
            " strategy, match_skills, team_id, active) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb,"
            " $8, $9) RETURNING id",
            data.branch_id, data.work_kind, data.name, data.priority, data.condition,
            data.strategy, db.jsonb(dict(data.match_skills or {})), data.team_id, data.active,
        )  # fmt: skip
        await audit.record(
            audit.Action.CREATE, RULE_ENTITY, rule_id, branch_id=data.branch_id,
            after=_audited(data),
        )  # fmt: skip
    return await get_rule(rule_id)


async def update_rule(rule_id: int, changes: Mapping[str, Any]) -> Rule:
    async with db.transaction():
        before = await get_rule(rule_id)
        values = {k: v for k, v in asdict(before).items() if k != "id"}
        values.update(changes)
        after = RuleFields(**values)
        await _check(after)
        await db.fetch(
            "UPDATE bankcrm_assignment_rule SET branch_id = $2, work_kind = $3, name = $4,"
            " priority = $5, condition = $6, strategy = $7, match_skills = $8::jsonb,"
            " team_id = $9, active = $10, updated_at = now() WHERE id = $1",
            rule_id, after.branch_id, after.work_kind, after.name, after.priority,
            after.condition, after.strategy, db.jsonb(dict(after.match_skills or {})),
            after.team_id, after.active,
        )  # fmt: skip
        old, new = _audited(before), _audited(after)
        old.pop("id", None)
        await audit.record(
            audit.Action.UPDATE, RULE_ENTITY, rule_id, branch_id=after.branch_id,
            before={k: v for k, v in old.items() if new.get(k) != v},
            after={k: v for k, v in new.items() if old.get(k) != v},
        )  # fmt: skip
    return await get_rule(rule_id)


async def delete_rule(rule_id: int) -> None:
    async with db.transaction():
        before = await get_rule(rule_id)
        await db.fetch("DELETE FROM bankcrm_assignment_rule WHERE id = $1", rule_id)
        await audit.record(
            audit.Action.DELETE, RULE_ENTITY, rule_id, branch_id=before.branch_id,
            before=_audited(before),
        )  # fmt: skip


__all__ = [
    "Rule",
    "RuleFields",
    "create_rule",
    "delete_rule",
    "get_rule",
    "list_rules",
    "update_rule",
]
