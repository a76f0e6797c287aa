"""The dashboard page: ``/app/reporting/``.

The page is rendered by the server (labels, filters) and drawn by ``static/reporting.js``
with the bundled ECharts (``static/echarts.min.js``, served from this package: no CDN).
The script reads ``/api/v1/reporting/dashboard`` under the viewer's session, so the page
shows exactly what the API lets the viewer see.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from bankcrm.plugin_api import Label, WorkbenchLink
from bankcrm.workbench import render
from bankcrm_reporting import dashboard, services
from bankcrm_reporting.access import KPI_READ, TARGET_READ
from bankcrm_reporting.manifest import MANIFEST

PLUGIN = MANIFEST.name

LINKS = [
    WorkbenchLink(
        Label("经营仪表盘", "KPI dashboard"),
        f"/app/{PLUGIN}/",
        KPI_READ,
        Label(
            "各条线指标按总行、分行、支行逐级下钻，期间对比",
            "Every KPI by head office, branch and sub-branch, with period comparison",
        ),
    ),
]


@get("/", opt={"permission": KPI_READ}, include_in_schema=False)
async def dashboard_page(
    request: Request[Any, Any, Any],
    branch_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    metric: Annotated[str | None, QueryParameter(max_length=120)] = None,
    days: Annotated[int, QueryParameter(ge=1, le=366)] = 30,
) -> Response[str]:
    """The dashboard; its figures come from the JSON API (see the module docstring)."""
    return render(
        request,
        "reporting/dashboard.html",
        branch_id=branch_id or "",
        metric=metric or "",
        days=days if days in dashboard.PERIODS else 30,
        periods=dashboard.PERIODS,
    )


@get("/targets/{target_id:int}", opt={"permission": TARGET_READ}, include_in_schema=False)
async def target_page(target_id: FromPath[int]) -> Redirect:
    """A target's KPI on the dashboard, at the target's branch (the admin's row link).
    A target of a branch outside the viewer's scope is absent (404), as in the API."""
    target = await services.get_target(target_id)
    query = urlencode({"branch_id": target.branch_id, "metric": target.metric})
    return Redirect(f"/app/{PLUGIN}/?{query}", status_code=303)


PAGES_HANDLERS = [dashboard_page, target_page]
