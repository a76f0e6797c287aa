from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-12-05T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Operational gauges for the metrics endpoint: outbox, audit sealing, scheduler"


async def forwards():
    from bankcrm.sql import OPERATIONAL_GAUGES_FUNCTION

    return MigrationManagerWithSql(
        migration_id=ID,
        app_name="bankcrm",
        description=DESCRIPTION,
        statements=[OPERATIONAL_GAUGES_FUNCTION],
    )
