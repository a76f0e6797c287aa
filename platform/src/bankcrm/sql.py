"""SQL objects the kernel owns: the scope function, the audit chain, RLS policy text.

Kept in one place so the migration, the boot-time verification and ``audit verify`` use
the same definitions.
"""

from __future__ import annotations

SCOPE_FUNCTION = """
CREATE OR REPLACE FUNCTION bankcrm_scope_branch_ids() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(
    string_to_array(nullif(current_setting('bankcrm.branch_ids', true), ''), ',')::bigint[],
    '{}'::bigint[])
$$;
"""

AUDIT_HEAD_TABLE = """
CREATE TABLE IF NOT EXISTS bankcrm_audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_id bigint NOT NULL,
  last_hash varchar(64) NOT NULL
);
INSERT INTO bankcrm_audit_head (singleton, last_id, last_hash)
VALUES (true, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
"""

# The text that is hashed for a row: every column, in a fixed order, in a fixed format.
# The same expression is used to append and to verify, with the row's columns as ``r``.
AUDIT_CONTENT_HASH = """
encode(sha256(convert_to(concat_ws('|',
  {r}id::text,
  to_char({r}at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
  coalesce({r}branch_id::text, ''), {r}actor, {r}action, {r}entity, {r}entity_id,
  coalesce({r}before::text, ''), coalesce({r}after::text, ''), {r}reason, {r}request_id
), 'UTF8')), 'hex')
"""

# A seal links a row's content hash to the previous seal: the chain.
AUDIT_SEAL_HASH = """
encode(sha256(convert_to(concat_ws('|', {prev}, {seal_no}::text, {audit_id}::text,
  {content}), 'UTF8')), 'hex')
"""

AUDIT_LOG_TABLES = """
CREATE SEQUENCE IF NOT EXISTS bankcrm_audit_id_seq OWNED BY bankcrm_audit.id;
CREATE TABLE IF NOT EXISTS bankcrm_audit_unsealed (
  id bigint PRIMARY KEY,
  content_hash varchar(64) NOT NULL
);
CREATE TABLE IF NOT EXISTS bankcrm_audit_seal (
  seal_no bigint PRIMARY KEY,
  audit_id bigint NOT NULL UNIQUE,
  content_hash varchar(64) NOT NULL,
  prev_hash varchar(64) NOT NULL,
  hash varchar(64) NOT NULL,
  sealed_at timestamptz NOT NULL DEFAULT now()
);
"""

AUDIT_APPEND_FUNCTION = (
    """
CREATE OR REPLACE FUNCTION bankcrm_audit_append(
  p_branch_id bigint, p_action text, p_entity text, p_entity_id text,
  p_before jsonb, p_after jsonb, p_reason text, p_request_id text
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r record;
BEGIN
  IF p_branch_id IS NOT NULL AND NOT (p_branch_id = ANY (bankcrm_scope_branch_ids())) THEN
    RAISE EXCEPTION 'branch % is outside the current scope', p_branch_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- No lock: concurrent writers (and readers recording views) never wait on each other.
  -- The row's content hash is kept aside until bankcrm_audit_seal chains it.
  SELECT nextval('bankcrm_audit_id_seq') AS id,
         date_trunc('microseconds', clock_timestamp()) AS at,
         p_branch_id AS branch_id,
         coalesce(nullif(current_setting('bankcrm.actor', true), ''), 'unknown') AS actor,
         p_action AS action, p_entity AS entity, coalesce(p_entity_id, '') AS entity_id,
         p_before AS before, p_after AS after, coalesce(p_reason, '') AS reason,
         coalesce(p_request_id, '') AS request_id
    INTO r;
  INSERT INTO bankcrm_audit (id, at, branch_id, actor, action, entity, entity_id,
                             before, after, reason, request_id)
  VALUES (r.id, r.at, r.branch_id, r.actor, r.action, r.entity, r.entity_id,
          r.before, r.after, r.reason, r.request_id);
  INSERT INTO bankcrm_audit_unsealed (id, content_hash) VALUES (r.id, """
    + AUDIT_CONTENT_HASH.format(r="r.")
    + """);
  RETURN r.id;
END $$;
"""
)

AUDIT_SEAL_FUNCTION = (
    """
CREATE OR REPLACE FUNCTION bankcrm_audit_seal(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_head record;
  u record;
  v_hash text;
  v_count integer := 0;
BEGIN
  -- Only sealers queue here; rows committed since the last seal are chained in id order,
  -- a row whose transaction commits later joins a later seal.
  SELECT last_id, last_hash INTO v_head FROM bankcrm_audit_head FOR UPDATE;
  FOR u IN SELECT id, content_hash FROM bankcrm_audit_unsealed ORDER BY id LIMIT p_limit LOOP
    v_head.last_id := v_head.last_id + 1;
    v_hash := """
    + AUDIT_SEAL_HASH.format(
        prev="v_head.last_hash",
        seal_no="v_head.last_id",
        audit_id="u.id",
        content="u.content_hash",
    )
    + """;
    INSERT INTO bankcrm_audit_seal (seal_no, audit_id, content_hash, prev_hash, hash)
    VALUES (v_head.last_id, u.id, u.content_hash, v_head.last_hash, v_hash);
    DELETE FROM bankcrm_audit_unsealed WHERE id = u.id;
    v_head.last_hash := v_hash;
    v_count := v_count + 1;
  END LOOP;
  UPDATE bankcrm_audit_head SET last_id = v_head.last_id, last_hash = v_head.last_hash;
  RETURN v_count;
END $$;
"""
)

AUDIT_VERIFY_SEALED = (
    """
SELECT s.seal_no, s.audit_id, s.content_hash, s.prev_hash, s.hash,
       lag(s.hash) OVER w AS previous_hash,
       """
    + AUDIT_SEAL_HASH.format(
        prev="s.prev_hash", seal_no="s.seal_no", audit_id="s.audit_id", content="s.content_hash"
    )
    + """ AS recomputed,
       a.id IS NOT NULL AS present,
       """
    + AUDIT_CONTENT_HASH.format(r="a.")
    + """ AS content_now
FROM bankcrm_audit_seal s LEFT JOIN bankcrm_audit a ON a.id = s.audit_id
WINDOW w AS (ORDER BY s.seal_no)
ORDER BY s.seal_no
"""
)

AUDIT_VERIFY_UNSEALED = (
    """
SELECT u.id, u.content_hash, a.id IS NOT NULL AS present,
       """
    + AUDIT_CONTENT_HASH.format(r="a.")
    + """ AS content_now
FROM bankcrm_audit_unsealed u LEFT JOIN bankcrm_audit a ON a.id = u.id
ORDER BY u.id
"""
)

AUDIT_OUTSIDE_CHAIN = """
SELECT a.id FROM bankcrm_audit a
WHERE NOT EXISTS (SELECT 1 FROM bankcrm_audit_seal s WHERE s.audit_id = a.id)
  AND NOT EXISTS (SELECT 1 FROM bankcrm_audit_unsealed u WHERE u.id = a.id)
ORDER BY a.id
"""

POLICY_NAME = "bankcrm_branch_scope"


def policy_statements(table: str, *, read_only: bool = False) -> list[str]:
    condition = "branch_id = ANY (bankcrm_scope_branch_ids())"
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}",
        f"DROP POLICY IF EXISTS {POLICY_NAME}_append ON {table}",
    ]
    if read_only:
        statements += [
            f"CREATE POLICY {POLICY_NAME} ON {table} FOR SELECT USING ({condition})",
            # Only the SECURITY DEFINER append function inserts (the app role has no
            # INSERT grant); it checks the scope itself and may log branch-less events.
            f"CREATE POLICY {POLICY_NAME}_append ON {table} FOR INSERT WITH CHECK (true)",
        ]
    else:
        statements.append(
            f"CREATE POLICY {POLICY_NAME} ON {table} USING ({condition}) WITH CHECK ({condition})"
        )
    return statements


OPERATIONAL_GAUGES_FUNCTION = """
CREATE OR REPLACE FUNCTION bankcrm_operational_gauges()
RETURNS TABLE (
  outbox_pending bigint, outbox_oldest_seconds double precision,
  audit_unsealed bigint, audit_seal_age_seconds double precision,
  scheduler_tick_age_seconds double precision
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  -- Counts and ages only (no row of any table): what /metrics shows to the monitoring.
  SELECT
    (SELECT count(*) FROM bankcrm_outbox WHERE sent_at IS NULL),
    (SELECT extract(epoch FROM now() - min(created_at))::float8
       FROM bankcrm_outbox WHERE sent_at IS NULL),
    (SELECT count(*) FROM bankcrm_audit_unsealed),
    (SELECT extract(epoch FROM now() - max(sealed_at))::float8 FROM bankcrm_audit_seal),
    (SELECT extract(epoch FROM now() - max(enqueued_at))::float8 FROM bankcrm_schedule_tick)
$$;
"""
