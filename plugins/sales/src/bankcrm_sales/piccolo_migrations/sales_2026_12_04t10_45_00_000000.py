from bankcrm.migrations import MigrationManagerWithSql
from enum import Enum
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import Date
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Numeric
from piccolo.columns.column_types import Serial
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table
import decimal


class Branch(Table, tablename="bankcrm_branch", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


STATEMENTS = [
    "CREATE UNIQUE INDEX sales_channel_cost_once ON sales_channel_cost"
    " (branch_id, channel, month)",
    "ALTER TABLE sales_channel_cost ADD CONSTRAINT sales_channel_cost_valid"
    " CHECK (cost >= 0 AND extract(day FROM month) = 1)",
    # Analytics read opportunities by when they were created and closed.
    "CREATE INDEX sales_opportunity_closed ON sales_opportunity (closed_at)"
    " WHERE closed_at IS NOT NULL",
    "CREATE INDEX sales_opportunity_created ON sales_opportunity (created_at)",
    "CREATE INDEX sales_stage_change_at ON sales_stage_change (changed_at)",
]

ID = "2026-12-04T10:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Sales: the per-branch channel cost table"


async def forwards():
    manager = MigrationManagerWithSql(
        migration_id=ID,
        app_name="sales",
        description=DESCRIPTION,
        statements=STATEMENTS,
    )

    manager.add_table(
        class_name="ChannelCost",
        tablename="sales_channel_cost",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="ChannelCost",
        tablename="sales_channel_cost",
        column_name="branch_id",
        db_column_name="branch_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Branch,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ChannelCost",
        tablename="sales_channel_cost",
        column_name="channel",
        db_column_name="channel",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": Enum(
                "Channel",
                {
                    "web": "web",
                    "call_centre": "call_centre",
                    "branch": "branch",
                    "referral": "referral",
                    "campaign": "campaign",
                    "partner": "partner",
                    "event": "event",
                    "import_": "import",
                },
            ),
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ChannelCost",
        tablename="sales_channel_cost",
        column_name="month",
        db_column_name="month",
        column_class_name="Date",
        column_class=Date,
        params={
            "default": DateNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ChannelCost",
        tablename="sales_channel_cost",
        column_name="cost",
        db_column_name="cost",
        column_class_name="Numeric",
        column_class=Numeric,
        params={
            "default": decimal.Decimal("0"),
            "digits": (18, 2),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
