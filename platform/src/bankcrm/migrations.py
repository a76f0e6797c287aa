"""Help for the hand-written parts of Piccolo migrations (plugins use it too)."""

from __future__ import annotations

from dataclasses import dataclass, field

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder


@dataclass
class MigrationManagerWithSql(MigrationManager):
    """A Piccolo ``MigrationManager`` that also runs ``statements`` (raw SQL: indexes,
    constraints, functions Piccolo cannot express) as the last step inside the migration's
    own transaction, after its tables and columns exist. Piccolo's ``add_raw`` runs before
    them, so it cannot index or constrain a table created by the same migration."""

    statements: list[str] = field(default_factory=list)

    async def _run_drop_constraints(self, backwards: bool = False) -> None:
        await super()._run_drop_constraints(backwards=backwards)
        if backwards or self.preview:
            return
        engine = engine_finder()
        assert engine is not None
        for statement in self.statements:
            await engine.run_ddl(statement)
