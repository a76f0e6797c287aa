"""Organisation tables: teams, employees and their leave (all branch-scoped).

The schema, its constraints (no overlapping leave, no manager cycle) and its trigger are
created by the kernel migration ``2026-12-04T05:00``; these classes give the admin and
Piccolo queries the same columns.
"""

from __future__ import annotations

from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    Array,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.table import Table

from bankcrm.tables import branch_column


class Team(Table, tablename="bankcrm_team"):
    branch_id = branch_column()
    code = Varchar(length=32)
    name = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    active = Boolean(default=True)

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s %s", columns=[cls.code, cls.name])


class Employee(Table, tablename="bankcrm_employee"):
    branch_id = branch_column()
    employee_no = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    name_en = Varchar(length=100, default="")
    user_id: ForeignKey[Any] = ForeignKey(
        BaseUser, null=True, default=None, unique=True, on_delete=OnDelete.set_null
    )
    position = Varchar(length=100, default="")
    team_id: ForeignKey[Any] = ForeignKey(
        Team, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    manager_id: ForeignKey[Any] = ForeignKey(
        "self", null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    products = Array(base_column=Varchar(length=64), default=list)
    segments = Array(base_column=Varchar(length=64), default=list)
    languages = Array(base_column=Varchar(length=16), default=list)
    territories = Array(base_column=Varchar(length=64), default=list)
    capacity = Integer(default=0)
    """Open work items the assignment engine may give this person at once."""
    email = Varchar(length=254, default="")
    phone = Varchar(length=32, default="")
    active = Boolean(default=True)
    """False once the person has left: never assigned, kept for history."""
    updated_at = Timestamptz(default=TimestamptzNow())

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s %s", columns=[cls.employee_no, cls.name])


class EmployeeLeave(Table, tablename="bankcrm_employee_leave"):
    branch_id = branch_column()
    employee_id: ForeignKey[Any] = ForeignKey(Employee, on_delete=OnDelete.cascade, index=True)
    starts = Date()
    ends = Date()
    """Inclusive."""
    reason = Varchar(length=200, default="")


ORGANISATION_TABLES: list[type[Table]] = [Team, Employee, EmployeeLeave]
