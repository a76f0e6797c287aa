"""Tables of rule-based tags (see :mod:`bankcrm_customer_archive.tagging.services`)."""

from __future__ import annotations

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import JSONB, Boolean, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column
from bankcrm_customer_archive.tables import Tag


class TagRule(Table, tablename="customer_archive_tag_rule"):
    """The rule of a ``rule`` tag: one per tag (unique index), in the tag's branch.

    Deleted with its tag (``ON DELETE CASCADE``): a rule is configuration owned by the
    tag, not bank data, and the tag's deletion is audited with its links.
    """

    branch_id = branch_column()
    tag = ForeignKey(Tag, on_delete=OnDelete.cascade)
    criteria = JSONB(default="{}")
    """The customer filter (:class:`bankcrm_customer_archive.tagging.services.RuleCriteria`)."""
    description = Varchar(length=500, default="")
    active = Boolean(default=True)
    """Inactive rules are skipped by the scheduled evaluation; their links stay."""
    created_by = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    evaluated_at = Timestamptz(null=True, default=None)
    matched = Integer(null=True, default=None)
    """Customers carrying the tag after the last evaluation."""
    added = Integer(null=True, default=None)
    removed = Integer(null=True, default=None)


TAGGING_TABLES: list[type[Table]] = [TagRule]
