"""REST routes of reporting, mounted under ``/api/v1/reporting``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from bankcrm.web.pagination import Page, check_limit
from bankcrm_reporting import access, dashboard, kpis, services

READ = {"permission": access.TARGET_READ}
WRITE = {"permission": access.TARGET_WRITE}

StatusQuery = Annotated[
    services.Status | None,
    QueryParameter(description="Only the targets with this status"),
]
BranchQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="Only this branch's targets"),
]
LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]


class TargetController(Controller):
    path = "/targets"
    tags = ("reporting: targets",)

    @get("/", opt=READ)
    async def list_targets(
        self,
        status: StatusQuery = None,
        branch_id: BranchQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[services.TargetOut]:
        """The targets of the branches in your scope, newest first; pass
        ``next_cursor`` back as ``cursor`` for the next page."""
        check_limit(limit)
        return await services.list_targets(
            status=status,
            branch_id=branch_id,
            limit=limit,
            cursor=cursor,
        )

    @post("/", opt=WRITE)
    async def create(
        self,
        data: JSONBody[services.TargetIn],
    ) -> services.TargetOut:
        """Create a target in one of your branches (default: your home branch)."""
        return await services.create_target(data)

    @get("/{target_id:int}", opt=READ)
    async def detail(
        self,
        target_id: FromPath[int],
    ) -> services.TargetOut:
        return await services.get_target(target_id)

    @patch("/{target_id:int}", opt=WRITE)
    async def update(
        self,
        target_id: FromPath[int],
        data: JSONBody[services.TargetPatch],
    ) -> services.TargetOut:
        """Change the title, the body or the status; the change is audited."""
        return await services.update_target(target_id, data)

    @delete("/{target_id:int}", opt=WRITE, status_code=204)
    async def remove(self, target_id: FromPath[int]) -> None:
        """Delete the target; its content stays in the audit trail."""
        await services.delete_target(target_id)


class KpiController(Controller):
    path = "/kpis"
    tags = ("reporting: KPIs",)

    @get("/", opt=READ)
    async def list_kpis(self) -> list[kpis.KpiOut]:
        """Every KPI the running plugins register (name, titles, unit, owner plugin)."""
        return kpis.list_kpis()

    @get("/{kpi_name:str}/breakdown", opt=READ)
    async def breakdown(
        self,
        kpi_name: FromPath[str],
        branch_id: BranchQuery = None,
    ) -> kpis.BreakdownOut:
        """The KPI over a branch and over each of its child branches you can see, each
        computed under your scope narrowed to that subtree, with this month's targets
        (default branch: your highest)."""
        return await kpis.breakdown(kpi_name, branch_id)


MetricQuery = Annotated[
    str | None,
    QueryParameter(max_length=120, description="The KPI to break down and chart"),
]
DaysQuery = Annotated[
    int,
    QueryParameter(ge=1, le=366, description="Period compared, in days: 7, 30, 90 or 365"),
]
DashboardBranchQuery = Annotated[
    int | None,
    QueryParameter(
        ge=1, le=2**31 - 1, description="The branch to show (default: the top of your scope)"
    ),
]


class DashboardController(Controller):
    path = "/dashboard"
    tags = ("reporting: dashboard",)

    @get("/", opt={"permission": access.KPI_READ})
    async def dashboard(
        self,
        branch_id: DashboardBranchQuery = None,
        metric: MetricQuery = None,
        days: DaysQuery = 30,
    ) -> dashboard.DashboardOut:
        """Every KPI for one branch of your scope, one KPI by its sub-branches (drill
        down), and the comparison with ``days`` ago from the daily snapshots (for holders
        of ``reporting.history.read``). Another branch is absent (404)."""
        return await dashboard.dashboard(branch_id, metric, days)


ROUTES: list[Any] = [TargetController, KpiController, DashboardController]
