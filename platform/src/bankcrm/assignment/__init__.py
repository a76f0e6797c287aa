"""The assignment engine: one place that decides who gets a lead, a ticket or a care task.

Plugins declare kinds of work (``register_work_kinds``) and call :func:`assign` /
:func:`assign_many` in their transaction and :func:`release` when the work is done;
branch managers declare the rules (see :mod:`bankcrm.assignment.service`).
"""

from bankcrm.assignment.service import (
    Assigned,
    WorkItem,
    assign,
    assign_many,
    history,
    preview,
    reassign,
    reassign_by_rules,
    release,
)

__all__ = [
    "Assigned",
    "WorkItem",
    "assign",
    "assign_many",
    "history",
    "preview",
    "reassign",
    "reassign_by_rules",
    "release",
]
