from piccolo.apps.migrations.auto.migration_manager import MigrationManager

# The append function as this migration made it (a later migration replaces it; kept
# verbatim so that a new database passes through the same states as an old one).
APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION bankcrm_audit_append(
  p_branch_id bigint, p_action text, p_entity text, p_entity_id text,
  p_before jsonb, p_after jsonb, p_reason text, p_request_id text
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r record;
  v_head record;
  v_hash text;
BEGIN
  IF p_branch_id IS NOT NULL AND NOT (p_branch_id = ANY (bankcrm_scope_branch_ids())) THEN
    RAISE EXCEPTION 'branch % is outside the current scope', p_branch_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT last_id, last_hash INTO v_head FROM bankcrm_audit_head FOR UPDATE;
  SELECT v_head.last_id + 1 AS id,
         date_trunc('microseconds', clock_timestamp()) AS at,
         p_branch_id AS branch_id,
         coalesce(nullif(current_setting('bankcrm.actor', true), ''), 'unknown') AS actor,
         p_action AS action, p_entity AS entity, coalesce(p_entity_id, '') AS entity_id,
         p_before AS before, p_after AS after, coalesce(p_reason, '') AS reason,
         coalesce(p_request_id, '') AS request_id
    INTO r;
  v_hash := 
encode(sha256(convert_to(concat_ws('|',
  v_head.last_hash, r.id::text,
  to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
  coalesce(r.branch_id::text, ''), r.actor, r.action, r.entity, r.entity_id,
  coalesce(r.before::text, ''), coalesce(r.after::text, ''), r.reason, r.request_id
), 'UTF8')), 'hex')
;
  INSERT INTO bankcrm_audit (id, at, branch_id, actor, action, entity, entity_id,
                             before, after, reason, request_id, prev_hash, hash)
  VALUES (r.id, r.at, r.branch_id, r.actor, r.action, r.entity, r.entity_id,
          r.before, r.after, r.reason, r.request_id, v_head.last_hash, v_hash);
  UPDATE bankcrm_audit_head SET last_id = r.id, last_hash = v_hash;
  RETURN r.id;
END $$;
"""

ID = "2026-11-24T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Scope function and the hash-chained audit append function"


async def forwards() -> MigrationManager:
    from bankcrm.piccolo_conf import DB
    from bankcrm.sql import AUDIT_HEAD_TABLE, SCOPE_FUNCTION

    manager = MigrationManager(migration_id=ID, app_name="bankcrm", description=DESCRIPTION)

    async def run() -> None:
        connection = await DB.get_new_connection()
        try:
            async with connection.transaction():
                await connection.execute(SCOPE_FUNCTION)
                await connection.execute(AUDIT_HEAD_TABLE)
                await connection.execute("ALTER TABLE bankcrm_audit ALTER COLUMN id DROP DEFAULT")
                await connection.execute(APPEND_FUNCTION)
                await connection.execute(
                    "REVOKE ALL ON FUNCTION bankcrm_audit_append"
                    "(bigint, text, text, text, jsonb, jsonb, text, text) FROM PUBLIC"
                )
        finally:
            await connection.close()

    manager.add_raw(run)
    return manager
