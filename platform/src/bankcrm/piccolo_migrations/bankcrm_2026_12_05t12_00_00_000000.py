from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-12-05T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "OAuth 2.0: access tokens issued to API clients by the client credentials grant"

STATEMENTS = [
    """CREATE TABLE bankcrm_oauth_token (
        id serial PRIMARY KEY,
        client integer NOT NULL REFERENCES bankcrm_api_client (id) ON DELETE CASCADE,
        token_prefix varchar(16) NOT NULL UNIQUE,
        token_hash varchar(128) NOT NULL,
        scopes varchar(128)[] NOT NULL,
        issued_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        CHECK (expires_at > issued_at)
    )""",
    "CREATE INDEX bankcrm_oauth_token_client ON bankcrm_oauth_token (client)",
    "CREATE INDEX bankcrm_oauth_token_expires_at ON bankcrm_oauth_token (expires_at)",
]


async def forwards():
    return MigrationManagerWithSql(
        migration_id=ID, app_name="bankcrm", description=DESCRIPTION, statements=STATEMENTS
    )
