"""Imports: rows imported with a warning, and why each column not imported was not.

``warning_rows`` counts the valid rows that carry a note in ``errors``; the partial index
serves the preview's list of every row with something to say (problems and warnings).
"""

from piccolo.columns.column_types import JSONB, Integer
from piccolo.columns.indexes import IndexMethod

from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-12-04T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Import warnings: warning_rows and an index of the rows with notes"


async def forwards() -> MigrationManagerWithSql:
    manager = MigrationManagerWithSql(
        migration_id=ID,
        app_name="customer_archive",
        description=DESCRIPTION,
        statements=[
            "CREATE INDEX customer_archive_import_row_notes ON customer_archive_import_row"
            " (batch, row_no) WHERE errors IS NOT NULL",
        ],
    )
    manager.add_column(
        table_class_name="ImportBatch",
        tablename="customer_archive_import_batch",
        column_name="warning_rows",
        db_column_name="warning_rows",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
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
        table_class_name="ImportBatch",
        tablename="customer_archive_import_batch",
        column_name="not_imported_columns",
        db_column_name="not_imported_columns",
        column_class_name="JSONB",
        column_class=JSONB,
        params={
            "default": "[]",
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
