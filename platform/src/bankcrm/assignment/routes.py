"""REST API of the assignment engine: rules, loads, preview, history and reassignment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Router, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import UNSET, Meta, UnsetType

from bankcrm.assignment import rules, service
from bankcrm.context import require_scope
from bankcrm.kernel_plugin import ASSIGNMENT_MANAGE, EMPLOYEE_READ
from bankcrm.web.guards import require_actor, require_permission
from bankcrm.web.problems import not_found

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Kind = Annotated[str, Meta(min_length=3, max_length=64)]
ItemId = Annotated[str, Meta(min_length=1, max_length=64)]
Skill = Literal["products", "segments", "languages", "territories"]
Attribute = Annotated[str, Meta(min_length=1, max_length=64)]
Condition = Annotated[str, Meta(max_length=2000)]
Strategy = Literal["least_loaded", "round_robin"]
Priority = Annotated[int, Meta(ge=0, le=10_000)]
RuleName = Annotated[str, Meta(min_length=1, max_length=200)]
AttributeValue = str | float | bool | list[str] | None


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    branch_id: Id
    work_kind: Kind
    name: RuleName
    priority: Priority = 100
    condition: Condition = ""
    """A typed expression over the kind's attributes, e.g. ``amount >= 1000000 and
    product == "loan"``; empty: every item."""
    strategy: Strategy = "least_loaded"
    match_skills: Annotated[dict[Skill, Attribute], Meta(max_length=4)] = {}
    """Employee skill -> item attribute the assignee must cover, e.g.
    ``{"products": "product", "languages": "language"}``."""
    team_id: Id | None = None
    active: bool = True


class RulePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: RuleName | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    condition: Condition | UnsetType = UNSET
    strategy: Strategy | UnsetType = UNSET
    match_skills: Annotated[dict[Skill, Attribute], Meta(max_length=4)] | UnsetType = UNSET
    team_id: Id | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class RuleOut(msgspec.Struct):
    id: int
    branch_id: int
    work_kind: str
    name: str
    priority: int
    condition: str
    strategy: str
    match_skills: dict[str, str]
    team_id: int | None
    active: bool


class WorkKindOut(msgspec.Struct):
    name: str
    title: str
    title_en: str
    attributes: dict[str, str]


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    work_kind: Kind
    branch_id: Id
    attributes: Annotated[dict[Attribute, AttributeValue], Meta(max_length=64)] = {}


class PreviewOut(msgspec.Struct):
    employee_id: int | None
    how: str
    rule_id: int | None


class ReassignIn(msgspec.Struct, forbid_unknown_fields=True):
    work_kind: Kind
    item_id: ItemId
    employee_id: Id
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class AssignedOut(msgspec.Struct):
    work_kind: str
    item_id: str
    branch_id: int
    employee_id: int
    how: str
    rule_id: int | None
    assigned_at: datetime


def _rule_out(rule: rules.Rule) -> RuleOut:
    return RuleOut(
        rule.id, rule.branch_id, rule.work_kind, rule.name, rule.priority, rule.condition,
        rule.strategy, dict(rule.match_skills or {}), rule.team_id, rule.active,
    )  # fmt: skip


READ = {"permission": EMPLOYEE_READ}
MANAGE = {"permission": ASSIGNMENT_MANAGE}
TAGS = ["assignment"]


@get("/assignment/work-kinds", opt=READ, tags=TAGS)
async def list_work_kinds() -> list[WorkKindOut]:
    """The kinds of work the installed plugins hand out, with the attributes rules test."""
    return [
        WorkKindOut(k.name, k.title.zh, k.title.en, dict(k.attributes))
        for k in sorted(service.work_kinds().values(), key=lambda k: k.name)
    ]


@get("/assignment/rules", opt=READ, tags=TAGS)
async def list_rules(
    branch_id: Annotated[int | None, QueryParameter(ge=1)] = None,
    work_kind: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> list[RuleOut]:
    return [_rule_out(r) for r in await rules.list_rules(branch_id, work_kind)]


@post("/assignment/rules", opt=MANAGE, tags=TAGS)
async def create_rule(data: JSONBody[RuleIn]) -> RuleOut:
    return _rule_out(await rules.create_rule(rules.RuleFields(**msgspec.structs.asdict(data))))


@get("/assignment/rules/{rule_id:int}", opt=READ, tags=TAGS)
async def get_rule(rule_id: FromPath[int]) -> RuleOut:
    return _rule_out(await rules.get_rule(rule_id))


@patch("/assignment/rules/{rule_id:int}", opt=MANAGE, tags=TAGS)
async def update_rule(rule_id: FromPath[int], data: JSONBody[RulePatch]) -> RuleOut:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    return _rule_out(await rules.update_rule(rule_id, changes))


@delete("/assignment/rules/{rule_id:int}", opt=MANAGE, tags=TAGS, status_code=204)
async def delete_rule(rule_id: FromPath[int]) -> None:
    await rules.delete_rule(rule_id)


@post("/assignment/preview", opt=MANAGE, tags=TAGS, status_code=200)
async def preview(data: JSONBody[PreviewIn]) -> PreviewOut:
    """Who would get such an item now, by the branch's rules (nothing is written)."""
    employee, how, rule = await service.preview(
        service.WorkItem(data.work_kind, "preview", data.branch_id, data.attributes)
    )
    return PreviewOut(employee, how, rule)


@post("/assignment/reassign", opt=MANAGE, tags=TAGS, status_code=200)
async def reassign(data: JSONBody[ReassignIn]) -> AssignedOut:
    """Give a work item to someone else by hand; the reason goes to the audit trail."""
    done = await service.reassign(data.work_kind, data.item_id, data.employee_id, data.reason)
    return AssignedOut(
        done.work_kind, done.item_id, done.branch_id, done.employee_id, done.how, done.rule_id,
        done.assigned_at,
    )  # fmt: skip


@get("/assignment/items/{work_kind:str}/{item_id:str}", opt=READ, tags=TAGS)
async def item_history(
    work_kind: FromPath[str], item_id: FromPath[str]
) -> list[service.AssignmentRecord]:
    """Who has had the item, oldest first (the last without ``released_at`` holds it)."""
    found = await service.history(work_kind, item_id)
    if not found:
        raise not_found(f"assignments of {work_kind} {item_id}")
    return found


@get("/assignment/load", opt=READ, tags=TAGS)
async def branch_load(
    branch_id: Annotated[int, QueryParameter(ge=1)],
) -> list[service.Load]:
    """Open work against capacity for each active employee of the branch."""
    if branch_id not in require_scope().branch_ids:
        raise not_found(f"branch {branch_id}")
    return await service.loads(branch_id)


def assignment_router() -> Router:
    return Router(
        path="/api/v1",
        route_handlers=[
            list_work_kinds,
            list_rules,
            create_rule,
            get_rule,
            update_rule,
            delete_rule,
            preview,
            reassign,
            item_history,
            branch_load,
        ],
        guards=[require_actor, require_permission],
    )


__all__ = ["assignment_router"]
