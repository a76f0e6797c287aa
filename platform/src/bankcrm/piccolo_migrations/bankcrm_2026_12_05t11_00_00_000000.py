from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Audit: append without a lock, seal into the hash chain afterwards"

# The chain as it was (the previous hash and the row in one hash, under a head lock): the
# migration refuses to convert a trail that does not verify, so no tampering is laundered.
OLD_HASH = """
encode(sha256(convert_to(concat_ws('|',
  a.prev_hash, a.id::text,
  to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
  coalesce(a.branch_id::text, ''), a.actor, a.action, a.entity, a.entity_id,
  coalesce(a.before::text, ''), coalesce(a.after::text, ''), a.reason, a.request_id
), 'UTF8')), 'hex')
"""
OLD_PROBLEMS = f"""
SELECT count(*) FROM (
  SELECT a.id, a.hash, a.prev_hash, lag(a.hash) OVER (ORDER BY a.id) AS previous_hash,
         lag(a.id) OVER (ORDER BY a.id) AS previous_id, {OLD_HASH} AS recomputed
  FROM bankcrm_audit a
) q
WHERE recomputed <> hash OR prev_hash <> coalesce(previous_hash, repeat('0', 64))
   OR id <> coalesce(previous_id, 0) + 1
"""


async def forwards() -> MigrationManager:
    from bankcrm.piccolo_conf import DB
    from bankcrm.sql import (
        AUDIT_APPEND_FUNCTION,
        AUDIT_CONTENT_HASH,
        AUDIT_LOG_TABLES,
        AUDIT_SEAL_FUNCTION,
    )

    manager = MigrationManager(migration_id=ID, app_name="bankcrm", description=DESCRIPTION)

    async def run() -> None:
        connection = await DB.get_new_connection()
        try:
            async with connection.transaction():
                await connection.execute("LOCK TABLE bankcrm_audit IN EXCLUSIVE MODE")
                broken = await connection.fetchval(OLD_PROBLEMS)
                head = await connection.fetchrow("SELECT last_id FROM bankcrm_audit_head")
                last = await connection.fetchval("SELECT coalesce(max(id), 0) FROM bankcrm_audit")
                if broken or (head is not None and head["last_id"] != last):
                    raise RuntimeError(
                        "the audit trail does not verify: run `bankcrm audit verify` and "
                        "investigate before migrating (nothing was changed)"
                    )
                await connection.execute(AUDIT_LOG_TABLES)
                await connection.execute(
                    "SELECT setval('bankcrm_audit_id_seq', coalesce(max(id), 0) + 1, false)"
                    " FROM bankcrm_audit"
                )
                await connection.execute(
                    "INSERT INTO bankcrm_audit_unsealed (id, content_hash) SELECT a.id, "
                    + AUDIT_CONTENT_HASH.format(r="a.")
                    + " FROM bankcrm_audit a"
                )
                await connection.execute(
                    "UPDATE bankcrm_audit_head SET last_id = 0, last_hash = repeat('0', 64)"
                )
                await connection.execute("ALTER TABLE bankcrm_audit DROP COLUMN prev_hash")
                await connection.execute("ALTER TABLE bankcrm_audit DROP COLUMN hash")
                await connection.execute(AUDIT_APPEND_FUNCTION)
                await connection.execute(AUDIT_SEAL_FUNCTION)
                await connection.execute(
                    "REVOKE ALL ON FUNCTION bankcrm_audit_seal(integer) FROM PUBLIC"
                )
                while await connection.fetchval("SELECT bankcrm_audit_seal(10000)") == 10000:
                    pass
        finally:
            await connection.close()

    manager.add_raw(run)
    return manager
