"""Admin screens of saved reports (read-only: definitions change through the REST API,
which checks them against their source) and the form that runs a report now."""

from __future__ import annotations

import pydantic

from bankcrm.plugin_api import AdminForm, AdminScreen, Label
from bankcrm_reporting.access import REPORT_EXPORT, REPORT_READ, REPORT_WRITE
from bankcrm_reporting.reports import services
from bankcrm_reporting.tables import Report, ReportRun

GROUP = Label("报表统计", "Reporting")

REPORT_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "owner": Label("所有人", "Owner"),
    "name": Label("报表名称", "Name"),
    "source": Label("数据源", "Data source"),
    "definition": Label("报表定义（维度、指标、筛选、排序）", "Definition"),
    "schedule": Label("定时（cron：分 时 日 月 周）", "Schedule (cron)"),
    "next_run_at": Label("下次运行时间", "Next run"),
    "last_run_at": Label("上次定时运行", "Last scheduled run"),
    "shared": Label("共享给本机构", "Shared with the branch"),
    "created_at": Label("创建时间", "Created at"),
    "updated_at": Label("更新时间", "Updated at"),
}

RUN_LABELS = {
    "id": Label("编号", "ID"),
    "branch_id": Label("机构", "Branch"),
    "report": Label("报表编号", "Report ID"),
    "recipient": Label("收件人", "Recipient"),
    "title": Label("报表名称", "Report"),
    "source": Label("数据源", "Data source"),
    "trigger": Label("触发方式（manual 手动 / schedule 定时）", "Trigger (manual/schedule)"),
    "status": Label("状态（done 已完成 / failed 失败）", "Status (done/failed)"),
    "columns": Label("列", "Columns"),
    "rows": Label("结果行", "Rows"),
    "row_count": Label("行数", "Rows"),
    "truncated": Label("结果已截断", "Truncated"),
    "period_start": Label("期间起", "Period from"),
    "period_end": Label("期间止（不含）", "Period until (excl.)"),
    "scope_branches": Label("可见机构", "Branches in scope"),
    "error": Label("错误信息", "Error"),
    "created_at": Label("生成时间", "Created at"),
    "read_at": Label("阅读时间（空：未读）", "Read at (empty: unread)"),
}

SCREENS: tuple[AdminScreen, ...] = (
    AdminScreen(
        table=Report,
        title=Label("已保存报表", "Saved reports"),
        permission=REPORT_READ,
        columns=REPORT_LABELS,
        visible_columns=("id", "name", "source", "schedule", "next_run_at", "shared", "owner",
                         "branch_id"),
        visible_filters=("name", "source", "shared", "owner", "branch_id"),
        menu_group=GROUP,
        read_only=True,
        export_permission=REPORT_EXPORT,
    ),
    AdminScreen(
        table=ReportRun,
        title=Label("报表收件箱", "Report inbox"),
        permission=REPORT_READ,
        columns=RUN_LABELS,
        visible_columns=("id", "title", "trigger", "status", "row_count", "period_start",
                         "period_end", "created_at", "read_at", "recipient"),
        visible_filters=("title", "trigger", "status", "recipient", "report"),
        menu_group=GROUP,
        read_only=True,
        export_permission=REPORT_EXPORT,
    ),
)  # fmt: skip


class RunNow(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    report_id: int = pydantic.Field(ge=1, le=2**31 - 1)


async def _run_now(data: RunNow) -> str:
    run = await services.run_report(data.report_id)
    return (
        f"报表「{run.title}」已生成 {run.row_count} 行，已放入您的报表收件箱（编号 {run.id}）"
        f" / the report ran: {run.row_count} rows in your inbox (run {run.id})"
    )


FORMS: tuple[AdminForm, ...] = (
    AdminForm(
        "run-report",
        Label("立即运行报表", "Run a report now"),
        Label(
            "按您当前可见的机构范围运行一张已保存报表，结果放入您的报表收件箱并通知您。",
            "Run a saved report under your own scope; the result goes to your report inbox"
            " and you are notified.",
        ),
        RunNow,
        _run_now,
        REPORT_WRITE,
        group=GROUP,
        fields={"report_id": Label("报表编号", "Report ID")},
    ),
)
