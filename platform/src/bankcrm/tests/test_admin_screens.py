"""Screen checks and the value comparison behind read-only columns (no database)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from piccolo.columns import Varchar
from piccolo.table import Table

from bankcrm.admin.hooks import same_value
from bankcrm.admin.screens import ScreenError, check_screen, collect_screens
from bankcrm.context import Scope
from bankcrm.plugin_api import AdminScreen, Label
from bankcrm.tables import AuditLog, branch_column


class Thing(Table, tablename="widgets_thing"):
    name = Varchar(length=50)
    phone = Varchar(length=20)
    branch_id = branch_column()


class Unscoped(Table, tablename="widgets_unscoped"):
    name = Varchar(length=50)


def screen(table: type[Table] = Thing, **kwargs: object) -> AdminScreen:
    return AdminScreen(
        table=table, title=Label("物件", "Things"), permission="widgets.thing.read", **kwargs
    )  # type: ignore[arg-type]


def test_a_plugin_cannot_put_another_apps_table_on_screen() -> None:
    with pytest.raises(ScreenError, match="belongs to 'bankcrm'"):
        check_screen("widgets", screen(AuditLog))


@pytest.mark.parametrize(
    "field",
    [
        "columns",
        "masked_columns",
        "read_only_columns",
        "visible_columns",
        "visible_filters",
        "hidden_columns",
    ],
)
def test_unknown_columns_are_refused(field: str) -> None:
    value: object = {"nmae": Label("名", "Name")} if field == "columns" else ("nmae",)
    with pytest.raises(ScreenError, match="nmae"):
        check_screen("widgets", screen(**{field: value}))


def test_hidden_columns_and_creation_reach_the_gate() -> None:
    spec = check_screen("widgets", screen(hidden_columns=("phone",), allow_create=False))
    assert spec.hidden_columns == {"phone"}
    assert "phone" in spec.protected_columns
    assert not spec.creatable
    with pytest.raises(ScreenError, match="primary key"):
        check_screen("widgets", screen(hidden_columns=("id",)))


def test_a_row_page_is_one_of_the_plugins_pages_with_the_rows_id() -> None:
    title = Label("详情", "Details")
    page = "/app/widgets/things/{id}"
    assert check_screen("widgets", screen(row_page=page, row_page_title=title))
    for bad, named in [
        ("https://evil.example/{id}", title),
        ("/app/other/things/{id}", title),
        ("/app/widgets/things", title),
        (page, None),
    ]:
        with pytest.raises(ScreenError, match="row_page"):
            check_screen("widgets", screen(row_page=bad, row_page_title=named))


def test_tables_neither_scoped_nor_global_are_refused() -> None:
    with pytest.raises(ScreenError, match="branch_id"):
        check_screen("widgets", screen(Unscoped))


def test_bad_and_duplicate_screens_are_left_out_with_a_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        specs = collect_screens(
            [
                ("widgets", [screen(masked_columns=("phone",)), screen(AuditLog)]),
                ("gadgets", [screen()]),
            ]
        )
    ours = [s for s in specs if s.plugin != "bankcrm"]
    assert [(s.plugin, s.tablename) for s in ours] == [("widgets", "widgets_thing")]
    assert ours[0].scoped
    assert ours[0].entity == "widgets.thing"
    assert ours[0].protected_columns == {"phone"}
    assert "belongs to 'bankcrm'" in caplog.text
    assert "already shown by widgets" in caplog.text
    assert {s.tablename for s in specs if s.plugin == "bankcrm"} >= {
        "bankcrm_branch",
        "bankcrm_audit",
        "piccolo_user",
        "bankcrm_api_client",
    }


def test_read_screens_are_written_with_the_write_permission() -> None:
    spec = check_screen("widgets", screen())
    assert spec.write_permission == "widgets.thing.write"
    reader = Scope("user:1", frozenset({1}), frozenset({"widgets.thing.read"}), user_id=1)
    writer = Scope(
        "user:2",
        frozenset({1}),
        frozenset({"widgets.thing.read", "widgets.thing.write"}),
        user_id=2,
    )
    nobody = Scope("user:3", frozenset({1}), frozenset({"widgets.thing.write"}), user_id=3)
    assert (spec.may_read(reader), spec.may_write(reader)) == (True, False)
    assert (spec.may_read(writer), spec.may_write(writer)) == (True, True)
    assert (spec.may_read(nobody), spec.may_write(nobody)) == (False, False)
    managed = check_screen("widgets", AdminScreen(Thing, Label("物件", "Things"), "widgets.manage"))
    assert managed.write_permission == "widgets.manage"


def test_superuser_only_screens_ignore_role_permissions() -> None:
    audit, users = (
        next(s for s in collect_screens([]) if s.tablename == name)
        for name in ("bankcrm_audit", "piccolo_user")
    )
    auditor = Scope(
        "user:1",
        frozenset({1}),
        frozenset({"bankcrm.audit.read", "bankcrm.user.manage"}),
        user_id=1,
    )
    assert audit.may_read(auditor)
    assert not audit.may_write(auditor)
    assert not users.may_read(auditor)
    root = Scope("user:2", frozenset({1}), user_id=2, is_superuser=True)
    assert users.may_write(root)
    assert not audit.may_write(root)


def test_form_values_compare_with_stored_ones() -> None:
    now = datetime(2026, 11, 24, 10, 30, 15, 123456, tzinfo=UTC)
    assert same_value(now.replace(microsecond=123000), now)
    assert same_value(now.replace(tzinfo=None), now)
    assert not same_value(now - timedelta(minutes=1), now)
    assert same_value(5, Decimal("5.00"))
    assert not same_value(True, 1)
    assert same_value(["a", "b"], ["a", "b"])
    assert not same_value(["a"], ["a", "b"])
    assert same_value({"x": 1}, '{"x": 1}')
    assert same_value('{"x":1}', '{"x": 1}')
    assert same_value(None, None)
    assert not same_value("", None)
    assert same_value("1", 1)


def test_technical_screens_are_for_superusers_in_a_group_apart() -> None:
    spec = check_screen("widgets", screen(technical=True), Label("物件", "Widgets"))
    manager = Scope("user:1", frozenset({1}), frozenset({"widgets.thing.read"}), user_id=1)
    assert not spec.may_read(manager)
    assert spec.may_read(Scope("user:2", user_id=2, branch_ids=frozenset({1}), is_superuser=True))
    assert spec.group == Label("物件 · 技术数据", "Widgets · technical")
    assert check_screen("widgets", screen(), Label("物件", "Widgets")).group == Label(
        "物件", "Widgets"
    )
