"""The migrations create exactly the tables ``tables.py`` declares."""

from __future__ import annotations

from piccolo.apps.migrations.commands.new import AutoMigrationManager

from bankcrm_service.piccolo_app import APP_CONFIG


async def test_migrations_match_the_tables() -> None:
    groups = await AutoMigrationManager().get_alter_statements(app_config=APP_CONFIG)
    pending = [statement for group in groups for statement in group.statements]
    hint = f"tables changed: run `piccolo migrations new {APP_CONFIG.app_name} --auto`"
    assert pending == [], hint
