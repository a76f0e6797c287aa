"""The plugin's tables: each carries ``branch_id`` (row-level security scopes it) or is
declared global with its reason.

After changing a table, add a migration with
``piccolo migrations new mining --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import JSONB, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import global_table


class ModelStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    retired = "retired"


class ModelTask(StrEnum):
    scorecard = "scorecard"
    default = "default"
    churn = "churn"
    propensity = "propensity"


@global_table("a model is the bank's: one points table scores every branch's customers")
class Model(Table, tablename="mining_model"):
    """One version of a model, stored as data (never as a pickle): the points table or the
    coefficients and bins in ``spec``, what it was trained on and how well it did."""

    name = Varchar(length=100)
    task = Varchar(length=16, choices=ModelTask)
    version = Integer()
    status = Varchar(length=16, default=ModelStatus.draft, choices=ModelStatus)
    kind = Varchar(length=32)
    spec = JSONB(default={})
    features = JSONB(default=[])
    metrics = JSONB(default={})
    data_fingerprint = Varchar(length=64)
    description = Varchar(length=1000, default="")
    created_by = Varchar(length=100)
    approved_by = Varchar(length=100, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [Model]
