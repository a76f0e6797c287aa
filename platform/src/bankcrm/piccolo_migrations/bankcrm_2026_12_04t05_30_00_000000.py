from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-12-04T05:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Assignment engine: declared rules per branch, open assignments, turns"

STATEMENTS = [
    """CREATE TABLE bankcrm_assignment_rule (
        id serial PRIMARY KEY,
        branch_id integer NOT NULL REFERENCES bankcrm_branch (id) ON DELETE RESTRICT,
        work_kind varchar(64) NOT NULL,
        name varchar(200) NOT NULL CHECK (name <> ''),
        priority integer NOT NULL DEFAULT 100,
        condition text NOT NULL DEFAULT '',
        strategy varchar(16) NOT NULL DEFAULT 'least_loaded'
            CHECK (strategy IN ('least_loaded', 'round_robin')),
        match_skills jsonb NOT NULL DEFAULT '{}',
        team_id integer REFERENCES bankcrm_team (id) ON DELETE RESTRICT,
        active boolean NOT NULL DEFAULT true,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX bankcrm_assignment_rule_branch ON bankcrm_assignment_rule (branch_id, work_kind)",
    """CREATE TABLE bankcrm_assignment (
        id bigserial PRIMARY KEY,
        branch_id integer NOT NULL REFERENCES bankcrm_branch (id) ON DELETE RESTRICT,
        work_kind varchar(64) NOT NULL,
        item_id varchar(64) NOT NULL,
        employee_id integer NOT NULL REFERENCES bankcrm_employee (id) ON DELETE RESTRICT,
        rule_id integer REFERENCES bankcrm_assignment_rule (id) ON DELETE SET NULL,
        how varchar(32) NOT NULL,
        reason text NOT NULL DEFAULT '',
        assigned_by varchar(128) NOT NULL,
        assigned_at timestamptz NOT NULL DEFAULT now(),
        released_at timestamptz
    )""",
    "CREATE INDEX bankcrm_assignment_branch ON bankcrm_assignment (branch_id)",
    # One open assignment per work item: a second worker's insert fails, never doubles.
    "CREATE UNIQUE INDEX bankcrm_assignment_open_item ON bankcrm_assignment (work_kind, item_id)"
    " WHERE released_at IS NULL",
    "CREATE INDEX bankcrm_assignment_open_load ON bankcrm_assignment (employee_id)"
    " WHERE released_at IS NULL",
    """CREATE TABLE bankcrm_assignment_turn (
        id serial PRIMARY KEY,
        branch_id integer NOT NULL REFERENCES bankcrm_branch (id) ON DELETE RESTRICT,
        work_kind varchar(64) NOT NULL,
        rule_id integer NOT NULL DEFAULT 0,
        last_employee_id integer NOT NULL,
        UNIQUE (branch_id, work_kind, rule_id)
    )""",
]


async def forwards():
    return MigrationManagerWithSql(
        migration_id=ID, app_name="bankcrm", description=DESCRIPTION, statements=STATEMENTS
    )
