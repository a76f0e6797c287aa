"""The plugin's tables: each carries ``branch_id``, so row-level security scopes it.

After changing a table, add a migration with
``piccolo migrations new reporting --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import Date, Numeric, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column


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


TABLES: list[type[Table]] = [Snapshot]
