from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Numeric
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T20:32:22:985373"
VERSION = "1.38.0"
DESCRIPTION = "target alert threshold"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="reporting", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Target",
        tablename="reporting_target",
        column_name="alerted_at",
        db_column_name="alerted_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
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
        table_class_name="Target",
        tablename="reporting_target",
        column_name="threshold",
        db_column_name="threshold",
        column_class_name="Numeric",
        column_class=Numeric,
        params={
            "default": None,
            "digits": (18, 2),
            "null": True,
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
