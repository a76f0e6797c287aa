from decimal import Decimal

from bankcrm.migrations import MigrationManagerWithSql
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import Date
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Numeric
from piccolo.columns.column_types import Serial
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


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


ID = "2026-12-04T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Reporting: daily KPI snapshots"

STATEMENTS = [
    # One figure per branch, KPI and day: the daily job upserts on it.
    "CREATE UNIQUE INDEX reporting_snapshot_once ON reporting_snapshot (branch_id, metric, day)",
]


def _params(**overrides):
    params = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(overrides)
    return params


async def forwards():
    manager = MigrationManagerWithSql(
        migration_id=ID,
        app_name="reporting",
        description=DESCRIPTION,
        statements=STATEMENTS,
    )

    manager.add_table(
        class_name="Snapshot", tablename="reporting_snapshot", schema=None, columns=None
    )
    manager.add_column(
        table_class_name="Snapshot",
        tablename="reporting_snapshot",
        column_name="branch_id",
        db_column_name="branch_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params=_params(
            references=Branch,
            on_delete=OnDelete.restrict,
            on_update=OnUpdate.cascade,
            target_column=None,
            index=True,
        ),
        schema=None,
    )
    manager.add_column(
        table_class_name="Snapshot",
        tablename="reporting_snapshot",
        column_name="metric",
        db_column_name="metric",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params(length=120, default=""),
        schema=None,
    )
    manager.add_column(
        table_class_name="Snapshot",
        tablename="reporting_snapshot",
        column_name="day",
        db_column_name="day",
        column_class_name="Date",
        column_class=Date,
        params=_params(default=DateNow()),
        schema=None,
    )
    manager.add_column(
        table_class_name="Snapshot",
        tablename="reporting_snapshot",
        column_name="value",
        db_column_name="value",
        column_class_name="Numeric",
        column_class=Numeric,
        params=_params(default=Decimal("0"), digits=(20, 4)),
        schema=None,
    )
    manager.add_column(
        table_class_name="Snapshot",
        tablename="reporting_snapshot",
        column_name="computed_at",
        db_column_name="computed_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params=_params(default=TimestamptzNow()),
        schema=None,
    )

    return manager
