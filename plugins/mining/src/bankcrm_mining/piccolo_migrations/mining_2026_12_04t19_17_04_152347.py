from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-12-04T19:17:04:152347"
VERSION = "1.38.0"
DESCRIPTION = "Customer analytics: segmentation models"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mining", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Model",
        tablename="mining_model",
        column_name="task",
        db_column_name="task",
        params={
            "choices": Enum(
                "ModelTask",
                {
                    "scorecard": "scorecard",
                    "default": "default",
                    "churn": "churn",
                    "propensity": "propensity",
                    "recommendation": "recommendation",
                    "segmentation": "segmentation",
                },
            )
        },
        old_params={
            "choices": Enum(
                "ModelTask",
                {
                    "scorecard": "scorecard",
                    "default": "default",
                    "churn": "churn",
                    "propensity": "propensity",
                    "recommendation": "recommendation",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="TrainingRun",
        tablename="mining_training_run",
        column_name="task",
        db_column_name="task",
        params={
            "choices": Enum(
                "ModelTask",
                {
                    "scorecard": "scorecard",
                    "default": "default",
                    "churn": "churn",
                    "propensity": "propensity",
                    "recommendation": "recommendation",
                    "segmentation": "segmentation",
                },
            )
        },
        old_params={
            "choices": Enum(
                "ModelTask",
                {
                    "scorecard": "scorecard",
                    "default": "default",
                    "churn": "churn",
                    "propensity": "propensity",
                    "recommendation": "recommendation",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
