from bankcrm.migrations import MigrationManagerWithSql
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T17:24:28:505121"
VERSION = "1.38.0"
DESCRIPTION = "Managed roles: declared by the kernel and plugins, kept in step by migrate"

# Before this migration only the demo created roles, under the standard names: they become
# managed, so that the next migrate recomputes their permissions from the declarations.
STANDARD_ROLES_BECOME_MANAGED = """
UPDATE bankcrm_role SET managed = true
WHERE name IN ('head_office_admin', 'branch_manager', 'relationship_manager', 'teller', 'auditor')
"""


async def forwards():
    manager = MigrationManagerWithSql(
        migration_id=ID,
        app_name="bankcrm",
        description=DESCRIPTION,
        statements=[STANDARD_ROLES_BECOME_MANAGED],
    )

    manager.add_column(
        table_class_name="Role",
        tablename="bankcrm_role",
        column_name="description",
        db_column_name="description",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
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
        table_class_name="Role",
        tablename="bankcrm_role",
        column_name="managed",
        db_column_name="managed",
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
