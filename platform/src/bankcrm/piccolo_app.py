"""The kernel's Piccolo app: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from bankcrm.assignment.tables import ASSIGNMENT_TABLES
from bankcrm.notifications.tables import NOTIFICATION_TABLES
from bankcrm.organisation.tables import ORGANISATION_TABLES
from bankcrm.tables import KERNEL_TABLES

APP_CONFIG = AppConfig(
    app_name="bankcrm",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[*KERNEL_TABLES, *NOTIFICATION_TABLES, *ORGANISATION_TABLES, *ASSIGNMENT_TABLES],
    migration_dependencies=[
        "piccolo.apps.user.piccolo_app",
        "piccolo_api.session_auth.piccolo_app",
    ],
    commands=[],
)
