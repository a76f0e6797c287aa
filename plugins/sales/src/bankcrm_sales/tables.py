"""The plugin's tables: each carries ``branch_id``, so row-level security scopes it.

After changing a table, add a migration with
``piccolo migrations new sales --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column


class LeadStatus(StrEnum):
    open = "open"
    closed = "closed"


class Lead(Table, tablename="sales_lead"):
    branch_id = branch_column()
    title = Varchar(length=200)
    body = Text(default="")
    status = Varchar(
        length=16,
        default=LeadStatus.open,
        choices=LeadStatus,
    )
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [Lead]
