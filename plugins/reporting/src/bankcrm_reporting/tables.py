"""The plugin's tables: each carries ``branch_id``, so row-level security scopes it.

After changing a table, add a migration with
``piccolo migrations new reporting --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    JSONB,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
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


class Report(Table, tablename="reporting_report"):
    """A saved report (已保存报表): a data source, what to group by, what to aggregate,
    filters and sort, and optionally a schedule. Its owner (and whoever oversees them)
    sees it; a shared one everybody in its branch."""

    branch_id = branch_column()
    owner = ForeignKey(BaseUser, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=200)
    source = Varchar(length=120)
    """The data source's name (``customer_archive.customers``)."""
    definition = JSONB(default={})
    """Dimensions, measures, filters, sort, limit and period, checked against the source."""
    schedule = Varchar(length=120, default="")
    """A cron expression in the bank's time zone; empty: run on demand only."""
    next_run_at = Timestamptz(null=True, default=None, index=True)
    last_run_at = Timestamptz(null=True, default=None)
    shared = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ReportRun(Table, tablename="reporting_report_run"):
    """One run of a saved report in its recipient's inbox (报表收件箱): the columns and
    rows as they were computed under the recipient's scope."""

    branch_id = branch_column()
    report = Integer(index=True)
    """The saved report's id (kept after the report is deleted)."""
    recipient = ForeignKey(BaseUser, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=200)
    source = Varchar(length=120)
    trigger = Varchar(length=16, default="manual")
    """``manual`` (run on demand) or ``schedule``."""
    status = Varchar(length=16, default="done")
    """``done`` or ``failed`` (with ``error``)."""
    columns = JSONB(default=[])
    rows = JSONB(default=[])
    row_count = Integer(default=0)
    truncated = Boolean(default=False)
    """More rows matched than the report's limit."""
    period_start = Date(null=True, default=None)
    period_end = Date(null=True, default=None)
    """The period the report covered, ``[start, end)``; None: all time."""
    scope_branches = JSONB(default=[])
    """The branch ids the run could see (the recipient's scope at the time)."""
    error = Text(default="")
    read_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [Target, Snapshot, Report, ReportRun]
