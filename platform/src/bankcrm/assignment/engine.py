"""Choosing an owner: declared rules, candidates, strategies — pure, no database.

:func:`plan` takes the branch's candidates (with their open load), its rules (nearest
branch first, then priority) and the round-robin turns, and gives each work item an
employee; it updates loads and turns as it goes, so a batch of 100,000 items is one pass.
The service (:mod:`bankcrm.assignment.service`) loads those inputs under a lock and
writes the outcome.
"""

from __future__ import annotations

import bisect
import heapq
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import rule_engine

from bankcrm.plugin_api import WORK_ATTRIBUTE_TYPES, WorkKind

log = logging.getLogger(__name__)

SKILL_FIELDS = ("products", "segments", "languages", "territories")
STRATEGIES = ("least_loaded", "round_robin")
DEFAULT_RULE = 0
"""The turn key of the branch's default (no rule matched): least loaded among everyone."""

_TYPES = {
    "string": rule_engine.DataType.STRING,
    "number": rule_engine.DataType.FLOAT,
    "boolean": rule_engine.DataType.BOOLEAN,
    "strings": rule_engine.DataType.ARRAY(rule_engine.DataType.STRING),
}


class RuleProblem(ValueError):
    """A rule that cannot be used, said for the person who wrote it (field, message)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def check_kind(kind: WorkKind) -> None:
    for name, type_name in kind.attributes.items():
        if type_name not in WORK_ATTRIBUTE_TYPES:
            raise ValueError(
                f"work kind {kind.name}: attribute {name} has type {type_name!r};"
                f" use one of {', '.join(WORK_ATTRIBUTE_TYPES)}"
            )


def compile_condition(kind: WorkKind, condition: str) -> rule_engine.Rule | None:
    """The typed rule for ``condition`` (None: empty, matches everything)."""
    if not condition.strip():
        return None
    context = rule_engine.Context(
        type_resolver=rule_engine.type_resolver_from_dict(
            {name: _TYPES[t] for name, t in kind.attributes.items()}
        )
    )
    try:
        rule = rule_engine.Rule(condition, context=context)
    except rule_engine.errors.SymbolResolutionError as exc:
        known = ", ".join(sorted(kind.attributes)) or "none"
        raise RuleProblem(
            "condition", f"unknown attribute {exc.symbol_name!r} (known: {known})"
        ) from exc
    except rule_engine.errors.RuleSyntaxError as exc:
        raise RuleProblem("condition", f"syntax error: {exc.message}") from exc
    except rule_engine.errors.EngineError as exc:
        raise RuleProblem("condition", f"{exc.message}") from exc
    if rule.statement.expression.result_type not in (
        rule_engine.DataType.BOOLEAN,
        rule_engine.DataType.UNDEFINED,
    ):
        raise RuleProblem("condition", "must be a yes/no expression (a comparison)")
    return rule


def check_match_skills(kind: WorkKind, match_skills: Mapping[str, str]) -> None:
    for skill, attribute in match_skills.items():
        if skill not in SKILL_FIELDS:
            raise RuleProblem(
                f"match_skills.{skill}", f"not an employee skill ({', '.join(SKILL_FIELDS)})"
            )
        if kind.attributes.get(attribute) not in ("string", "strings"):
            raise RuleProblem(
                f"match_skills.{skill}",
                f"{attribute!r} is not a text attribute of {kind.name}",
            )


def check_attributes(kind: WorkKind, attributes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems of a work item's attributes, as (attribute, message)."""
    problems = []
    for name, value in attributes.items():
        wanted = kind.attributes.get(name)
        if wanted is None:
            problems.append((name, f"not an attribute of {kind.name}"))
        elif value is None:
            continue
        elif wanted == "string" and not isinstance(value, str):
            problems.append((name, "must be text"))
        elif wanted == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append((name, "must be a number"))
        elif wanted == "boolean" and not isinstance(value, bool):
            problems.append((name, "must be true or false"))
        elif wanted == "strings" and (
            not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value)
        ):
            problems.append((name, "must be a list of text"))
    return problems


@dataclass
class Candidate:
    id: int
    team_id: int | None
    skills: dict[str, frozenset[str]]
    capacity: int
    load: int
    away: bool

    @property
    def free(self) -> bool:
        return not self.away and self.load < self.capacity

    def key(self) -> tuple[float, int, int]:
        return (self.load / self.capacity if self.capacity else 1.0, self.load, self.id)


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    strategy: str
    rule: rule_engine.Rule | None
    match_skills: tuple[tuple[str, str], ...]
    team_id: int | None

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        if self.rule is None:
            return True
        try:
            return bool(self.rule.matches(attributes))
        except rule_engine.errors.EngineError as exc:
            # A value the rule cannot compare (a missing amount): the rule does not apply.
            log.debug("rule %s skipped: %s", self.id, exc)
            return False


@dataclass(frozen=True)
class Choice:
    employee_id: int | None
    rule_id: int | None
    how: str
    """``rule``, ``default`` or ``none`` (nobody free: the caller falls back)."""


@dataclass
class Planner:
    """Assignment state of one branch for one batch: loads and turns move as it plans."""

    candidates: dict[int, Candidate]
    rules: Sequence[CompiledRule]
    turns: dict[int, int] = field(default_factory=dict)
    """rule id (0: default) -> the last employee given work by round robin."""
    _pools: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    _heaps: dict[tuple[Any, ...], list[tuple[float, int, int]]] = field(default_factory=dict)

    def _pool(self, rule: CompiledRule | None, attributes: Mapping[str, Any]) -> tuple[Any, ...]:
        """The key of the candidates a rule allows for these attributes (cached)."""
        wanted: list[tuple[str, frozenset[str]]] = []
        for skill, attribute in rule.match_skills if rule else ():
            value = attributes.get(attribute)
            values = frozenset([value] if isinstance(value, str) else value or ())
            wanted.append((skill, values))
        key = (rule.id if rule else DEFAULT_RULE, tuple(sorted(wanted, key=lambda w: w[0])))
        if key not in self._pools:
            team = rule.team_id if rule else None
            self._pools[key] = sorted(
                c.id
                for c in self.candidates.values()
                if (team is None or c.team_id == team)
                and all(values and values <= c.skills[skill] for skill, values in wanted)
            )
        return key

    def _least_loaded(self, key: tuple[Any, ...]) -> int | None:
        heap = self._heaps.get(key)
        if heap is None:
            heap = [self.candidates[i].key() for i in self._pools[key]]
            heap = [k for k in heap if self.candidates[k[2]].free]
            heapq.heapify(heap)
            self._heaps[key] = heap
        while heap:
            entry = heap[0]
            candidate = self.candidates[entry[2]]
            if not candidate.free:
                heapq.heappop(heap)
            elif entry != candidate.key():
                # Loads only grow within a batch: a stale entry is re-filed, never lost.
                heapq.heapreplace(heap, candidate.key())
            else:
                return candidate.id
        return None

    def _round_robin(self, key: tuple[Any, ...], turn: int) -> int | None:
        pool = self._pools[key]
        if not pool:
            return None
        last = self.turns.get(turn, 0)
        start = bisect.bisect_right(pool, last) % len(pool)
        for step in range(len(pool)):
            employee = pool[(start + step) % len(pool)]
            if self.candidates[employee].free:
                self.turns[turn] = employee
                return employee
        return None

    def choose(self, attributes: Mapping[str, Any]) -> Choice:
        for rule in self.rules:
            if not rule.matches(attributes):
                continue
            key = self._pool(rule, attributes)
            if rule.strategy == "round_robin":
                employee = self._round_robin(key, rule.id)
            else:
                employee = self._least_loaded(key)
            if employee is not None:
                self.candidates[employee].load += 1
                return Choice(employee, rule.id, "rule")
        employee = self._least_loaded(self._pool(None, attributes))
        if employee is None:
            return Choice(None, None, "none")
        self.candidates[employee].load += 1
        return Choice(employee, None, "default")


def plan(planner: Planner, items: Iterable[Mapping[str, Any]]) -> list[Choice]:
    return [planner.choose(attributes) for attributes in items]


__all__ = [
    "SKILL_FIELDS",
    "STRATEGIES",
    "Candidate",
    "Choice",
    "CompiledRule",
    "Planner",
    "RuleProblem",
    "check_attributes",
    "check_kind",
    "check_match_skills",
    "compile_condition",
    "plan",
]
