"""Chinese for the messages staff read: validation problems, refusals and import errors.

Messages are written once, in English, where they arise (they are also what integrators
and logs read). A staff member's browser asks for Chinese (``Accept-Language: zh…``, or
the workbench's language choice in the ``bankcrm_lang`` cookie), and :func:`translate`
renders a message from the catalogue: exact texts and patterns of the kernel's and the
validation library's messages, plus those plugins contribute
(``register_message_translations``). A message without a translation stays English:
never blank, never wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

LANGUAGE_COOKIE = "bankcrm_lang"

CATALOGUE: list[tuple[str, str]] = [
    # The validation library (msgspec) and the web framework.
    (r"Object missing required field `(?P<f>[^`]+)`", "缺少必填字段 {f}"),
    (r"Object contains unknown field `(?P<f>[^`]+)`", "不认识的字段 {f}"),
    (r"Expected `(?P<t>[^`]+)`, got `(?P<g>[^`]+)`", "应为 {t} 类型，收到的是 {g}"),
    (r"Expected `str` of length >= (?P<n>\d+)", "至少 {n} 个字符"),
    (r"Expected `str` of length <= (?P<n>\d+)", "最多 {n} 个字符"),
    (r"Expected `array` of length <= (?P<n>\d+)", "最多 {n} 项"),
    (r"Expected `array` of length >= (?P<n>\d+)", "至少 {n} 项"),
    (r"Expected `(int|float|decimal)` >= (?P<n>[-\d.]+)", "不能小于 {n}"),
    (r"Expected `(int|float|decimal)` <= (?P<n>[-\d.]+)", "不能大于 {n}"),
    (r"Expected `str` matching regex .*", "格式不正确"),
    (r"Invalid enum value (?P<v>.+)", "不是可选的值：{v}"),
    (r"Invalid ISO 8601 date", "日期格式不正确（应为 YYYY-MM-DD）"),
    (r"Invalid RFC 3339 encoded datetime", "时间格式不正确"),
    (r"Missing required (query|header|cookie|path) parameter '(?P<p>[^']+)'.*", "缺少参数 {p}"),
    # The kernel's own.
    (r"required", "必填"),
    (r"(?P<w>.+) does not exist or is not visible to you", "{w} 不存在，或您无权查看"),
    (r"you lack the permission '(?P<p>[^']+)'", "您没有权限 {p}"),
    (r"log in, or send a valid API token", "请先登录"),
    (r"already taken", "已被占用"),
    (r"already exists", "已存在"),
    (r"given twice", "重复填写"),
    (r"not a cursor returned by this API", "分页标记无效"),
    (r"must be between (?P<a>\S+) and (?P<b>\S+)", "应在 {a} 到 {b} 之间"),
    (r"cannot be below zero", "不能小于零"),
    (r"must be on or after starts", "结束日期不能早于开始日期"),
    (r"overlaps existing leave", "与已登记的请假重叠"),
    (r"would make a cycle of managers", "会使上级关系形成循环"),
    (r"say why the work changes hands", "请填写改派原因"),
    (r"state why you need the clear values", "请说明查看明文的原因"),
    (r"the branch is outside your scope", "该机构不在您的权限范围内"),
    (r"branch (?P<b>\d+) is not one of your branches", "机构 {b} 不在您的权限范围内"),
    (r"no active user has this id", "没有这个在用的用户"),
    (
        r"this person works in none of the branches that cover this record's branch",
        "此人不在覆盖该记录所属机构的任何机构工作",
    ),
    (
        r"this person works in none of the branches that cover this record's branch"
        r" \((?P<p>.+)\)",
        "此人（{p}）不在覆盖该记录所属机构的任何机构工作",
    ),
    (
        r"no employee or user has this name, employee number or username",
        "没有这个姓名、工号或用户名的员工",
    ),
    (
        r"(?P<n>\d+) people who may manage this branch have this name: (?P<c>.+)",
        "可管理该机构的员工中有 {n} 人同名：{c}",
    ),
    (r"write the employee number instead", "请改填工号"),
    (
        r"(?P<p>.+) has no staff login, so cannot be named here",
        "{p} 没有系统登录账号，不能在此指定",
    ),
    (r"(?P<p>.+) is no longer active", "{p} 已离职或停用"),
    (
        r"(?P<k>\S+) is (?P<p>.+), not the name written beside it",
        "{k} 是 {p}，与旁边填写的姓名不符",
    ),
    (r"the file is empty", "文件是空的"),
    (
        r"too many wrong passwords: the account is locked until (?P<t>.+) Beijing time \(UTC\+8\)",
        "密码错误次数过多，账户已锁定至北京时间 {t}",
    ),
    (r"too large", "太大"),
    (r"rows refer to this record", "有其他记录引用了它"),
    (r"rows of (?P<table>\S+) refer to this record", "{table} 中有记录引用了它"),
    (
        r"(?P<n>\d+) problem\(s\), nothing was loaded; first: (?P<r>.+)",
        "共 {n} 处问题，未导入任何数据；第一处：{r}",
    ),
    (r"row (?P<r>\d+), column (?P<c>[^:]+)", "第 {r} 行，{c} 列"),
]

_compiled: list[tuple[re.Pattern[str], str]] = []
_FIELD_PREFIX = re.compile(
    r"^(?P<field>/?(?:body|query|path|header|cookie)[\w./\[\]~-]*): (?P<rest>.+)$"
)


def install(extra: Iterable[tuple[str, str]] = ()) -> None:
    """The kernel's catalogue and the plugins' entries (boot time)."""
    _compiled.clear()
    for pattern, template in [*extra, *CATALOGUE]:
        _compiled.append((re.compile(pattern), template))


def translate(text: str, language: str) -> str:
    """``text`` in ``language`` (``zh`` or ``en``); unknown texts are returned as they are."""
    if language != "zh" or not text:
        return text
    if not _compiled:
        install()
    prefixed = _FIELD_PREFIX.match(text)
    if prefixed:
        return f"{prefixed['field']}：{translate(prefixed['rest'], language)}"
    if "; " in text:
        return "；".join(translate(part, language) for part in text.split("; "))
    for pattern, template in _compiled:
        found = pattern.fullmatch(text)
        if found:
            return template.format(**{k: v for k, v in found.groupdict().items() if v})
    return text


def language_of(headers: Mapping[str, str], cookies: Mapping[str, str]) -> str:
    """The language a request wants its messages in: the workbench's choice, else the
    browser's ``Accept-Language``; English for API clients that ask for nothing."""
    chosen = cookies.get(LANGUAGE_COOKIE)
    if chosen in ("zh", "en"):
        return chosen
    accepted = headers.get("accept-language", "").lower()
    first = accepted.split(",")[0].strip()
    return "zh" if first.startswith("zh") else "en"


def collect(answers: Iterable[tuple[str, Any]]) -> list[tuple[str, str]]:
    """The ``register_message_translations`` answers as catalogue entries."""
    found: list[tuple[str, str]] = []
    for _, entries in answers:
        for entry in entries or ():
            pattern, template = entry
            found.append((str(pattern), str(template)))
    return found


__all__ = ["CATALOGUE", "LANGUAGE_COOKIE", "collect", "install", "language_of", "translate"]
