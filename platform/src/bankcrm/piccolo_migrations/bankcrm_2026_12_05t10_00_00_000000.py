from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-12-05T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Users: a password an administrator set must be changed at the next login"


async def forwards():
    manager = MigrationManagerWithSql(
        migration_id=ID, app_name="bankcrm", description=DESCRIPTION, statements=[]
    )

    manager.add_column(
        table_class_name="UserSecurity",
        tablename="bankcrm_user_security",
        column_name="must_change_password",
        db_column_name="must_change_password",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
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
