"""Loading employees from a CSV or xlsx file: every row checked, then all written or none.

The file goes through the kernel's checked reader (:mod:`bankcrm.tabular`: encoding,
zip bombs, formulas, size bounds, parsed in a limited child process) like every import.
Headers are recognised in Chinese and English; a problem names the row (as numbered in
the file) and the column. A preview writes nothing; a commit writes every row in one
transaction — new employee numbers are created, known ones updated — and sets managers
after every row exists, so a file may name managers it also creates, in any order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import msgspec

from bankcrm import branches, db, staff, tabular
from bankcrm.context import require_scope
from bankcrm.organisation import service
from bankcrm.web.problems import FieldError, Problem

HEADERS = {
    "employee_no": ("employee_no", "employee number", "工号", "员工编号", "员工号", "柜员号"),
    "name": ("name", "姓名", "员工姓名", "名字"),
    "name_en": ("name_en", "english name", "英文名", "英文姓名"),
    "branch": ("branch", "branch_code", "机构代码", "所属机构", "机构", "网点代码", "所属网点"),
    "team": ("team", "团队", "小组", "所属团队"),
    "manager": ("manager", "manager_no", "上级工号", "直属上级", "上级", "直属上级工号"),
    "username": ("username", "user", "用户名", "登录名", "系统账号"),
    "position": ("position", "title", "职位", "岗位"),
    "products": ("products", "产品", "擅长产品", "产品专长"),
    "segments": ("segments", "客群", "客户分层", "服务客群"),
    "languages": ("languages", "语言", "工作语言"),
    "territories": ("territories", "territory", "片区", "区域", "负责区域"),
    "capacity": ("capacity", "容量", "最大任务数", "承载量"),
    "email": ("email", "邮箱", "电子邮箱"),
    "phone": ("phone", "mobile", "电话", "手机", "手机号"),
    "active": ("active", "在职", "在职状态", "状态"),
}
REQUIRED = ("employee_no", "name", "branch")
_LIST_SEPARATORS = re.compile(r"[,，、;；|/]")
_TRUE = {"1", "true", "yes", "y", "是", "在职", "在岗"}
_FALSE = {"0", "false", "no", "n", "否", "离职", "停用"}


class RowError(msgspec.Struct):
    row: int
    """The row's number in the file (the header is row 1)."""
    column: str
    message: str


class LoadReport(msgspec.Struct):
    rows: int
    created: int
    updated: int
    committed: bool
    errors: list[RowError]
    unknown_columns: list[str]
    """Headers that were not recognised (ignored)."""
    teams_created: list[str] = []


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    fields: dict[str, Any] = field(default_factory=dict)
    employee_id: int | None = None
    manager_no: str = ""


def _field_for(header: str) -> str | None:
    wanted = header.strip().lower()
    for name, synonyms in HEADERS.items():
        if wanted in synonyms:
            return name
    return None


def _read(path: Path, file_name: str) -> tuple[list[_Row], list[str], dict[str, str]]:
    records = tabular.read_records(
        path, file_name, _field_for, REQUIRED, lambda f: f"{f} ({HEADERS[f][2]})"
    )
    rows = [_Row(line, values) for line, values in records.rows]
    return rows, records.unknown, records.header_of


def _skills(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in _LIST_SEPARATORS.split(text) if p.strip()))


async def _resolve(rows: list[_Row], header_of: dict[str, str]) -> list[RowError]:
    """Fill each row's fields; every problem found, by row and column."""
    errors: list[RowError] = []
    scope = require_scope()
    tree = await branches.snapshot()

    def error(row: _Row, name: str, message: str) -> None:
        errors.append(RowError(row.line, header_of.get(name, name), message))

    seen: dict[str, int] = {}
    in_file = {r.values["employee_no"] for r in rows}
    usernames = {r.values.get("username", "") for r in rows} - {""}
    users = {
        r["username"]: r["id"]
        for r in await db.fetch(
            "SELECT id, username FROM piccolo_user WHERE username = ANY($1::text[])",
            sorted(usernames),
        )
    }
    numbers = sorted(
        {r.values["employee_no"] for r in rows} | {r.values.get("manager", "") for r in rows}
    )
    visible = {
        r["employee_no"]: (r["id"], r["branch_id"])
        for r in await db.fetch(
            "SELECT id, employee_no, branch_id FROM bankcrm_employee"
            " WHERE employee_no = ANY($1::text[])",
            numbers,
        )
    }
    for row in rows:
        values = row.values
        number = values["employee_no"]
        if not number:
            error(row, "employee_no", "required")
        elif len(number) > 32:
            error(row, "employee_no", "at most 32 characters")
        elif number in seen:
            error(row, "employee_no", f"{number!r} is also on row {seen[number]}")
        else:
            seen[number] = row.line
        if not values["name"]:
            error(row, "name", "required")
        branch_id = tree.by_code.get(values["branch"])
        if branch_id is None:
            error(row, "branch", f"no branch with code {values['branch']!r}")
        elif branch_id not in scope.branch_ids:
            error(row, "branch", f"branch {values['branch']!r} is not one of your branches")
        capacity = 0
        if values.get("capacity"):
            try:
                capacity = int(values["capacity"])
                if capacity < 0:
                    raise ValueError
            except ValueError:
                error(row, "capacity", f"{values['capacity']!r} is not a whole number ≥ 0")
        active = True
        if values.get("active"):
            flag = values["active"].strip().lower()
            if flag not in _TRUE | _FALSE:
                error(row, "active", f"{values['active']!r}: use 在职/离职 or true/false")
            active = flag in _TRUE
        user_id = None
        if values.get("username"):
            user_id = users.get(values["username"])
            if user_id is None:
                error(row, "username", f"no user {values['username']!r}")
            elif branch_id is not None:
                reason = await staff.reference_problem(user_id, branch_id)
                if reason is not None:
                    error(row, "username", reason)
        if number in visible and branch_id is not None:
            row.employee_id = visible[number][0]
        row.manager_no = values.get("manager", "")
        if row.manager_no and row.manager_no == number:
            error(row, "manager", "an employee cannot be their own manager")
        elif row.manager_no and row.manager_no not in visible and row.manager_no not in in_file:
            error(row, "manager", f"no employee {row.manager_no!r} in the file or your branches")
        row.fields = {
            "branch_id": branch_id or 0,
            "employee_no": number,
            "name": values["name"],
            "name_en": values.get("name_en", ""),
            "user_id": user_id,
            "position": values.get("position", ""),
            "products": _skills(values.get("products", "")),
            "segments": _skills(values.get("segments", "")),
            "languages": _skills(values.get("languages", "")),
            "territories": _skills(values.get("territories", "")),
            "capacity": capacity,
            "email": values.get("email", ""),
            "phone": values.get("phone", ""),
            "active": active,
        }
        for name in ("name", "name_en", "position"):
            if len(row.fields[name]) > 100:
                error(row, name, "at most 100 characters")
    errors.extend(_cycles(rows, header_of))
    return errors


def _cycles(rows: list[_Row], header_of: dict[str, str]) -> list[RowError]:
    manager = {r.values["employee_no"]: r.manager_no for r in rows if r.manager_no}
    line = {r.values["employee_no"]: r.line for r in rows}
    found = []
    for start in manager:
        walked = {start}
        current = manager.get(start)
        while current in manager:
            if current == start:
                found.append(
                    RowError(
                        line[start],
                        header_of.get("manager", "manager"),
                        "the managers named in the file form a cycle",
                    )
                )
                break
            if current in walked:
                break
            walked.add(current)
            current = manager.get(current)
    return found


async def load_file(path: Path, file_name: str, *, commit: bool) -> LoadReport:
    rows, unknown, header_of = _read(path, file_name)
    errors = await _resolve(rows, header_of)
    creating = sum(1 for r in rows if r.employee_id is None)
    report = LoadReport(len(rows), creating, len(rows) - creating, False, errors, unknown)
    if errors:
        report.errors.sort(key=lambda e: (e.row, e.column))
        if commit:
            first = report.errors[0]
            raise Problem(
                422,
                f"{len(errors)} problem(s), nothing was loaded; first: row {first.row},"
                f" column {first.column}: {first.message}",
                # The rows are in the uploaded file: the field is its part, the message says
                # where inside it.
                [
                    FieldError("body.file", f"row {e.row}, column {e.column}: {e.message}")
                    for e in errors
                ],
                "load_refused",
            )
        return report
    if not commit:
        return report
    async with db.transaction():
        report.teams_created = await _write(rows, header_of)
    report.committed = True
    return report


async def _write(rows: list[_Row], header_of: dict[str, str]) -> list[str]:
    teams = {(t.branch_id, t.code): t.id for t in await service.list_teams()}
    teams.update({(t.branch_id, t.name): t.id for t in await service.list_teams()})
    created_teams = []
    ids: dict[str, int] = {}
    for row in rows:
        team_name = row.values.get("team", "")
        team_id = None
        if team_name:
            key = (row.fields["branch_id"], team_name)
            if key not in teams:
                team = await service.create_team(key[0], team_name[:32], team_name)
                teams[key] = team.id
                created_teams.append(team_name)
            team_id = teams[key]
        values = {**row.fields, "team_id": team_id}
        try:
            if row.employee_id is None:
                employee = await service.create_employee(service.EmployeeFields(**values))
            else:
                keep = {f.name for f in fields(service.EmployeeFields)} - {"manager_id"}
                employee = await service.update_employee(
                    row.employee_id, {k: v for k, v in values.items() if k in keep}
                )
        except Problem as exc:
            raise _row_problem(row, exc, header_of) from exc
        ids[row.fields["employee_no"]] = employee.id
    managers = {
        r["employee_no"]: r["id"]
        for r in await db.fetch(
            "SELECT id, employee_no FROM bankcrm_employee WHERE employee_no = ANY($1::text[])",
            sorted({r.manager_no for r in rows if r.manager_no}),
        )
    }
    for row in rows:
        if row.manager_no:
            try:
                await service.update_employee(
                    ids[row.fields["employee_no"]], {"manager_id": managers[row.manager_no]}
                )
            except Problem as exc:
                raise _row_problem(row, exc, header_of, "manager") from exc
    return created_teams


def _row_problem(row: _Row, exc: Problem, header_of: dict[str, str], column: str = "") -> Problem:
    field_name = column or (exc.errors[0].field.removeprefix("body.") if exc.errors else "")
    header = header_of.get(field_name, field_name)
    return Problem(
        exc.status,
        f"row {row.line}, column {header}: {exc.detail}; nothing was loaded",
        code=exc.code or "invalid",
    )


__all__ = ["HEADERS", "LoadReport", "RowError", "load_file"]
