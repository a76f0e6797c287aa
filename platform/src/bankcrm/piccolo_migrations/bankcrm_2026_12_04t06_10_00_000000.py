from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-12-04T06:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Notifications: preferences, quiet hours, skipped deliveries and operator retries"

ACTOR = "current_setting('bankcrm.actor', true)"

# Frozen copy of the settings tables and their policies as of this migration.
STATEMENTS = [
    """CREATE TABLE bankcrm_notification_preference (
        id serial PRIMARY KEY,
        "user" integer NOT NULL REFERENCES piccolo_user (id) ON DELETE CASCADE,
        category varchar(64) NOT NULL,
        template varchar(128) NOT NULL DEFAULT '',
        channel varchar(64) NOT NULL,
        enabled boolean NOT NULL DEFAULT false,
        UNIQUE ("user", category, template, channel)
    )""",
    'CREATE INDEX bankcrm_notification_preference_user ON bankcrm_notification_preference ("user")',
    """CREATE TABLE bankcrm_notification_quiet_hours (
        id serial PRIMARY KEY,
        "user" integer NOT NULL UNIQUE REFERENCES piccolo_user (id) ON DELETE CASCADE,
        starts time NOT NULL,
        ends time NOT NULL,
        timezone varchar(64) NOT NULL DEFAULT 'Asia/Shanghai',
        CHECK (starts <> ends)
    )""",
    "ALTER TABLE bankcrm_notification_preference ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE bankcrm_notification_preference FORCE ROW LEVEL SECURITY",
    # Any bound actor may read (a sender files a muted in-app notification as read in its
    # own transaction); only the user may write.
    "CREATE POLICY bankcrm_notification_preference_read ON bankcrm_notification_preference"
    f" FOR SELECT USING (coalesce({ACTOR}, '') <> '')",
    "CREATE POLICY bankcrm_notification_preference_owner ON bankcrm_notification_preference"
    f" FOR ALL USING ({ACTOR} = 'user:' || \"user\") WITH CHECK ({ACTOR} = 'user:' || \"user\")",
    "ALTER TABLE bankcrm_notification_quiet_hours ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE bankcrm_notification_quiet_hours FORCE ROW LEVEL SECURITY",
    "CREATE POLICY bankcrm_notification_quiet_owner ON bankcrm_notification_quiet_hours"
    f" FOR ALL USING ({ACTOR} IN ('user:' || \"user\", 'system:notifications'))"
    f" WITH CHECK ({ACTOR} = 'user:' || \"user\")",
    "ALTER TABLE bankcrm_notification_delivery ADD COLUMN retried_at timestamptz",
    "ALTER TABLE bankcrm_notification_delivery"
    " ADD COLUMN retried_by varchar(64) NOT NULL DEFAULT ''",
    # The dead-letter view lists one status, newest first.
    "CREATE INDEX bankcrm_notification_delivery_status_created"
    " ON bankcrm_notification_delivery (status, created_at DESC, id DESC)",
]


async def forwards():
    return MigrationManagerWithSql(
        migration_id=ID, app_name="bankcrm", description=DESCRIPTION, statements=STATEMENTS
    )
