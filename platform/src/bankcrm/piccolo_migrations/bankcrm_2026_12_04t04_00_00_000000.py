from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-12-04T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Business calendar: national days, loaded years, branch hours and overrides"

STATEMENTS = [
    """CREATE TABLE bankcrm_calendar_day (
        id serial PRIMARY KEY,
        day date NOT NULL UNIQUE,
        kind varchar(16) NOT NULL CHECK (kind IN ('holiday', 'workday')),
        name varchar(200) NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE bankcrm_calendar_year (
        id serial PRIMARY KEY,
        year integer NOT NULL UNIQUE CHECK (year BETWEEN 1990 AND 2200),
        source varchar(200) NOT NULL DEFAULT '',
        adjusted_days_known boolean NOT NULL DEFAULT false,
        loaded_at timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE bankcrm_branch_hours (
        id serial PRIMARY KEY,
        branch integer NOT NULL REFERENCES bankcrm_branch (id) ON DELETE RESTRICT,
        weekday integer NOT NULL CHECK (weekday BETWEEN 0 AND 6),
        opens time NOT NULL,
        closes time NOT NULL,
        timezone varchar(64) NOT NULL DEFAULT 'Asia/Shanghai',
        CHECK (opens < closes),
        UNIQUE (branch, weekday)
    )""",
    "CREATE INDEX bankcrm_branch_hours_branch ON bankcrm_branch_hours (branch)",
    """CREATE TABLE bankcrm_branch_calendar_override (
        id serial PRIMARY KEY,
        branch integer NOT NULL REFERENCES bankcrm_branch (id) ON DELETE RESTRICT,
        day date NOT NULL,
        closed boolean NOT NULL DEFAULT true,
        opens time,
        closes time,
        reason varchar(200) NOT NULL DEFAULT '',
        CHECK (closed OR (opens IS NOT NULL AND closes IS NOT NULL AND opens < closes)),
        UNIQUE (branch, day)
    )""",
    "CREATE INDEX bankcrm_branch_calendar_override_branch"
    " ON bankcrm_branch_calendar_override (branch)",
]


async def forwards():
    return MigrationManagerWithSql(
        migration_id=ID, app_name="bankcrm", description=DESCRIPTION, statements=STATEMENTS
    )
