"""Declaring admin forms: what cannot be served is refused at boot, naming the plugin."""

from __future__ import annotations

import pydantic
import pytest

from bankcrm.admin.forms import FormDeclarationError, collect_forms, schema
from bankcrm.plugin_api import AdminForm, Label


class Approval(pydantic.BaseModel):
    request_id: int
    comment: str = ""


async def approve(data: Approval) -> str:
    return "ok"


def form(
    slug: str = "approve", permission: str = "demo.request.approve", **fields: Label
) -> AdminForm:
    labels = fields or {
        "request_id": Label("申请编号", "Request"),
        "comment": Label("意见", "Comment"),
    }
    return AdminForm(
        slug, Label("审批", "Approve"), Label("审批申请", "Approve a request"), Approval, approve,
        permission, group=Label("演示", "Demo"), fields=labels,
    )  # fmt: skip


PERMISSIONS = {"demo.request.approve"}


def test_forms_are_collected_with_their_plugin_and_labelled_schema() -> None:
    collected = collect_forms([("demo", [form()]), ("other", None)], PERMISSIONS)
    assert [(f.plugin, f.form.slug) for f in collected] == [("demo", "approve")]
    answer = schema(collected[0].form, "zh-CN")
    assert answer["title"] == "审批"
    assert answer["properties"]["request_id"]["title"] == "申请编号"
    assert schema(collected[0].form, "en")["properties"]["comment"]["title"] == "Comment"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            [("demo", [form()]), ("other", [form()])],
            "other: admin form 'approve': the slug is taken by demo",
        ),
        ([("demo", [form(permission="demo.nothing")])], "'demo.nothing' is not declared"),
        ([("demo", [form(request_id=Label("编号", "No."))])], "without a label: ['comment']"),
        (
            [
                (
                    "demo",
                    [form(request_id=Label("a", "a"), comment=Label("b", "b"), x=Label("c", "c"))],
                )
            ],
            "labels of fields it has not: ['x']",
        ),
    ],
)
def test_forms_that_cannot_be_served_are_refused(
    answers: list[tuple[str, list[AdminForm]]], message: str
) -> None:
    with pytest.raises(FormDeclarationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        collect_forms(answers, PERMISSIONS)
