"""REST API of the organisation: employees, teams, the manager tree, leave and bulk load."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Router, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import UNSET, Meta, UnsetType

from bankcrm.kernel_plugin import EMPLOYEE_MANAGE, EMPLOYEE_READ
from bankcrm.organisation import loading, service
from bankcrm.web.guards import require_actor, require_permission
from bankcrm.web.pagination import Page, check_limit, decode_cursor, encode_cursor
from bankcrm.web.problems import invalid, not_found
from bankcrm.web.upload import receive

Code = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^\S(.*\S)?$")]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
NameEn = Annotated[str, Meta(max_length=100)]
Short = Annotated[str, Meta(max_length=100)]
Skill = Annotated[str, Meta(min_length=1, max_length=64)]
Skills = Annotated[list[Skill], Meta(max_length=service.MAX_SKILLS)]
Language = Annotated[str, Meta(min_length=2, max_length=16)]
Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Capacity = Annotated[int, Meta(ge=0, le=100_000)]
Email = Annotated[str, Meta(max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, Meta(max_length=32, pattern=r"^[0-9+\-() ]*$")]


class EmployeeIn(msgspec.Struct, forbid_unknown_fields=True):
    branch_id: Id
    employee_no: Code
    name: Name
    name_en: NameEn = ""
    user_id: Id | None = None
    position: Short = ""
    team_id: Id | None = None
    manager_id: Id | None = None
    products: Skills = []
    segments: Skills = []
    languages: Annotated[list[Language], Meta(max_length=16)] = []
    territories: Skills = []
    capacity: Capacity = 0
    email: Email = ""
    phone: Phone = ""
    active: bool = True


class EmployeePatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the given fields change; ``null`` clears a team, manager or user link."""

    branch_id: Id | UnsetType = UNSET
    employee_no: Code | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    name_en: NameEn | UnsetType = UNSET
    user_id: Id | UnsetType | None = UNSET
    position: Short | UnsetType = UNSET
    team_id: Id | UnsetType | None = UNSET
    manager_id: Id | UnsetType | None = UNSET
    products: Skills | UnsetType = UNSET
    segments: Skills | UnsetType = UNSET
    languages: Annotated[list[Language], Meta(max_length=16)] | UnsetType = UNSET
    territories: Skills | UnsetType = UNSET
    capacity: Capacity | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class EmployeeOut(msgspec.Struct):
    id: int
    branch_id: int
    employee_no: str
    name: str
    name_en: str
    user_id: int | None
    position: str
    team_id: int | None
    manager_id: int | None
    products: list[str]
    segments: list[str]
    languages: list[str]
    territories: list[str]
    capacity: int
    email: str
    phone: str
    active: bool
    on_leave: bool
    """On leave today."""


class ReportOut(msgspec.Struct):
    depth: int
    """1: reports directly; 2: to one of those; …"""
    employee: EmployeeOut


class ReportingOut(msgspec.Struct):
    manager: EmployeeOut
    reports: list[ReportOut]


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    branch_id: Id
    code: Code
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    name_en: Annotated[str, Meta(max_length=200)] = ""


class LeaveIn(msgspec.Struct, forbid_unknown_fields=True):
    starts: date
    ends: date
    reason: Annotated[str, Meta(max_length=200)] = ""


class LeaveOut(msgspec.Struct):
    id: int
    employee_id: int
    starts: date
    ends: date
    reason: str


def _out(employee: service.Employee) -> EmployeeOut:
    values: dict[str, Any] = {
        name: list(value) if name in service.SKILL_FIELDS else value
        for name, value in vars(employee).items()
    }
    return msgspec.convert(values, EmployeeOut)


async def _visible(employee_id: int) -> service.Employee:
    employee = await service.get_employee(employee_id)
    if employee is None:
        raise not_found(f"employee {employee_id}")
    return employee


READ = {"permission": EMPLOYEE_READ}
MANAGE = {"permission": EMPLOYEE_MANAGE}


@get("/employees", opt=READ, tags=["organisation"])
async def list_employees(
    branch_id: Annotated[int | None, QueryParameter(ge=1)] = None,
    team_id: Annotated[int | None, QueryParameter(ge=1)] = None,
    q: Annotated[str | None, QueryParameter(min_length=1, max_length=100)] = None,
    active: FromQuery[bool | None] = None,
    limit: FromQuery[int] = 50,
    cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
) -> Page[EmployeeOut]:
    """Employees of your branches (by id); ``q`` matches number and names."""
    check_limit(limit)
    after = decode_cursor(cursor, (int,))
    found = await service.list_employees(
        branch_id=branch_id,
        team_id=team_id,
        query=q,
        active=active,
        after_id=after[0] if after else None,
        limit=limit + 1,
    )
    items = [_out(e) for e in found[:limit]]
    return Page(items, encode_cursor([items[-1].id]) if len(found) > limit else None)


@post("/employees", opt=MANAGE, tags=["organisation"])
async def create_employee(data: JSONBody[EmployeeIn]) -> EmployeeOut:
    fields = msgspec.structs.asdict(data)
    for name in service.SKILL_FIELDS:
        fields[name] = tuple(fields[name])
    return _out(await service.create_employee(service.EmployeeFields(**fields)))


@get("/employees/{employee_id:int}", opt=READ, tags=["organisation"])
async def get_employee(employee_id: FromPath[int]) -> EmployeeOut:
    return _out(await _visible(employee_id))


@patch("/employees/{employee_id:int}", opt=MANAGE, tags=["organisation"])
async def update_employee(employee_id: FromPath[int], data: JSONBody[EmployeePatch]) -> EmployeeOut:
    changes = {
        name: value for name, value in msgspec.structs.asdict(data).items() if value is not UNSET
    }
    return _out(await service.update_employee(employee_id, changes))


@get("/employees/{employee_id:int}/manager", opt=READ, tags=["organisation"])
async def get_manager(employee_id: FromPath[int]) -> EmployeeOut | None:
    """The direct manager; null when there is none (or they are outside your branches)."""
    await _visible(employee_id)
    manager = await service.manager_of(employee_id)
    return None if manager is None else _out(manager)


@get("/employees/{employee_id:int}/reports", opt=READ, tags=["organisation"])
async def get_reports(employee_id: FromPath[int]) -> ReportingOut:
    """Everyone under the employee, directly or not, nearest first."""
    reporting = await service.everyone_under(employee_id)
    if reporting is None:
        raise not_found(f"employee {employee_id}")
    return ReportingOut(
        _out(reporting.manager), [ReportOut(depth, _out(e)) for depth, e in reporting.reports]
    )


@get("/employees/{employee_id:int}/leave", opt=READ, tags=["organisation"])
async def list_leave(employee_id: FromPath[int]) -> list[LeaveOut]:
    await _visible(employee_id)
    return [
        LeaveOut(x.id, x.employee_id, x.starts, x.ends, x.reason)
        for x in await service.list_leave(employee_id)
    ]


@post("/employees/{employee_id:int}/leave", opt=MANAGE, tags=["organisation"])
async def add_leave(employee_id: FromPath[int], data: JSONBody[LeaveIn]) -> LeaveOut:
    leave = await service.add_leave(employee_id, data.starts, data.ends, data.reason)
    return LeaveOut(leave.id, leave.employee_id, leave.starts, leave.ends, leave.reason)


@delete(
    "/employees/{employee_id:int}/leave/{leave_id:int}",
    opt=MANAGE,
    tags=["organisation"],
    status_code=204,
)
async def remove_leave(employee_id: FromPath[int], leave_id: FromPath[int]) -> None:
    await service.remove_leave(employee_id, leave_id)


@get("/teams", opt=READ, tags=["organisation"])
async def list_teams(
    branch_id: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> list[service.Team]:
    return await service.list_teams(branch_id)


@get("/teams/{team_id:int}", opt=READ, tags=["organisation"])
async def get_team(team_id: FromPath[int]) -> service.Team:
    return await service.get_team(team_id)


@post("/teams", opt=MANAGE, tags=["organisation"])
async def create_team(data: JSONBody[TeamIn]) -> service.Team:
    return await service.create_team(data.branch_id, data.code, data.name, data.name_en)


class EmployeeLoadForm(msgspec.Struct):
    """The parts of an employee load (``multipart/form-data``), for the API description."""

    file: Annotated[bytes, Meta(description="The CSV or xlsx of employees.")]
    mode: Annotated[
        Literal["preview", "commit"],
        Meta(description="preview checks every row; commit writes all rows or none."),
    ] = "preview"


@post(
    "/employees/load",
    opt={**MANAGE, "body": "multipart", "form": EmployeeLoadForm},
    tags=["organisation"],
    status_code=200,
)
async def load_employees(request: Request[Any, Any, Any]) -> loading.LoadReport:
    """Upload a CSV or xlsx of employees (form part ``file``; field ``mode`` = ``preview``
    (default) or ``commit``). Every row is checked first; a commit writes all rows or,
    when any row has an error, none (422 with the same report)."""
    upload = await receive(request.headers.get("content-type", ""), request.stream())
    try:
        mode = upload.fields.get("mode", "preview")
        if mode not in ("preview", "commit"):
            raise invalid("body.mode", "must be preview or commit")
        return await loading.load_file(upload.path, upload.file_name, commit=mode == "commit")
    finally:
        upload.discard()


def organisation_router() -> Router:
    return Router(
        path="/api/v1",
        route_handlers=[
            list_employees,
            create_employee,
            get_employee,
            update_employee,
            get_manager,
            get_reports,
            list_leave,
            add_leave,
            remove_leave,
            list_teams,
            get_team,
            create_team,
            load_employees,
        ],
        guards=[require_actor, require_permission],
    )
