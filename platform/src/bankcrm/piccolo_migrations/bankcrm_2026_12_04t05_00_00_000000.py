from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-12-04T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Organisation: teams, employees (manager tree, skills, capacity) and leave"

STATEMENTS = [
    # Overlapping leave is refused by an exclusion constraint over (employee, dates).
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """CREATE TABLE bankcrm_team (
        id serial PRIMARY KEY,
        branch_id integer NOT NULL REFERENCES bankcrm_branch (id) ON DELETE RESTRICT,
        code varchar(32) NOT NULL CHECK (code <> ''),
        name varchar(200) NOT NULL CHECK (name <> ''),
        name_en varchar(200) NOT NULL DEFAULT '',
        active boolean NOT NULL DEFAULT true,
        UNIQUE (branch_id, code)
    )""",
    "CREATE INDEX bankcrm_team_branch ON bankcrm_team (branch_id)",
    """CREATE TABLE bankcrm_employee (
        id serial PRIMARY KEY,
        branch_id integer NOT NULL REFERENCES bankcrm_branch (id) ON DELETE RESTRICT,
        employee_no varchar(32) NOT NULL UNIQUE CHECK (employee_no <> ''),
        name varchar(100) NOT NULL CHECK (name <> ''),
        name_en varchar(100) NOT NULL DEFAULT '',
        user_id integer UNIQUE REFERENCES piccolo_user (id) ON DELETE SET NULL,
        position varchar(100) NOT NULL DEFAULT '',
        team_id integer REFERENCES bankcrm_team (id) ON DELETE RESTRICT,
        manager_id integer REFERENCES bankcrm_employee (id) ON DELETE RESTRICT,
        products varchar(64)[] NOT NULL DEFAULT '{}',
        segments varchar(64)[] NOT NULL DEFAULT '{}',
        languages varchar(16)[] NOT NULL DEFAULT '{}',
        territories varchar(64)[] NOT NULL DEFAULT '{}',
        capacity integer NOT NULL DEFAULT 0 CHECK (capacity >= 0),
        email varchar(254) NOT NULL DEFAULT '',
        phone varchar(32) NOT NULL DEFAULT '',
        active boolean NOT NULL DEFAULT true,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT bankcrm_employee_not_own_manager CHECK (manager_id IS NULL OR manager_id <> id)
    )""",
    "CREATE INDEX bankcrm_employee_branch ON bankcrm_employee (branch_id)",
    "CREATE INDEX bankcrm_employee_manager ON bankcrm_employee (manager_id)",
    "CREATE INDEX bankcrm_employee_team ON bankcrm_employee (team_id)",
    """CREATE TABLE bankcrm_employee_leave (
        id serial PRIMARY KEY,
        branch_id integer NOT NULL REFERENCES bankcrm_branch (id) ON DELETE RESTRICT,
        employee_id integer NOT NULL REFERENCES bankcrm_employee (id) ON DELETE CASCADE,
        starts date NOT NULL,
        ends date NOT NULL,
        reason varchar(200) NOT NULL DEFAULT '',
        CHECK (starts <= ends),
        CONSTRAINT bankcrm_employee_leave_no_overlap EXCLUDE USING gist
            (employee_id WITH =, daterange(starts, ends, '[]') WITH &&)
    )""",
    "CREATE INDEX bankcrm_employee_leave_branch ON bankcrm_employee_leave (branch_id)",
    # A manager chain may cross branches the writer cannot see (a sub-branch head reports
    # to the branch head), so the cycle check walks the whole tree: the function widens
    # the scope for its own walk and puts the caller's back. The advisory lock serialises
    # concurrent manager changes, so two of them cannot close a cycle between them.
    """CREATE OR REPLACE FUNCTION bankcrm_employee_check_manager() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
      v_saved text := coalesce(current_setting('bankcrm.branch_ids', true), '');
      v_cycle boolean;
    BEGIN
      IF NEW.manager_id IS NULL THEN
        RETURN NEW;
      END IF;
      PERFORM pg_advisory_xact_lock(hashtext('bankcrm_employee_manager_tree'));
      PERFORM set_config('bankcrm.branch_ids',
        (SELECT coalesce(string_agg(id::text, ','), '') FROM bankcrm_branch), true);
      WITH RECURSIVE chain(id, depth) AS (
        SELECT NEW.manager_id, 1
        UNION ALL
        SELECT e.manager_id, c.depth + 1 FROM bankcrm_employee e JOIN chain c ON e.id = c.id
        WHERE e.manager_id IS NOT NULL AND c.depth < 1000
      )
      SELECT EXISTS (SELECT 1 FROM chain WHERE id = NEW.id) INTO v_cycle;
      PERFORM set_config('bankcrm.branch_ids', v_saved, true);
      IF v_cycle THEN
        RAISE EXCEPTION 'employee % would manage itself through its manager chain', NEW.id
          USING ERRCODE = 'check_violation', CONSTRAINT = 'bankcrm_employee_manager_cycle';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER bankcrm_employee_manager_cycle
    BEFORE INSERT OR UPDATE OF manager_id ON bankcrm_employee
    FOR EACH ROW EXECUTE FUNCTION bankcrm_employee_check_manager()""",
]


async def forwards():
    return MigrationManagerWithSql(
        migration_id=ID, app_name="bankcrm", description=DESCRIPTION, statements=STATEMENTS
    )
