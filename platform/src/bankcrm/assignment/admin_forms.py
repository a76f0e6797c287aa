"""The admin's reassign form: give a work item to someone else by hand, with a reason,
through the same service and audit as ``POST /api/v1/assignment/reassign``. Staff know
their colleagues by employee number, not by database id."""

from __future__ import annotations

import pydantic

from bankcrm.assignment import service
from bankcrm.organisation.service import list_employees
from bankcrm.plugin_api import AdminForm, Label
from bankcrm.web.problems import invalid


class ReassignForm(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    work_kind: str = pydantic.Field(min_length=1, max_length=64)
    item_id: str = pydantic.Field(min_length=1, max_length=64)
    employee_no: str = pydantic.Field(min_length=1, max_length=32)
    reason: str = pydantic.Field(min_length=1, max_length=500)


async def _reassign(data: ReassignForm) -> str:
    found = [
        e
        for e in await list_employees(query=data.employee_no, active=True, limit=20)
        if e.employee_no == data.employee_no
    ]
    if not found:
        raise invalid("body.employee_no", "no active employee in your scope has this number")
    kind = service.kind_of(data.work_kind)
    done = await service.reassign(kind.name, data.item_id, found[0].id, data.reason)
    return (
        f"{kind.title.zh} {done.item_id} 已改派给 {found[0].name}（{found[0].employee_no}）"
        f" / reassigned to {found[0].name}"
    )


def reassign_form(permission: str) -> AdminForm:
    return AdminForm(
        "reassign-work",
        Label("改派工作", "Reassign work"),
        Label(
            "把一项已分配的工作（线索、工单……）交给本机构或上下级机构的另一名员工；原因记入审计。",
            "Give an assigned work item (a lead, a ticket …) to another employee of the branch,"
            " above or below it; the reason goes to the audit trail.",
        ),
        ReassignForm,
        _reassign,
        permission,
        group=Label("分配", "Assignment"),
        fields={
            "work_kind": Label("工作类型（代码）", "Kind of work (code)"),
            "item_id": Label("工作编号", "Item number"),
            "employee_no": Label("接手员工工号", "Employee number of the new owner"),
            "reason": Label("改派原因", "Reason"),
        },
    )
