from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-11-25T00:09:22:531363"
VERSION = "1.38.0"
DESCRIPTION = "Index login attempts by address for the shared rate limit"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="bankcrm", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="LoginAttempt",
        tablename="bankcrm_login_attempt",
        column_name="ip",
        db_column_name="ip",
        params={"index": True},
        old_params={"index": False},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
