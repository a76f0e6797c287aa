"""The customer archive's customers as a data source of saved reports.

Reporting requires the archive, so it contributes this source itself, through the
archive's public facade only: the base condition (live customers) is the archive's own
``filter_conditions``, and the rows are read under the caller's scope, so row-level
security (and the archive's access rules) decide which customers are counted. No
dimension holds personal data: a report counts customers, it never lists them.
"""

from __future__ import annotations

from typing import Any

from bankcrm_customer_archive import services as archive
from bankcrm_reporting.sources import DataSource, Dimension, Measure, sql_source

CUSTOMER_READ = "customer_archive.customer.read"
LOCAL = "Asia/Shanghai"


async def live_customers() -> tuple[str, list[Any]]:
    return await archive.filter_conditions(archive.CustomerFilter())


def _code(name: str, title: str, title_en: str) -> Dimension:
    return Dimension(name, title, title_en, f"c.{name}", "code", ("customer_archive", name))


CUSTOMERS: DataSource = sql_source(
    name="customer_archive.customers",
    title="客户档案：客户",
    title_en="Customer archive: customers",
    description="在档客户（不含已归并、已删除），按机构、类型、分层等分组计数或汇总资产规模。",
    permission=CUSTOMER_READ,
    from_sql="customer_archive_customer c",
    where=live_customers,
    dimensions=(
        Dimension("branch", "所属机构", "Branch", "c.branch_id", "branch"),
        _code("kind", "客户类型", "Kind"),
        _code("value_tier", "价值分层", "Value tier"),
        _code("status", "客户状态", "Status"),
        _code("gender", "性别", "Gender"),
        _code("risk_tolerance", "风险承受能力", "Risk tolerance"),
        Dimension("credit_grade", "信用等级", "Credit grade", "c.credit_grade", "text"),
        Dimension(
            "relationship_manager",
            "客户经理",
            "Relationship manager",
            "c.relationship_manager",
            "user",
        ),
        Dimension(
            "created_month",
            "建档月份",
            "Month created",
            f"date_trunc('month', c.created_at AT TIME ZONE '{LOCAL}')::date",
            "month",
        ),
        Dimension(
            "created_on",
            "建档日期",
            "Day created",
            f"(c.created_at AT TIME ZONE '{LOCAL}')::date",
            "date",
        ),
    ),
    measures=(
        Measure("customers", "客户数", "Customers", "c.id", ("count",)),
        Measure(
            "aum", "资产规模", "AUM", "c.aum_cents / 100.0", ("sum", "avg", "min", "max"), "元"
        ),
    ),
    time_dimension="created_on",
)

SOURCES: tuple[DataSource, ...] = (CUSTOMERS,)
