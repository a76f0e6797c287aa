from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Scope function and the hash-chained audit append function"


async def forwards() -> MigrationManager:
    from bankcrm.piccolo_conf import DB
    from bankcrm.sql import AUDIT_APPEND_FUNCTION, AUDIT_HEAD_TABLE, SCOPE_FUNCTION

    manager = MigrationManager(migration_id=ID, app_name="bankcrm", description=DESCRIPTION)

    async def run() -> None:
        connection = await DB.get_new_connection()
        try:
            async with connection.transaction():
                await connection.execute(SCOPE_FUNCTION)
                await connection.execute(AUDIT_HEAD_TABLE)
                await connection.execute("ALTER TABLE bankcrm_audit ALTER COLUMN id DROP DEFAULT")
                await connection.execute(AUDIT_APPEND_FUNCTION)
                await connection.execute(
                    "REVOKE ALL ON FUNCTION bankcrm_audit_append"
                    "(bigint, text, text, text, jsonb, jsonb, text, text) FROM PUBLIC"
                )
        finally:
            await connection.close()

    manager.add_raw(run)
    return manager
