"""The saved-search privacy policy becomes a declared access rule.

Databases migrated before the rule existed hold the policy an earlier migration wrote by
hand; the kernel now creates ``bankcrm_rule_customer_archive_saved_search_owner`` from the
rule in ``access.py`` after every migration, so the hand-written one goes.
"""

from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-12-04T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Saved-search privacy as a declared access rule"


async def forwards() -> MigrationManagerWithSql:
    return MigrationManagerWithSql(
        migration_id=ID,
        app_name="customer_archive",
        description=DESCRIPTION,
        statements=[
            "DROP POLICY IF EXISTS customer_archive_saved_search_owner"
            " ON customer_archive_saved_search"
        ],
    )
