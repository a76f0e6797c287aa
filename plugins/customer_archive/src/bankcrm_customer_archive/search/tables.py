"""Saved searches and segments (:mod:`bankcrm_customer_archive.search.services`).

A saved search is a :class:`~bankcrm_customer_archive.search.services.CustomerFilter` kept under a
name. ``private`` ones belong to the actor who saved them and are visible to nobody else
(the access rule ``customer_archive.saved_search_owner`` in :mod:`.access`, which the
kernel compiles into a restrictive row-level-security policy on ``owner_actor``);
``segment`` ones are shared with everyone who can see their branch. Only the definition is
stored, never a member list: a segment is evaluated live every time it is used.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import JSONB, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column


class SavedSearchKind(StrEnum):
    private = "private"
    """Only its owner sees it."""
    segment = "segment"
    """Shared with the branch (and its sub-branches); usable as ``segment_id`` in search."""


class SavedSearch(Table, tablename="customer_archive_saved_search"):
    branch_id = branch_column()
    """Private: the owner's home branch; segment: the branch whose customers it selects."""
    kind = Varchar(length=16, choices=SavedSearchKind)
    name = Varchar(length=100)
    description = Varchar(length=500, default="")
    filter = JSONB(default="{}")
    """The filter as the API takes it (``CustomerFilter``), validated when saved."""
    owner = ForeignKey(BaseUser, null=True, default=None, on_delete=OnDelete.restrict)
    owner_actor = Varchar(length=64)
    """The scope's actor (``user:12``, ``client:3``) that the privacy policy compares."""
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


SEARCH_TABLES: list[type[Table]] = [SavedSearch]
