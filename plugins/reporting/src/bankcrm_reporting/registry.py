"""The KPI registry: every running plugin's ``register_metrics`` in one list.

Each KPI keeps the plugin's :class:`~bankcrm.plugin_api.MetricSpec` (definition, unit,
dimensions, owner, direction of good) and is computed by the plugin's own query under a
scope the caller binds (:mod:`.figures`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bankcrm.plugin_api import MetricSpec, plugin_hooks

DIRECTIONS = ("up", "down", "")


@dataclass(frozen=True)
class Kpi:
    plugin: str
    spec: MetricSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def owner(self) -> str:
        return self.spec.owner or self.plugin

    @property
    def direction(self) -> str:
        return self.spec.direction if self.spec.direction in DIRECTIONS else ""


def registered() -> list[Kpi]:
    """Every KPI with a query, in the plugins' dependency order (KPIs without a query are
    computed elsewhere and have nothing for a dashboard to run)."""
    found: list[Kpi] = []
    seen: set[str] = set()
    for plugin, specs in plugin_hooks().call_each("register_metrics"):
        for spec in specs or ():
            if not isinstance(spec, MetricSpec) or spec.compute is None or spec.name in seen:
                continue
            seen.add(spec.name)
            found.append(Kpi(plugin, spec))
    return found


def by_name() -> dict[str, Kpi]:
    return {kpi.name: kpi for kpi in registered()}
