from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSONB
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-25T01:21:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Merge ledger: branches of dependent rows (contract documents) before a merge"


async def forwards() -> MigrationManager:
    manager = MigrationManager(
        migration_id=ID, app_name="customer_archive", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="CustomerMerge",
        tablename="customer_archive_merge",
        column_name="followed",
        db_column_name="followed",
        column_class_name="JSONB",
        column_class=JSONB,
        params={
            "default": "{}",
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
