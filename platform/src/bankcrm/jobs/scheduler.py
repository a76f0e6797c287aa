"""Periodic work: each due tick of each schedule is enqueued exactly once.

Ticks are aligned to the Unix epoch (a schedule every 3600 s is due at each full hour
UTC), so every scheduler instance computes the same due times. Claiming a tick is an
``INSERT ... ON CONFLICT DO NOTHING`` on the unique (schedule, due_at) of
``bankcrm_schedule_tick``, in the same transaction as the outbox row of its message:
however many schedulers run, one wins each tick, and a tick is never claimed without its
message. A scheduler that was down skips the ticks it missed and runs the current one.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bankcrm import branches, db
from bankcrm.context import Scope, bind_scope
from bankcrm.jobs.actors import JobActor
from bankcrm.jobs.outbox import enqueue
from bankcrm.plugin_api import ScheduleSpec
from bankcrm.plugins import KERNEL_PLUGIN_NAME, PluginRegistry

if TYPE_CHECKING:
    from bankcrm.jobs.execution import Catalogue

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 30.0
"""Re-check at least this often, so a plugin enabled mid-period gets its current tick."""


@dataclass(frozen=True)
class Schedule:
    key: str
    plugin: str
    actor: JobActor[Any]
    every_seconds: int

    def due_at(self, now: datetime) -> datetime:
        start = math.floor(now.timestamp() / self.every_seconds) * self.every_seconds
        return datetime.fromtimestamp(start, UTC)


def _schedules(
    registry: PluginRegistry, catalogue: Catalogue, kernel_specs: Iterable[ScheduleSpec]
) -> list[Schedule]:
    offered: list[tuple[str, Any]] = [(KERNEL_PLUGIN_NAME, kernel_specs)]
    offered.extend(registry.call_each("register_schedules"))
    found: dict[str, Schedule] = {}
    for plugin, specs in offered:
        for spec in specs or ():
            if not isinstance(spec, ScheduleSpec):
                log.error("schedule refused", extra={"plugin": plugin, "reason": repr(spec)})
                continue
            key = spec.name if spec.name.startswith(plugin + ".") else f"{plugin}.{spec.name}"
            problem = ""
            if catalogue.plugins.get(spec.actor_name) != plugin:
                problem = f"{spec.actor_name!r} is not an actor registered by {plugin!r}"
            elif spec.every_seconds <= 0:
                problem = "every_seconds must be positive"
            elif key in found:
                problem = f"schedule {key!r} is declared twice"
            if problem:
                log.error("schedule refused", extra={"plugin": plugin, "reason": problem})
                continue
            found[key] = Schedule(
                key, plugin, catalogue.actors[spec.actor_name], spec.every_seconds
            )
    return list(found.values())


class Scheduler:
    def __init__(
        self,
        registry: PluginRegistry,
        catalogue: Catalogue,
        kernel_specs: Iterable[ScheduleSpec] = (),
    ) -> None:
        self.schedules = _schedules(registry, catalogue, kernel_specs)

    async def tick(self, now: datetime | None = None) -> list[str]:
        """Enqueue every schedule due at ``now`` not enqueued yet; return their keys.

        Each job runs with a system scope over the branches where its plugin is enabled
        (all branches for the kernel's own); a plugin enabled nowhere is not scheduled.
        """
        now = now or datetime.now(UTC)
        tree = await branches.snapshot()
        enqueued = []
        for schedule in self.schedules:
            if schedule.plugin == KERNEL_PLUGIN_NAME:
                branch_ids = frozenset(tree.nodes)
            else:
                branch_ids = tree.enabled_branches(schedule.plugin)
                if not branch_ids:
                    continue
            scope = Scope(
                actor=f"system:schedule:{schedule.key}", branch_ids=branch_ids, is_superuser=True
            )
            try:
                with bind_scope(scope):
                    async with db.transaction():
                        claimed = await db.fetchval(
                            "INSERT INTO bankcrm_schedule_tick (schedule, due_at, enqueued_at)"
                            " VALUES ($1, $2, now()) ON CONFLICT (schedule, due_at) DO NOTHING"
                            " RETURNING id",
                            schedule.key,
                            schedule.due_at(now),
                        )
                        if claimed is not None:
                            await enqueue(schedule.actor)
                            enqueued.append(schedule.key)
            except Exception:
                log.exception("schedule tick failed", extra={"schedule": schedule.key})
        return enqueued

    def seconds_until_next(self, now: datetime) -> float:
        moment = now.timestamp()
        waits = [
            (math.floor(moment / s.every_seconds) + 1) * s.every_seconds - moment
            for s in self.schedules
        ]
        return max(0.05, min([*waits, MAX_SLEEP_SECONDS]))

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler tick failed; retrying")
            await asyncio.sleep(self.seconds_until_next(datetime.now(UTC)))
