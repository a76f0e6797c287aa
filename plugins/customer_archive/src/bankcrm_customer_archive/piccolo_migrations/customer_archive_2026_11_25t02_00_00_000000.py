"""Leaner search keys: no digit pairs, no branch foreign key or branch index.

Writing ``customer_archive_search_key`` was about 85% of an import's commit (some 35 rows
per customer). Two changes make it cheaper without changing any search result:

- Employer and address keys (``e:``/``a:``) leave out pairs with an ASCII digit. House,
  building and room numbers (``27号院3号楼501`` gives ``27``, ``7号``, ``院3``, ...) are in
  nearly every address, so their keys select no one; a fragment is looked up by its
  digit-free pairs and then checked as a whole substring, so a fragment with at least one
  such pair finds exactly what it found before (one without is refused by the search).
  ``customer_archive_bigrams`` follows ``bankcrm_customer_archive.search.bigrams`` and the
  existing digit keys are deleted. Name keys (names.py) are unchanged.
- The key table's foreign key to ``bankcrm_branch`` and its ``branch_id`` index are
  dropped (measured: re-inserting 702,000 keys took a third less time). Keys are derived
  data, rewritten by the services from the customer row in the customer's transaction, so
  their branch is the customer's, and the customer foreign key (kept) already ties each
  key to a live row whose own ``branch_id`` is checked against ``bankcrm_branch``;
  branches are never deleted. No query filters keys by branch alone: lookups use
  ``customer_archive_search_key_lookup (key text_pattern_ops, branch_id, customer)``, and
  row-level security still applies to ``branch_id`` (the kernel's policy needs the column,
  not the constraint or the index).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Search keys without digit pairs, branch foreign key or branch index"

# Must equal bankcrm_customer_archive.search.bigrams (and keep customer_archive_fold of the
# search migration as it is).
BIGRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION customer_archive_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT p.pair) FILTER (WHERE p.pair !~ '[0-9]'), '{}'::text[])
  FROM (SELECT customer_archive_fold(value) AS v) f,
       generate_series(1, length(f.v) - 1) i,
       LATERAL (SELECT substr(f.v, i, 2) AS pair) p
$$
"""

STATEMENTS = [
    BIGRAMS_FUNCTION,
    "ALTER TABLE customer_archive_search_key"
    " DROP CONSTRAINT IF EXISTS customer_archive_search_key_branch_id_fkey",
    "DROP INDEX IF EXISTS customer_archive_search_key_branch_id",
    # The owner may itself be subject to the forced branch policies: give this
    # transaction every branch.
    "SELECT set_config('bankcrm.branch_ids',"
    " (SELECT coalesce(string_agg(id::text, ','), '') FROM bankcrm_branch), true)",
    "DELETE FROM customer_archive_search_key WHERE left(key, 2) IN ('a:', 'e:') AND key ~ '[0-9]'",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(
        migration_id=ID, app_name="customer_archive", description=DESCRIPTION
    )

    async def run() -> None:
        # In the migration's transaction (Piccolo wraps forwards in one).
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
