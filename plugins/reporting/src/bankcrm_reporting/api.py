"""REST routes of reporting, mounted under ``/api/v1/reporting``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import QueryParameter

from bankcrm_reporting import access, dashboard

READ = {"permission": access.KPI_READ}

BranchQuery = Annotated[
    int | None,
    QueryParameter(
        ge=1, le=2**31 - 1, description="The branch to show (default: the top of your scope)"
    ),
]
MetricQuery = Annotated[
    str | None,
    QueryParameter(max_length=120, description="The KPI to break down and chart"),
]
DaysQuery = Annotated[
    int,
    QueryParameter(ge=1, le=366, description="Period compared, in days: 7, 30, 90 or 365"),
]


class KpiController(Controller):
    path = "/"
    tags = ("reporting: KPIs",)

    @get("/kpis", opt=READ)
    async def kpis(self) -> list[dashboard.KpiOut]:
        """The KPI registry: every plugin's KPIs with definition, unit, dimensions, owner
        and direction of good (``up``: more is better, ``down``: less is better)."""
        return dashboard.list_kpis()

    @get("/dashboard", opt=READ)
    async def dashboard(
        self,
        branch_id: BranchQuery = None,
        metric: MetricQuery = None,
        days: DaysQuery = 30,
    ) -> dashboard.DashboardOut:
        """Every KPI for one branch of your scope, one KPI by its sub-branches (drill
        down), and the comparison with ``days`` ago from the daily snapshots (for holders
        of ``reporting.history.read``). Another branch is absent (404)."""
        return await dashboard.dashboard(branch_id, metric, days)


ROUTES: list[Any] = [KpiController]
