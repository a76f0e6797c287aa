from piccolo.columns.column_types import Array, Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

from bankcrm.migrations import MigrationManagerWithSql

ID = "2026-12-04T03:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "API clients: who rotated, and the previous token's switch-over window;"
    " users: the hashes of earlier passwords"
)


async def forwards():
    manager = MigrationManagerWithSql(
        migration_id=ID, app_name="bankcrm", description=DESCRIPTION, statements=[]
    )

    manager.add_column(
        table_class_name="ApiClient",
        tablename="bankcrm_api_client",
        column_name="rotated_by",
        db_column_name="rotated_by",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
            "length": 128,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ApiClient",
        tablename="bankcrm_api_client",
        column_name="previous_token_prefix",
        db_column_name="previous_token_prefix",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
            "length": 16,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ApiClient",
        tablename="bankcrm_api_client",
        column_name="previous_token_hash",
        db_column_name="previous_token_hash",
        column_class_name="Varchar",
        column_class=Varchar,
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
            "length": 128,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ApiClient",
        tablename="bankcrm_api_client",
        column_name="previous_valid_until",
        db_column_name="previous_valid_until",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
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
        table_class_name="UserSecurity",
        tablename="bankcrm_user_security",
        column_name="password_history",
        db_column_name="password_history",
        column_class_name="Array",
        column_class=Array,
        params={
            "default": list,
            "base_column": Varchar(
                length=256,
                default="",
                null=False,
                primary_key=False,
                unique=False,
                index=False,
                index_method=IndexMethod.btree,
                choices=None,
                db_column_name=None,
                secret=False,
            ),
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
