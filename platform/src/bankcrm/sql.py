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

# The text that is hashed: every column, in a fixed order, in a fixed format. The same
# expression is used to append and to verify, with the row's columns as ``r``.
AUDIT_HASH_EXPRESSION = """
encode(sha256(convert_to(concat_ws('|',
  {prev}, {r}id::text,
  to_char({r}at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
  coalesce({r}branch_id::text, ''), {r}actor, {r}action, {r}entity, {r}entity_id,
  coalesce({r}before::text, ''), coalesce({r}after::text, ''), {r}reason, {r}request_id
), 'UTF8')), 'hex')
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
  v_hash := """
    + AUDIT_HASH_EXPRESSION.format(prev="v_head.last_hash", r="r.")
    + """;
  INSERT INTO bankcrm_audit (id, at, branch_id, actor, action, entity, entity_id,
                             before, after, reason, request_id, prev_hash, hash)
  VALUES (r.id, r.at, r.branch_id, r.actor, r.action, r.entity, r.entity_id,
          r.before, r.after, r.reason, r.request_id, v_head.last_hash, v_hash);
  UPDATE bankcrm_audit_head SET last_id = r.id, last_hash = v_hash;
  RETURN r.id;
END $$;
"""
)

AUDIT_VERIFY_QUERY = (
    """
SELECT a.id, a.prev_hash, a.hash,
       lag(a.id) OVER w AS previous_id,
       lag(a.hash) OVER w AS previous_hash,
       """
    + AUDIT_HASH_EXPRESSION.format(prev="a.prev_hash", r="a.")
    + """ AS recomputed
FROM bankcrm_audit a
WINDOW w AS (ORDER BY a.id)
ORDER BY a.id
"""
)

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
