"""The plugin's tables: each carries ``branch_id``, so row-level security scopes it.

After changing a table, add a migration with
``piccolo migrations new marketing --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column


class CampaignStatus(StrEnum):
    open = "open"
    closed = "closed"


class Campaign(Table, tablename="marketing_campaign"):
    branch_id = branch_column()
    title = Varchar(length=200)
    body = Text(default="")
    status = Varchar(
        length=16,
        default=CampaignStatus.open,
        choices=CampaignStatus,
    )
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [Campaign]
