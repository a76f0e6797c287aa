"""REST routes of saved reports: data sources, definitions, runs and the inbox."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from bankcrm.web.pagination import Page, check_limit
from bankcrm_reporting.access import REPORT_EXPORT, REPORT_READ, REPORT_WRITE
from bankcrm_reporting.reports import export, services

READ = {"permission": REPORT_READ}
WRITE = {"permission": REPORT_WRITE}
LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]


class SourceController(Controller):
    path = "/sources"
    tags = ("reporting: saved reports",)

    @get("/", opt=READ)
    async def list_sources(self) -> list[services.SourceOut]:
        """The data sources you may report on: their dimensions and measures with the
        aggregations each allows."""
        return services.list_sources()


class ReportController(Controller):
    path = "/reports"
    tags = ("reporting: saved reports",)

    @get("/", opt=READ)
    async def list_reports(
        self,
        mine: Annotated[bool, QueryParameter(description="Only your own reports")] = False,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[services.ReportOut]:
        """Your reports, those of the people you oversee and the shared ones of your
        branches, newest first."""
        check_limit(limit)
        return await services.list_reports(mine=mine, limit=limit, cursor=cursor)

    @post("/", opt=WRITE)
    async def create(self, data: JSONBody[services.ReportIn]) -> services.ReportOut:
        """Save a report; its definition is checked against the source (422 naming the
        field) and its schedule read (cron, the bank's time zone)."""
        return await services.create_report(data)

    @get("/{report_id:int}", opt=READ)
    async def detail(self, report_id: FromPath[int]) -> services.ReportOut:
        return await services.get_report(report_id)

    @patch("/{report_id:int}", opt=WRITE)
    async def update(
        self, report_id: FromPath[int], data: JSONBody[services.ReportPatch]
    ) -> services.ReportOut:
        """Change your report's name, definition, schedule or sharing (audited)."""
        return await services.update_report(report_id, data)

    @delete("/{report_id:int}", opt=WRITE, status_code=204)
    async def remove(self, report_id: FromPath[int]) -> None:
        """Delete your report; its runs stay in the inboxes."""
        await services.delete_report(report_id)

    @post(
        "/{report_id:int}/run",
        opt={**WRITE, "location": "/api/v1/reporting/inbox/{id}"},
        status_code=201,
    )
    async def run(self, report_id: FromPath[int]) -> services.RunOut:
        """Run the report now under your scope; the result goes to your inbox and you
        are notified."""
        return await services.run_report(report_id)


class InboxController(Controller):
    path = "/inbox"
    tags = ("reporting: saved reports",)

    @get("/", opt=READ)
    async def list_runs(
        self,
        report_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[services.RunSummary]:
        """Your report inbox: your runs, newest first (without their rows)."""
        check_limit(limit)
        return await services.list_inbox(report_id=report_id, limit=limit, cursor=cursor)

    @get("/{report_run_id:int}", opt=READ)
    async def detail(self, report_run_id: FromPath[int]) -> services.RunOut:
        """One run with its columns and rows; your own is marked read."""
        return await services.get_run(report_run_id, opened=True)

    @get(
        "/{report_run_id:int}/export",
        opt={"permission": REPORT_EXPORT, "media_types": tuple(export.MEDIA_TYPES.values())},
    )
    async def export_run(
        self,
        report_run_id: FromPath[int],
        format: Annotated[  # noqa: A002 - the parameter's public name
            export.ExportFormat, QueryParameter(description="csv, xlsx or pdf (print)")
        ] = "xlsx",
        language: Annotated[
            export.Language, QueryParameter(description="Headers and labels: zh or en")
        ] = "zh",
    ) -> Stream:
        """The run as CSV or Excel (streamed) or a print-ready PDF with the branch, the
        period and who printed it on every page; masked as the run is, and audited as an
        export."""
        made = await export.export_run(report_run_id, format, language)
        return Stream(
            made.chunks,
            media_type=made.media_type,
            headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
            background=BackgroundTask(made.close),
        )


ROUTES: list[Any] = [SourceController, ReportController, InboxController]
