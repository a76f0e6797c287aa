"""The plugin's Piccolo app: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from bankcrm_customer_archive.dedupe.tables import DEDUPE_TABLES
from bankcrm_customer_archive.importing.tables import IMPORT_TABLES
from bankcrm_customer_archive.search.tables import SEARCH_TABLES
from bankcrm_customer_archive.tables import TABLES
from bankcrm_customer_archive.tagging.tables import TAGGING_TABLES

APP_CONFIG = AppConfig(
    app_name="customer_archive",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[*TABLES, *TAGGING_TABLES, *IMPORT_TABLES, *SEARCH_TABLES, *DEDUPE_TABLES],
    migration_dependencies=["bankcrm.piccolo_app"],
    commands=[],
)
