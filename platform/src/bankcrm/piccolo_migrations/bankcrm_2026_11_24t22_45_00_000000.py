from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T22:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One scheduler tick per schedule and due time"


async def forwards() -> MigrationManager:
    from bankcrm.piccolo_conf import DB

    manager = MigrationManager(migration_id=ID, app_name="bankcrm", description=DESCRIPTION)

    async def run() -> None:
        # Piccolo has no composite unique constraints, hence raw SQL. The scheduler claims
        # a tick with INSERT ... ON CONFLICT (schedule, due_at) DO NOTHING.
        connection = await DB.get_new_connection()
        try:
            await connection.execute(
                "ALTER TABLE bankcrm_schedule_tick "
                "ADD CONSTRAINT bankcrm_schedule_tick_once UNIQUE (schedule, due_at)"
            )
        finally:
            await connection.close()

    manager.add_raw(run)
    return manager
