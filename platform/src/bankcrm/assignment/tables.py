"""Assignment tables (branch-scoped; created by the kernel migration ``2026-12-04T05:30``)."""

from __future__ import annotations

from typing import Any

from piccolo.columns import (
    JSONB,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.organisation.tables import Employee, Team
from bankcrm.tables import branch_column


class AssignmentRule(Table, tablename="bankcrm_assignment_rule"):
    branch_id = branch_column()
    work_kind = Varchar(length=64)
    name = Varchar(length=200)
    priority = Integer(default=100)
    """Lower first."""
    condition = Text(default="")
    """A typed rule expression over the work item's attributes; empty: every item."""
    strategy = Varchar(length=16, default="least_loaded")
    match_skills = JSONB(default={})
    """Employee skill field -> work attribute that must be among them."""
    team_id: ForeignKey[Any] = ForeignKey(
        Team, null=True, default=None, on_delete=OnDelete.restrict
    )
    active = Boolean(default=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class Assignment(Table, tablename="bankcrm_assignment"):
    id = BigSerial(primary_key=True)
    branch_id = branch_column()
    work_kind = Varchar(length=64)
    item_id = Varchar(length=64)
    employee_id: ForeignKey[Any] = ForeignKey(Employee, on_delete=OnDelete.restrict)
    rule_id: ForeignKey[Any] = ForeignKey(
        AssignmentRule, null=True, default=None, on_delete=OnDelete.set_null
    )
    how = Varchar(length=32)
    """``rule``, ``default``, ``fallback`` (the branch manager) or ``manual``."""
    reason = Text(default="")
    assigned_by = Varchar(length=128)
    assigned_at = Timestamptz(default=TimestamptzNow())
    released_at = Timestamptz(null=True, default=None)


class AssignmentTurn(Table, tablename="bankcrm_assignment_turn"):
    branch_id = branch_column()
    work_kind = Varchar(length=64)
    rule_id = Integer(default=0)
    last_employee_id = Integer()


ASSIGNMENT_TABLES: list[type[Table]] = [AssignmentRule, Assignment, AssignmentTurn]
