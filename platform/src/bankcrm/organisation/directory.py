"""Who a person named on a row of a file is: a name, an employee number or a username.

Files from other systems name the member of staff responsible for a record (a customer's
relationship manager, a lead's owner) the way that system knows them: ``李海``, ``E1101``,
``demo.bj.rm``, or ``李海(E1101)``. :func:`staff_directory` loads the active users, their
branch memberships and the employees visible in the current scope once, and
:meth:`StaffDirectory.resolve` answers per row, without a query, whom the text means for a
record of a given branch:

- an employee number or a username names one person (a name given beside it must be
  theirs: ``王芳(E1101)`` where E1101 is 李海 is refused, not guessed);
- a name is looked up among the people who may be named on the record, those whose
  memberships cover its branch (the rule of :mod:`bankcrm.staff`); two of them with the
  name is ``ambiguous`` with both named, so the clerk writes the number instead;
- a person who exists but may not be named (works elsewhere, has left, has no staff
  login) is told apart from nobody at all (``unknown``), which callers may treat more
  leniently (an import can leave the record unassigned).

Employees are read under row-level security: an employee of a branch outside the caller's
scope is not found by name or number (their username still finds them, as user accounts
are not branch data).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from bankcrm import branches, db

_TOKEN_SPLIT = re.compile(r"[\s()（）\[\]【】<>《》/\\|,，;；:：、\-—_]+")


class Outcome(StrEnum):
    found = "found"
    unknown = "unknown"
    """No employee or user is called, numbered or logged in as the text."""
    ambiguous = "ambiguous"
    """Several people who may be named on the record have this name."""
    not_covering = "not_covering"
    """The person exists but works in no branch covering the record's branch."""
    unusable = "unusable"
    """The person exists but cannot be named: has left, or has no staff login."""
    mismatch = "mismatch"
    """A number (or username) and a name that are not the same person's."""


@dataclass(frozen=True)
class Person:
    user_id: int | None
    username: str
    employee_id: int | None
    employee_no: str
    name: str
    active: bool
    covers: frozenset[int]
    other_names: tuple[str, ...] = ()
    """The English name, when the employee record has one."""

    def label(self) -> str:
        """How a message names them: ``李海 (E1101)``."""
        name = self.name or self.username
        number = self.employee_no or self.username
        return f"{name} ({number})" if number and number != name else name


@dataclass(frozen=True)
class StaffMatch:
    outcome: Outcome
    user_id: int | None = None
    person: Person | None = None
    candidates: tuple[Person, ...] = ()
    message: str = ""
    """Why the text names nobody who may be used (English; ``bankcrm.messages`` has it in
    Chinese). Empty when found."""


def _name_key(text: str) -> str:
    # 王 芳, 王　芳 and 王芳 are one name; Latin names compare case-insensitively.
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _number_key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().upper()


@dataclass
class StaffDirectory:
    people: list[Person] = field(default_factory=list)
    by_number: dict[str, Person] = field(default_factory=dict)
    by_username: dict[str, Person] = field(default_factory=dict)
    by_name: dict[str, list[Person]] = field(default_factory=dict)

    @classmethod
    def of(cls, people: Iterable[Person]) -> StaffDirectory:
        directory = cls()
        for person in people:
            directory.people.append(person)
            if person.employee_no:
                directory.by_number[_number_key(person.employee_no)] = person
            if person.username:
                directory.by_username[person.username.strip().casefold()] = person
            for name in {_name_key(n) for n in (person.name, *person.other_names) if n}:
                directory.by_name.setdefault(name, []).append(person)
        return directory

    def _by_identifier(self, token: str) -> Person | None:
        return self.by_number.get(_number_key(token)) or self.by_username.get(
            token.strip().casefold()
        )

    def resolve(self, text: str, branch_id: int) -> StaffMatch:
        """Whom ``text`` names for a record of ``branch_id``."""
        text = unicodedata.normalize("NFKC", text).strip()
        if not text:
            return StaffMatch(Outcome.unknown, message="empty")
        person = self._by_identifier(text)
        if person is not None:
            return self._usable(person, branch_id)
        tokens = [t for t in _TOKEN_SPLIT.split(text) if t]
        if len(tokens) > 1:
            identified = [p for t in tokens if (p := self._by_identifier(t)) is not None]
            if identified:
                person = identified[0]
                others = {_name_key(t) for t in tokens if self._by_identifier(t) is None}
                own = {_name_key(n) for n in (person.name, *person.other_names) if n}
                if others and not others & own:
                    return StaffMatch(
                        Outcome.mismatch,
                        person=person,
                        message=f"{person.employee_no or person.username} is"
                        f" {person.label()}, not the name written beside it",
                    )
                return self._usable(person, branch_id)
            # 李海 经理, 李海（客户经理）: the name is the first token that is one.
            for token in tokens:
                if _name_key(token) in self.by_name:
                    return self._by_name(token, branch_id)
        return self._by_name(text, branch_id)

    def _by_name(self, text: str, branch_id: int) -> StaffMatch:
        named = self.by_name.get(_name_key(text), [])
        if not named:
            return StaffMatch(
                Outcome.unknown,
                message="no employee or user has this name, employee number or username",
            )
        usable = [p for p in named if p.active and p.user_id is not None]
        covering = [p for p in usable if branch_id in p.covers]
        if len(covering) == 1:
            return StaffMatch(Outcome.found, covering[0].user_id, covering[0])
        if len(covering) > 1:
            names = ", ".join(p.label() for p in covering)
            return StaffMatch(
                Outcome.ambiguous,
                candidates=tuple(covering),
                message=f"{len(covering)} people who may manage this branch have this name:"
                f" {names}; write the employee number instead",
            )
        if usable:
            return StaffMatch(
                Outcome.not_covering,
                candidates=tuple(usable),
                message="this person works in none of the branches that cover this record's"
                f" branch ({', '.join(p.label() for p in usable)})",
            )
        return self._usable(named[0], branch_id)

    def _usable(self, person: Person, branch_id: int) -> StaffMatch:
        if person.user_id is None:
            return StaffMatch(
                Outcome.unusable,
                person=person,
                message=f"{person.label()} has no staff login, so cannot be named here",
            )
        if not person.active:
            return StaffMatch(
                Outcome.unusable, person=person, message=f"{person.label()} is no longer active"
            )
        if branch_id not in person.covers:
            return StaffMatch(
                Outcome.not_covering,
                person=person,
                candidates=(person,),
                message="this person works in none of the branches that cover this record's"
                f" branch ({person.label()})",
            )
        return StaffMatch(Outcome.found, person.user_id, person)


async def staff_directory() -> StaffDirectory:
    """Active and former users with what their memberships cover, and the employees in the
    current scope, ready for :meth:`StaffDirectory.resolve` (two queries)."""
    tree = await branches.snapshot()
    users: dict[int, tuple[str, bool]] = {}
    covers: dict[int, frozenset[int]] = {}
    for row in await db.fetch(
        "SELECT u.id, u.username, u.active, m.branch FROM piccolo_user u"
        " LEFT JOIN bankcrm_membership m ON m.user = u.id"
    ):
        users[row["id"]] = (row["username"], row["active"])
        if row["branch"] is not None:
            covers[row["id"]] = covers.get(row["id"], frozenset()) | tree.subtree(row["branch"])
    employees = await db.fetch(
        "SELECT id, employee_no, name, name_en, user_id, active FROM bankcrm_employee"
    )
    people: list[Person] = []
    employed: set[int] = set()
    for row in employees:
        user_id = row["user_id"]
        username, user_active = users.get(user_id, ("", False)) if user_id else ("", False)
        if user_id:
            employed.add(user_id)
        people.append(
            Person(
                user_id=user_id,
                username=username,
                employee_id=row["id"],
                employee_no=row["employee_no"],
                name=row["name"],
                active=bool(row["active"]) and (user_active if user_id else True),
                covers=covers.get(user_id, frozenset()) if user_id else frozenset(),
                other_names=(row["name_en"],) if row["name_en"] else (),
            )
        )
    for user_id, (username, active) in users.items():
        if user_id not in employed:
            people.append(
                Person(user_id, username, None, "", "", active, covers.get(user_id, frozenset()))
            )
    return StaffDirectory.of(people)


__all__ = ["Outcome", "Person", "StaffDirectory", "StaffMatch", "staff_directory"]
