"""The plugin's Piccolo app: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from bankcrm_branch_notes.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="branch_notes",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=[
        "bankcrm.piccolo_app",
    ],
    commands=[],
)
