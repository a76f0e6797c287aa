from bankcrm.migrations import MigrationManagerWithSql
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import Date
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Numeric
from piccolo.columns.column_types import Serial
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table
import decimal


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


# The roll-ups are kept by statement-level AFTER triggers with transition tables, in the
# transaction of the write. Each trigger builds ``delta``: the source rows as they count
# now (sign +1) and as they counted before the statement (sign -1), restricted to the rows
# the statement touched, and adds the difference to the roll-up rows. The functions are
# SECURITY DEFINER so that they see every stage change of an opportunity and may update a
# roll-up row whatever the writer's own visibility; they only ever add the writer's own
# statement's effect. Days are days of the bank's zone.
ZONE = "Asia/Shanghai"

STAGE_APPLY = f"""
, c AS (
  SELECT sign, branch_id, owner, to_stage, changed_at,
         lead(to_stage) OVER w AS next_stage, lead(changed_at) OVER w AS left_at
    FROM delta WINDOW w AS (PARTITION BY sign, opportunity ORDER BY changed_at, id)
), g AS (
  SELECT branch_id, owner, (changed_at AT TIME ZONE '{ZONE}')::date AS day, to_stage AS stage,
         coalesce(next_stage, '') AS next_stage, sum(sign)::int AS entered,
         coalesce(sum(sign * extract(epoch FROM left_at - changed_at))
                  FILTER (WHERE left_at IS NOT NULL), 0) AS stayed,
         coalesce(sum(sign * extract(epoch FROM changed_at))
                  FILTER (WHERE left_at IS NULL), 0) AS open_since
    FROM c GROUP BY 1, 2, 3, 4, 5
)
INSERT INTO sales_stage_day AS t (branch_id, owner, day, stage, next_stage, entered,
                                  stayed_seconds, open_since_seconds)
SELECT * FROM g WHERE entered <> 0 OR stayed <> 0 OR open_since <> 0 ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (branch_id, owner, day, stage, next_stage) DO UPDATE
  SET entered = t.entered + excluded.entered,
      stayed_seconds = t.stayed_seconds + excluded.stayed_seconds,
      open_since_seconds = t.open_since_seconds + excluded.open_since_seconds
"""

OPPORTUNITY_APPLY = f"""
, g AS (
  SELECT branch_id, owner, day, channel, sum(created)::int AS created, sum(won)::int AS won,
         sum(lost)::int AS lost, sum(won_amount) AS won_amount FROM (
    SELECT branch_id, owner, (created_at AT TIME ZONE '{ZONE}')::date AS day, channel,
           sign AS created, 0 AS won, 0 AS lost, 0::numeric AS won_amount
      FROM delta WHERE created_at IS NOT NULL
    UNION ALL
    SELECT branch_id, owner, (closed_at AT TIME ZONE '{ZONE}')::date, channel, 0,
           CASE WHEN status = 'won' THEN sign ELSE 0 END,
           CASE WHEN status = 'lost' THEN sign ELSE 0 END,
           CASE WHEN status = 'won' THEN sign * coalesce(amount, 0) ELSE 0 END
      FROM delta WHERE closed_at IS NOT NULL AND status IN ('won', 'lost')
  ) x GROUP BY 1, 2, 3, 4
)
INSERT INTO sales_opportunity_day AS t (branch_id, owner, day, channel, created, won, lost,
                                        won_amount)
SELECT * FROM g WHERE created <> 0 OR won <> 0 OR lost <> 0 OR won_amount <> 0
 ORDER BY 1, 2, 3, 4
ON CONFLICT (branch_id, owner, day, channel) DO UPDATE
  SET created = t.created + excluded.created, won = t.won + excluded.won,
      lost = t.lost + excluded.lost, won_amount = t.won_amount + excluded.won_amount
"""

LEAD_APPLY = f"""
, g AS (
  SELECT branch_id, owner, (created_at AT TIME ZONE '{ZONE}')::date AS day, channel,
         sum(sign)::int AS leads FROM delta WHERE created_at IS NOT NULL GROUP BY 1, 2, 3, 4
)
INSERT INTO sales_lead_day AS t (branch_id, owner, day, channel, leads)
SELECT * FROM g WHERE leads <> 0 ORDER BY 1, 2, 3, 4
ON CONFLICT (branch_id, owner, day, channel) DO UPDATE SET leads = t.leads + excluded.leads
"""

# The stage changes of the touched opportunities, with the opportunity's branch and owner.
STAGE_ROWS = (
    "SELECT s.id, s.opportunity, s.to_stage, s.changed_at, o.branch_id, o.owner"
    " FROM sales_stage_change s JOIN sales_opportunity o ON o.id = s.opportunity"
    " WHERE s.opportunity IN (SELECT opportunity FROM touched)"
)
STAGE_DELTA = {
    "insert": (
        "WITH touched AS (SELECT DISTINCT opportunity FROM new_rows),"
        f" now_rows AS ({STAGE_ROWS}),"
        " delta AS (SELECT 1 AS sign, * FROM now_rows UNION ALL"
        " SELECT -1, * FROM now_rows r WHERE NOT EXISTS (SELECT FROM new_rows n WHERE n.id = r.id))"
    ),
    "delete": (
        "WITH touched AS (SELECT DISTINCT opportunity FROM old_rows),"
        f" now_rows AS ({STAGE_ROWS}),"
        " delta AS (SELECT 1 AS sign, * FROM now_rows UNION ALL"
        " SELECT -1, * FROM now_rows UNION ALL"
        " SELECT -1, r.id, r.opportunity, r.to_stage, r.changed_at, o.branch_id, o.owner"
        " FROM old_rows r JOIN sales_opportunity o ON o.id = r.opportunity)"
    ),
    "update": (
        "WITH touched AS (SELECT opportunity FROM new_rows UNION SELECT opportunity FROM"
        f" old_rows), now_rows AS ({STAGE_ROWS}),"
        " delta AS (SELECT 1 AS sign, * FROM now_rows UNION ALL"
        " SELECT -1, * FROM now_rows r WHERE NOT EXISTS (SELECT FROM new_rows n WHERE n.id = r.id)"
        " UNION ALL"
        " SELECT -1, r.id, r.opportunity, r.to_stage, r.changed_at, o.branch_id, o.owner"
        " FROM old_rows r JOIN sales_opportunity o ON o.id = r.opportunity)"
    ),
}
OPPORTUNITY_COLUMNS = "branch_id, owner, channel, created_at, status, closed_at, amount"
LEAD_COLUMNS = "branch_id, owner, channel, created_at"
OPPORTUNITY_DELTA = {
    "insert": f"WITH delta AS (SELECT 1 AS sign, {OPPORTUNITY_COLUMNS} FROM new_rows)",
    "delete": f"WITH delta AS (SELECT -1 AS sign, {OPPORTUNITY_COLUMNS} FROM old_rows)",
    # Only the rows whose counted columns changed (the follow-up sweep touches many).
    "update": (
        "WITH changed AS (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id"
        f" WHERE (n.branch_id, n.owner, n.channel, n.created_at, n.status, n.closed_at,"
        " n.amount) IS DISTINCT FROM (o.branch_id, o.owner, o.channel, o.created_at,"
        " o.status, o.closed_at, o.amount)),"
        f" delta AS (SELECT 1 AS sign, {OPPORTUNITY_COLUMNS} FROM new_rows"
        " WHERE id IN (SELECT id FROM changed) UNION ALL"
        f" SELECT -1, {OPPORTUNITY_COLUMNS} FROM old_rows WHERE id IN (SELECT id FROM changed))"
    ),
}
# An opportunity that changes owner or branch takes its stage history along.
OPPORTUNITY_STAGE_MOVE = (
    "WITH moved AS (SELECT n.id, n.branch_id, n.owner, o.branch_id AS old_branch_id,"
    " o.owner AS old_owner FROM new_rows n JOIN old_rows o ON o.id = n.id"
    " WHERE (n.branch_id, n.owner) IS DISTINCT FROM (o.branch_id, o.owner)),"
    " delta AS (SELECT 1 AS sign, s.id, s.opportunity, s.to_stage, s.changed_at, m.branch_id,"
    " m.owner FROM sales_stage_change s JOIN moved m ON m.id = s.opportunity UNION ALL"
    " SELECT -1, s.id, s.opportunity, s.to_stage, s.changed_at, m.old_branch_id, m.old_owner"
    " FROM sales_stage_change s JOIN moved m ON m.id = s.opportunity)"
)
LEAD_DELTA = {
    "insert": f"WITH delta AS (SELECT 1 AS sign, {LEAD_COLUMNS} FROM new_rows)",
    "delete": f"WITH delta AS (SELECT -1 AS sign, {LEAD_COLUMNS} FROM old_rows)",
    "update": (
        "WITH changed AS (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id"
        " WHERE (n.branch_id, n.owner, n.channel, n.created_at) IS DISTINCT FROM"
        " (o.branch_id, o.owner, o.channel, o.created_at)),"
        f" delta AS (SELECT 1 AS sign, {LEAD_COLUMNS} FROM new_rows"
        " WHERE id IN (SELECT id FROM changed) UNION ALL"
        f" SELECT -1, {LEAD_COLUMNS} FROM old_rows WHERE id IN (SELECT id FROM changed))"
    ),
}


def trigger(table: str, name: str, event: str, body: str) -> list[str]:
    function = f"{table}_{name}_{event}"
    referencing = {
        "insert": "NEW TABLE AS new_rows",
        "delete": "OLD TABLE AS old_rows",
        "update": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
    }[event]
    return [
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
        f" SET search_path = public, pg_temp AS $$ BEGIN {body}; RETURN NULL; END $$",
        f"CREATE TRIGGER {function} AFTER {event.upper()} ON {table}"
        f" REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


STATEMENTS = [
    "CREATE UNIQUE INDEX sales_stage_day_key ON sales_stage_day"
    " (branch_id, owner, day, stage, next_stage) NULLS NOT DISTINCT",
    "CREATE UNIQUE INDEX sales_opportunity_day_key ON sales_opportunity_day"
    " (branch_id, owner, day, channel) NULLS NOT DISTINCT",
    "CREATE UNIQUE INDEX sales_lead_day_key ON sales_lead_day"
    " (branch_id, owner, day, channel) NULLS NOT DISTINCT",
    "CREATE INDEX sales_stage_day_day ON sales_stage_day (day)",
    "CREATE INDEX sales_opportunity_day_day ON sales_opportunity_day (day)",
    "CREATE INDEX sales_lead_day_day ON sales_lead_day (day)",
    # Backfill from what exists.
    f"WITH delta AS (SELECT 1 AS sign, s.id, s.opportunity, s.to_stage, s.changed_at,"
    f" o.branch_id, o.owner FROM sales_stage_change s JOIN sales_opportunity o"
    f" ON o.id = s.opportunity) {STAGE_APPLY}",
    f"WITH delta AS (SELECT 1 AS sign, {OPPORTUNITY_COLUMNS} FROM sales_opportunity)"
    f" {OPPORTUNITY_APPLY}",
    f"WITH delta AS (SELECT 1 AS sign, {LEAD_COLUMNS} FROM sales_lead) {LEAD_APPLY}",
]
for _event in ("insert", "delete", "update"):
    STATEMENTS += trigger(
        "sales_stage_change", "stage_day", _event, STAGE_DELTA[_event] + STAGE_APPLY
    )
    STATEMENTS += trigger(
        "sales_opportunity", "opportunity_day", _event,
        OPPORTUNITY_DELTA[_event] + OPPORTUNITY_APPLY,
    )
    STATEMENTS += trigger("sales_lead", "lead_day", _event, LEAD_DELTA[_event] + LEAD_APPLY)
STATEMENTS += trigger(
    "sales_opportunity", "stage_day_move", "update", OPPORTUNITY_STAGE_MOVE + STAGE_APPLY
)


ID = "2026-12-04T19:29:36:798486"
VERSION = "1.38.0"
DESCRIPTION = "Sales daily roll-ups for analytics"


async def forwards():
    manager = MigrationManagerWithSql(
        statements=STATEMENTS,
        migration_id=ID, app_name="sales", description=DESCRIPTION
    )

    manager.add_table(
        class_name="OpportunityDay",
        tablename="sales_opportunity_day",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="LeadDay",
        tablename="sales_lead_day",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="StageDay",
        tablename="sales_stage_day",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="OpportunityDay",
        tablename="sales_opportunity_day",
        column_name="branch_id",
        db_column_name="branch_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Branch,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="OpportunityDay",
        tablename="sales_opportunity_day",
        column_name="owner",
        db_column_name="owner",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="OpportunityDay",
        tablename="sales_opportunity_day",
        column_name="day",
        db_column_name="day",
        column_class_name="Date",
        column_class=Date,
        params={
            "default": DateNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="OpportunityDay",
        tablename="sales_opportunity_day",
        column_name="channel",
        db_column_name="channel",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="OpportunityDay",
        tablename="sales_opportunity_day",
        column_name="created",
        db_column_name="created",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="OpportunityDay",
        tablename="sales_opportunity_day",
        column_name="won",
        db_column_name="won",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="OpportunityDay",
        tablename="sales_opportunity_day",
        column_name="lost",
        db_column_name="lost",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="OpportunityDay",
        tablename="sales_opportunity_day",
        column_name="won_amount",
        db_column_name="won_amount",
        column_class_name="Numeric",
        column_class=Numeric,
        params={
            "default": decimal.Decimal("0"),
            "digits": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LeadDay",
        tablename="sales_lead_day",
        column_name="branch_id",
        db_column_name="branch_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Branch,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LeadDay",
        tablename="sales_lead_day",
        column_name="owner",
        db_column_name="owner",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LeadDay",
        tablename="sales_lead_day",
        column_name="day",
        db_column_name="day",
        column_class_name="Date",
        column_class=Date,
        params={
            "default": DateNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LeadDay",
        tablename="sales_lead_day",
        column_name="channel",
        db_column_name="channel",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LeadDay",
        tablename="sales_lead_day",
        column_name="leads",
        db_column_name="leads",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="StageDay",
        tablename="sales_stage_day",
        column_name="branch_id",
        db_column_name="branch_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Branch,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="StageDay",
        tablename="sales_stage_day",
        column_name="owner",
        db_column_name="owner",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="StageDay",
        tablename="sales_stage_day",
        column_name="day",
        db_column_name="day",
        column_class_name="Date",
        column_class=Date,
        params={
            "default": DateNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="StageDay",
        tablename="sales_stage_day",
        column_name="stage",
        db_column_name="stage",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="StageDay",
        tablename="sales_stage_day",
        column_name="next_stage",
        db_column_name="next_stage",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="StageDay",
        tablename="sales_stage_day",
        column_name="entered",
        db_column_name="entered",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="StageDay",
        tablename="sales_stage_day",
        column_name="stayed_seconds",
        db_column_name="stayed_seconds",
        column_class_name="Numeric",
        column_class=Numeric,
        params={
            "default": decimal.Decimal("0"),
            "digits": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="StageDay",
        tablename="sales_stage_day",
        column_name="open_since_seconds",
        db_column_name="open_since_seconds",
        column_class_name="Numeric",
        column_class=Numeric,
        params={
            "default": decimal.Decimal("0"),
            "digits": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
