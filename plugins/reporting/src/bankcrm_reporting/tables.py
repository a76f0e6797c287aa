"""The plugin's tables: each carries ``branch_id``, so row-level security scopes it.

After changing a table, add a migration with
``piccolo migrations new reporting --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from piccolo.columns import Date, Numeric, Text, Timestamptz, Varchar
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
    threshold = Numeric(digits=(18, 2), null=True, default=None)
    """Alert line: a figure worse than this (below it, or above it for a KPI whose
    direction is ``down``) notifies the branch's managers once."""
    alerted_at = Timestamptz(null=True, default=None)
    """When the threshold alert went out (None: not yet); a new threshold clears it."""
    title = Varchar(length=200)
    body = Text(default="")
    status = Varchar(
        length=16,
        default=TargetStatus.open,
        choices=TargetStatus,
    )
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Snapshot(Table, tablename="reporting_snapshot"):
    """A KPI's figure for a branch's whole subtree on a day (the daily job's answer).

    The row belongs to the branch whose subtree it sums, so row-level security shows it
    only to viewers of that branch: a sub-branch manager never sees the branch's total,
    which contains the other sub-branches."""

    branch_id = branch_column()
    metric = Varchar(length=120)
    day = Date()
    value = Numeric(digits=(20, 4), default=Decimal("0"))
    computed_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [Target, Snapshot]
