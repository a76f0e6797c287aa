"""A survey's questions and the rules answers follow: the kinds of question (single and
multiple choice, scale, free text), skip logic (a question shown only when an earlier
answer matches) and the checks of a questionnaire and of a set of answers.

Pure functions over plain values: every refusal is a 422 naming the field
(``body.questions[2].show_if.question``, ``body.answers.q3``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from bankcrm.web.problems import invalid

KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
TEXT_LIMIT = 2000
"""The longest free-text answer kept, in characters."""

Key = Annotated[str, Meta(min_length=1, max_length=32)]
Kind = Literal["single", "multiple", "scale", "text"]


class Option(Struct, forbid_unknown_fields=True):
    value: Annotated[str, Meta(min_length=1, max_length=32)]
    label: Annotated[str, Meta(min_length=1, max_length=200)]


class ShowIf(Struct, forbid_unknown_fields=True, kw_only=True):
    """Show the question only when the earlier question ``question`` was answered with
    one of ``any_of`` (choices) or with a scale value within ``at_least``/``at_most``."""

    question: Key
    any_of: list[Annotated[str, Meta(min_length=1, max_length=32)]] | None = None
    at_least: Annotated[int, Meta(ge=-100, le=100)] | None = None
    at_most: Annotated[int, Meta(ge=-100, le=100)] | None = None


class Question(Struct, forbid_unknown_fields=True, kw_only=True):
    key: Key
    """Its name in answers and skip logic: lower-case letters, digits, underscores."""
    question_kind: Kind
    prompt: Annotated[str, Meta(min_length=1, max_length=1000)]
    options: list[Option] = []
    """For ``single`` and ``multiple``: 2 to 50 choices."""
    scale_min: Annotated[int, Meta(ge=-100, le=100)] | None = None
    scale_max: Annotated[int, Meta(ge=-100, le=100)] | None = None
    """For ``scale``: e.g. 1 to 5, or 0 to 10."""
    required: bool = True
    show_if: ShowIf | None = None


def check_questions(questions: Sequence[Question], field: str = "body.questions") -> None:
    """A questionnaire staff may save: keys unique, each kind with what it needs, skip
    logic only over an earlier choice or scale question and values it can take."""
    if not questions:
        raise invalid(field, "a survey needs at least one question")
    if len(questions) > 200:
        raise invalid(field, "at most 200 questions")
    seen: dict[str, Question] = {}
    for index, question in enumerate(questions):
        at = f"{field}[{index}]"
        if not KEY.match(question.key):
            raise invalid(f"{at}.key", "lower-case letters, digits and _ (a letter first)")
        if question.key in seen:
            raise invalid(f"{at}.key", f"{question.key!r} is used twice")
        if not question.prompt.strip():
            raise invalid(f"{at}.prompt", "must not be blank")
        _check_kind(question, at)
        if question.show_if is not None:
            _check_show_if(question.show_if, seen, f"{at}.show_if")
        seen[question.key] = question


def _check_kind(question: Question, at: str) -> None:
    choices = question.question_kind in ("single", "multiple")
    if choices:
        if not 2 <= len(question.options) <= 50:
            raise invalid(f"{at}.options", "a choice needs 2 to 50 options")
        values = [o.value for o in question.options]
        if len(set(values)) != len(values):
            raise invalid(f"{at}.options", "option values must differ")
    elif question.options:
        raise invalid(f"{at}.options", f"a {question.question_kind} question has no options")
    if question.question_kind == "scale":
        if question.scale_min is None or question.scale_max is None:
            raise invalid(f"{at}.scale_max", "a scale needs scale_min and scale_max")
        if not question.scale_min < question.scale_max <= question.scale_min + 20:
            raise invalid(f"{at}.scale_max", "must be above scale_min, by at most 20")
    elif question.scale_min is not None or question.scale_max is not None:
        raise invalid(f"{at}.scale_min", "only a scale question has a scale")


def _check_show_if(rule: ShowIf, earlier: Mapping[str, Question], at: str) -> None:
    target = earlier.get(rule.question)
    if target is None:
        raise invalid(f"{at}.question", "must name an earlier question")
    if target.question_kind in ("single", "multiple"):
        if not rule.any_of or rule.at_least is not None or rule.at_most is not None:
            raise invalid(f"{at}.any_of", "a choice question is matched by any_of")
        values = {o.value for o in target.options}
        unknown = [v for v in rule.any_of if v not in values]
        if unknown:
            raise invalid(f"{at}.any_of", f"not options of {rule.question!r}: {unknown}")
    elif target.question_kind == "scale":
        if rule.any_of is not None or (rule.at_least is None and rule.at_most is None):
            raise invalid(f"{at}.at_least", "a scale question is matched by at_least/at_most")
    else:
        raise invalid(f"{at}.question", "a free-text answer cannot decide skip logic")


def shown(question: Question, answers: Mapping[str, Any], visible: set[str]) -> bool:
    """Whether ``question`` is shown, given the answers to the questions before it and
    which of them were shown."""
    rule = question.show_if
    if rule is None:
        return True
    if rule.question not in visible or rule.question not in answers:
        return False
    answer = answers[rule.question]
    if rule.any_of is not None:
        chosen = set(answer) if isinstance(answer, list) else {answer}
        return bool(chosen & set(rule.any_of))
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False
    if rule.at_least is not None and answer < rule.at_least:
        return False
    return not (rule.at_most is not None and answer > rule.at_most)


def checked_answers(
    questions: Sequence[Question], answers: Mapping[str, Any], field: str = "body.answers"
) -> dict[str, Any]:
    """The answers to keep, in questionnaire order: each shown question answered as its
    kind allows (required ones answered), none answered that skip logic hides, no unknown
    key. Free text is stripped; an empty optional answer is left out."""
    keys = {q.key for q in questions}
    for key in answers:
        if key not in keys:
            raise invalid(f"{field}.{key}", "no such question in this version")
    kept: dict[str, Any] = {}
    visible: set[str] = set()
    for question in questions:
        at = f"{field}.{question.key}"
        present = question.key in answers and answers[question.key] not in (None, "", [])
        if not shown(question, kept, visible):
            if present:
                raise invalid(at, "this question is not shown for the earlier answers")
            continue
        visible.add(question.key)
        if not present:
            if question.required:
                raise invalid(at, "an answer is required")
            continue
        value = _checked_value(question, answers[question.key], at)
        if value != "":
            kept[question.key] = value
    return kept


def _checked_value(question: Question, value: Any, at: str) -> Any:
    kind = question.question_kind
    if kind == "single":
        if not isinstance(value, str) or value not in {o.value for o in question.options}:
            raise invalid(at, "must be one of the options' values")
        return value
    if kind == "multiple":
        values = {o.value for o in question.options}
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(at, "must be a list of the options' values")
        if len(set(value)) != len(value) or not set(value) <= values:
            raise invalid(at, "must be distinct values of the options")
        return [o.value for o in question.options if o.value in value]
    if kind == "scale":
        low, high = question.scale_min, question.scale_max
        assert low is not None
        assert high is not None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(at, f"must be a whole number from {low} to {high}")
        return value
    if not isinstance(value, str):
        raise invalid(at, "must be text")
    text = value.strip()
    if len(text) > TEXT_LIMIT:
        raise invalid(at, f"at most {TEXT_LIMIT} characters")
    if not text and question.required:
        raise invalid(at, "an answer is required")
    return text
