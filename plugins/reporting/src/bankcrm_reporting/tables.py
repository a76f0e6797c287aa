"""The plugin's tables: each carries ``branch_id``, so row-level security scopes it.

After changing a table, add a migration with
``piccolo migrations new reporting --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column


class TargetStatus(StrEnum):
    open = "open"
    closed = "closed"


class Target(Table, tablename="reporting_target"):
    """A branch's target for one KPI in one month (指标目标)."""

    branch_id = branch_column()
    metric = Varchar(length=100)
    """The KPI's name (``customer_archive.customers``)."""
    period = Varchar(length=7)
    """The month, ``YYYY-MM``."""
    value = Numeric(digits=(18, 2))
    title = Varchar(length=200)
    body = Text(default="")
    status = Varchar(
        length=16,
        default=TargetStatus.open,
        choices=TargetStatus,
    )
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [Target]
