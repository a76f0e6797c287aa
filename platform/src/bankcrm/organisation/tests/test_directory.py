"""Resolving the person a row names (name, employee number, username), without a database."""

from __future__ import annotations

from bankcrm.organisation.directory import Outcome, Person, StaffDirectory

HD, CY, BJ = 3, 4, 2
BJ_TREE = frozenset({BJ, HD, CY})

DIRECTORY = StaffDirectory.of(
    [
        Person(10, "demo.bj.rm", 1, "E1101", "李海", True, frozenset({HD}), ("Li Hai",)),
        Person(11, "bj.hd.lihai2", 2, "E1199", "李海", True, frozenset({HD})),
        Person(12, "bj.cy.lihai", 3, "E1299", "李海", True, frozenset({CY})),
        Person(13, "demo.bj.manager", 4, "E1001", "王北", True, BJ_TREE),
        Person(None, "", 5, "E1500", "孙退", True, frozenset()),
        Person(15, "bj.gone", 6, "E1600", "钱走", False, frozenset({HD})),
        Person(16, "ops.robot", None, "", "", True, BJ_TREE),
    ]
)


def test_a_number_or_a_username_names_one_person() -> None:
    for text in ("E1101", "e1101", " E1101 ", "demo.bj.rm", "ＤＥＭＯ.bj.rm"):
        match = DIRECTORY.resolve(text, HD)
        assert (match.outcome, match.user_id) == (Outcome.found, 10), text
    assert DIRECTORY.resolve("ops.robot", CY).user_id == 16


def test_a_name_is_resolved_among_those_who_cover_the_branch() -> None:
    assert DIRECTORY.resolve("李海", CY).user_id == 12  # the 朝阳 one alone covers 朝阳
    assert DIRECTORY.resolve("王 北", HD).user_id == 13
    assert DIRECTORY.resolve("li hai", CY).outcome is Outcome.not_covering  # E1101's English
    match = DIRECTORY.resolve("李海", HD)
    assert match.outcome is Outcome.ambiguous
    assert [p.employee_no for p in match.candidates] == ["E1101", "E1199"]
    assert "李海 (E1101), 李海 (E1199)" in match.message


def test_a_name_and_a_number_together_must_be_one_person() -> None:
    for text in ("李海(E1101)", "李海（E1101）", "E1101 李海", "李海/E1101", "E1101-李海"):
        assert DIRECTORY.resolve(text, HD).user_id == 10, text
    match = DIRECTORY.resolve("王北(E1101)", HD)
    assert match.outcome is Outcome.mismatch
    assert match.message == "E1101 is 李海 (E1101), not the name written beside it"
    assert DIRECTORY.resolve("王北 经理", HD).user_id == 13


def test_who_exists_but_may_not_be_named_is_told_apart_from_nobody() -> None:
    assert DIRECTORY.resolve("钱多多", HD).outcome is Outcome.unknown
    assert DIRECTORY.resolve("E1299", HD).outcome is Outcome.not_covering
    assert DIRECTORY.resolve("孙退", HD).outcome is Outcome.unusable  # no staff login
    gone = DIRECTORY.resolve("E1600", HD)
    assert (gone.outcome, gone.message) == (Outcome.unusable, "钱走 (E1600) is no longer active")
