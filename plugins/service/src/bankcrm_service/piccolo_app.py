"""The plugin's Piccolo app: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from bankcrm_service.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="service",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=[
        "bankcrm.piccolo_app",
        "bankcrm_customer_archive.piccolo_app",
    ],
    commands=[],
)
