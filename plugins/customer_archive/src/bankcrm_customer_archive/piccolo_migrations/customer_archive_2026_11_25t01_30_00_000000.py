from enum import Enum

from bankcrm.migrations import MigrationManagerWithSql
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import JSONB, BigInt, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-11-25T01:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Advanced search: AUM column, text keys, filter indexes, saved searches"

# Key folding shared with bankcrm_customer_archive.search.fold (same characters, same
# order): ASCII upper case to lower case, white space (ASCII, no-break, ideographic)
# removed. Written once in SQL so that bulk writers (imports, merges, this backfill) and the
# services derive exactly the keys the Python query side looks for.
FOLD_FUNCTION = r"""
CREATE OR REPLACE FUNCTION customer_archive_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT translate(value, E'ABCDEFGHIJKLMNOPQRSTUVWXYZ \t\n\r\f\x0B\u00A0\u3000',
                   'abcdefghijklmnopqrstuvwxyz')
$$
"""
BIGRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION customer_archive_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(f.v, i, 2)), '{}'::text[])
  FROM (SELECT customer_archive_fold(value) AS v) f, generate_series(1, length(f.v) - 1) i
$$
"""

STATEMENTS = [
    FOLD_FUNCTION,
    BIGRAMS_FUNCTION,
    # Filter columns, for live customers only (every search has deleted_at IS NULL). With
    # the id second, an equality filter streams newest-first pages without sorting. All
    # comparisons on these types are leakproof, so the indexes serve under RLS.
    "CREATE INDEX customer_archive_customer_tier_id ON customer_archive_customer"
    " (value_tier, id) WHERE deleted_at IS NULL",
    "CREATE INDEX customer_archive_customer_grade_id ON customer_archive_customer"
    " (credit_grade, id) WHERE deleted_at IS NULL",
    "CREATE INDEX customer_archive_customer_risk_id ON customer_archive_customer"
    " (risk_tolerance, id) WHERE deleted_at IS NULL",
    "CREATE INDEX customer_archive_customer_status_id ON customer_archive_customer"
    " (status, id) WHERE deleted_at IS NULL",
    "CREATE INDEX customer_archive_customer_manager_id ON customer_archive_customer"
    " (relationship_manager, id) WHERE deleted_at IS NULL",
    "CREATE INDEX customer_archive_customer_aum ON customer_archive_customer"
    " (aum_cents) WHERE deleted_at IS NULL",
    "CREATE INDEX customer_archive_customer_birth ON customer_archive_customer"
    " (birth_date) WHERE deleted_at IS NULL",
    "CREATE INDEX customer_archive_customer_created ON customer_archive_customer"
    " (created_at) WHERE deleted_at IS NULL",
    # "Holds product X": open holdings by product, customer (index-only probe either way).
    "CREATE INDEX customer_archive_holding_open_product ON customer_archive_holding"
    " (product, customer) WHERE status <> 'closed'",
    "CREATE INDEX customer_archive_holding_opened ON customer_archive_holding"
    " (opened_on, customer)",
    "CREATE UNIQUE INDEX customer_archive_saved_search_segment_name ON"
    " customer_archive_saved_search (branch_id, name) WHERE kind = 'segment'",
    "CREATE UNIQUE INDEX customer_archive_saved_search_private_name ON"
    " customer_archive_saved_search (owner_actor, name) WHERE kind = 'private'",
    "CREATE INDEX customer_archive_saved_search_owner ON customer_archive_saved_search"
    " (owner_actor)",
    "ALTER TABLE customer_archive_saved_search ADD CONSTRAINT"
    " customer_archive_saved_search_kind CHECK (kind IN ('private', 'segment'))",
    # Private saved searches are their owner's alone: the declared access rule
    # customer_archive.saved_search_owner (access.py), which `bankcrm migrate` compiles.
    # Backfill existing customers. The owner may itself be subject to the forced branch
    # policies: give this transaction every branch.
    "SELECT set_config('bankcrm.branch_ids',"
    " (SELECT coalesce(string_agg(id::text, ','), '') FROM bankcrm_branch), true)",
    """UPDATE customer_archive_customer c SET aum_cents = s.cents
FROM (SELECT h.customer, round(sum(h.balance) * 100)::bigint AS cents
      FROM customer_archive_holding h JOIN customer_archive_product p ON p.id = h.product
      WHERE p.balance_type = 'asset' AND h.status <> 'closed' AND h.currency = 'CNY'
      GROUP BY h.customer) s
WHERE s.customer = c.id AND c.aum_cents <> s.cents""",
    """INSERT INTO customer_archive_search_key (branch_id, customer, key)
SELECT c.branch_id, c.id, 'e:' || b
FROM customer_archive_customer c, unnest(customer_archive_bigrams(c.employer)) b
WHERE c.employer IS NOT NULL
UNION
SELECT c.branch_id, c.id, 'a:' || b
FROM customer_archive_customer c JOIN customer_archive_customer_address a ON a.customer = c.id,
     unnest(customer_archive_bigrams(a.district || a.street)) b""",
]



class BaseUser(Table, tablename="piccolo_user", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


class Branch(Table, tablename="bankcrm_branch", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


def _varchar(length: int, default: str = "", choices: object = None) -> dict[str, object]:
    return {
        "length": length, "default": default, "null": False, "primary_key": False,
        "unique": False, "index": False, "index_method": IndexMethod.btree,
        "choices": choices, "db_column_name": None, "secret": False,
    }  # fmt: skip


def _plain(default: object, *, null: bool = False) -> dict[str, object]:
    return {
        "default": default, "null": null, "primary_key": False, "unique": False,
        "index": False, "index_method": IndexMethod.btree, "choices": None,
        "db_column_name": None, "secret": False,
    }  # fmt: skip


def _foreign_key(references: type[Table], *, null: bool, index: bool) -> dict[str, object]:
    return {
        "references": references, "on_delete": OnDelete.restrict,
        "on_update": OnUpdate.cascade, "target_column": None, "null": null,
        "primary_key": False, "unique": False, "index": index,
        "index_method": IndexMethod.btree, "choices": None, "db_column_name": None,
        "secret": False,
    }  # fmt: skip


async def forwards() -> MigrationManagerWithSql:
    manager = MigrationManagerWithSql(
        migration_id=ID, app_name="customer_archive", description=DESCRIPTION,
        statements=STATEMENTS,
    )

    manager.add_column(
        table_class_name="Customer",
        tablename="customer_archive_customer",
        column_name="aum_cents",
        db_column_name="aum_cents",
        column_class_name="BigInt",
        column_class=BigInt,
        params=_plain(0),
        schema=None,
    )

    manager.add_table(
        class_name="SavedSearch",
        tablename="customer_archive_saved_search",
        schema=None,
        columns=None,
    )
    columns: list[tuple[str, str, type, dict[str, object]]] = [
        ("branch_id", "ForeignKey", ForeignKey, _foreign_key(Branch, null=False, index=True)),
        ("kind", "Varchar", Varchar, _varchar(16, choices=Enum(
            "SavedSearchKind", {"private": "private", "segment": "segment"}))),
        ("name", "Varchar", Varchar, _varchar(100)),
        ("description", "Varchar", Varchar, _varchar(500)),
        ("filter", "JSONB", JSONB, _plain("{}")),
        ("owner", "ForeignKey", ForeignKey, _foreign_key(BaseUser, null=True, index=False)),
        ("owner_actor", "Varchar", Varchar, _varchar(64)),
        ("created_at", "Timestamptz", Timestamptz, _plain(TimestamptzNow())),
        ("updated_at", "Timestamptz", Timestamptz, _plain(TimestamptzNow())),
    ]
    for name, class_name, column_class, params in columns:
        manager.add_column(
            table_class_name="SavedSearch",
            tablename="customer_archive_saved_search",
            column_name=name,
            db_column_name=name,
            column_class_name=class_name,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
