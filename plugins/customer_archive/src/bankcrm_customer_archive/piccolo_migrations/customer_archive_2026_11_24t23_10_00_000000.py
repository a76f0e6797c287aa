from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-11-24T23:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Search indexes and uniqueness rules Piccolo cannot express"

# Every search path of services.search_customers has an index here, and every one of them
# is usable under row-level security: only leakproof operators (equality, and the
# byte-wise ranges ~>=~ / ~<~ of text_pattern_ops) may use an index before the policy has
# filtered the rows. LIKE, pg_trgm's operators and array containment are not leakproof,
# which is why names are searched through customer_archive_search_key rather than through
# trigram GIN indexes (see bankcrm_customer_archive.names). pg_trgm stays for similarity(),
# which ranks the candidates of a misspelt pinyin query.
STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX customer_archive_search_key_lookup ON customer_archive_search_key"
    " (key text_pattern_ops, branch_id, customer)",
    # A one-character query is a surname: names starting with it.
    "CREATE INDEX customer_archive_customer_name_prefix ON customer_archive_customer"
    " (name text_pattern_ops)",
    # One live customer per identity document and branch (deleted ones may be re-created);
    # hash first, so that the exact ID-number search uses it too.
    "CREATE UNIQUE INDEX customer_archive_customer_identity ON customer_archive_customer"
    " (id_number_hash, branch_id) WHERE deleted_at IS NULL",
    "CREATE UNIQUE INDEX customer_archive_customer_tag_pair ON customer_archive_customer_tag"
    " (customer, tag)",
    "CREATE INDEX customer_archive_customer_tag_by_tag ON customer_archive_customer_tag"
    " (tag, customer)",
    "CREATE UNIQUE INDEX customer_archive_tag_branch_name ON customer_archive_tag"
    " (branch_id, name)",
]


async def forwards() -> MigrationManagerWithSql:
    # The tables exist since the previous migration; the statements run in this
    # migration's own transaction.
    return MigrationManagerWithSql(
        migration_id=ID,
        app_name="customer_archive",
        description=DESCRIPTION,
        statements=list(STATEMENTS),
    )
