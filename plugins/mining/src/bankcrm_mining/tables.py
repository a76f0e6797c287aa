"""The plugin's tables: each carries ``branch_id`` (row-level security scopes it) or is
declared global with its reason.

After changing a table, add a migration with
``piccolo migrations new mining --auto``;
``tests/test_migrations.py`` fails while the tables and the migrations disagree.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    JSONB,
    Boolean,
    Date,
    DoublePrecision,
    Integer,
    Numeric,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bankcrm.tables import branch_column, global_table


class ModelStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    retired = "retired"


class ModelTask(StrEnum):
    scorecard = "scorecard"
    default = "default"
    churn = "churn"
    propensity = "propensity"
    recommendation = "recommendation"
    segmentation = "segmentation"


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


class LoadStatus(StrEnum):
    loaded = "loaded"
    refused = "refused"


class Load(Table, tablename="mining_load"):
    """One file offered for loading and its data-quality report, loaded or refused."""

    branch_id = branch_column()
    source = Varchar(length=32, default="transactions")
    file_name = Varchar(length=255)
    file_sha256 = Varchar(length=64)
    status = Varchar(length=16, choices=LoadStatus)
    reason = Varchar(length=500, default="")
    rows_in = Integer(default=0)
    rows_loaded = Integer(default=0)
    rows_rejected = Integer(default=0)
    rows_linked = Integer(default=0)
    rows_unlinked = Integer(default=0)
    report = JSONB(default={})
    created_by = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())


class Transaction(Table, tablename="mining_transaction"):
    """A cleaned transaction, in its customer's branch (or the load's when unlinked)."""

    branch_id = branch_column()
    load = Integer(index=True)
    txn_id = Varchar(length=64)
    customer = Integer(null=True, default=None, index=True)
    linked_by = Varchar(length=16, null=True, default=None)
    booked_at = Timestamptz()
    amount = Numeric(digits=(16, 2))
    currency = Varchar(length=3, default="CNY")
    account_no = Varchar(length=32, null=True, default=None)
    channel = Varchar(length=50, null=True, default=None)
    category = Varchar(length=50, null=True, default=None)
    balance_after = Numeric(digits=(16, 2), null=True, default=None)


class FeatureRun(Table, tablename="mining_feature_run"):
    """One materialisation of the feature store as of a date, for a branch and below."""

    branch_id = branch_column()
    as_of = Date()
    version = Integer()
    definition = JSONB(default={})
    """Extractor name -> its version and feature names: what the values mean."""
    customers = Integer(default=0)
    fingerprint = Varchar(length=64, default="")
    created_by = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())


class FeatureValue(Table, tablename="mining_feature_value"):
    """A customer's features in one run (in the customer's branch)."""

    branch_id = branch_column()
    run = Integer(index=True)
    customer = Integer(index=True)
    as_of = Date()
    values = JSONB(default={})


class ScoringStatus(StrEnum):
    queued = "queued"
    done = "done"


class ScoringRun(Table, tablename="mining_scoring_run"):
    """One approved model version applied to one feature run (the feature run's branch),
    with the population stability it found."""

    branch_id = branch_column()
    model = Integer()
    feature_run = Integer(index=True)
    status = Varchar(length=16, default=ScoringStatus.queued, choices=ScoringStatus)
    customers = Integer(default=0)
    stability = JSONB(default={})
    """PSI per feature and of the score, and the run's score distribution."""
    alerted = Boolean(default=False)
    created_by = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class Score(Table, tablename="mining_score"):
    """A customer's score in a run (in the customer's branch), with the model version and
    the reasons in words."""

    branch_id = branch_column()
    run = Integer()
    model = Integer()
    model_name = Varchar(length=100)
    model_version = Integer()
    customer = Integer(index=True)
    score = Integer()
    probability = DoublePrecision()
    band = Varchar(length=1)
    reasons = JSONB(default=[])
    scored_at = Timestamptz(default=TimestamptzNow())


class TrainingStatus(StrEnum):
    queued = "queued"
    done = "done"
    failed = "failed"


class TrainingRun(Table, tablename="mining_training_run"):
    """A model trained on a feature run with outcomes read off a later run of the same
    branch; it registers a draft version or records why it could not."""

    branch_id = branch_column()
    name = Varchar(length=100)
    task = Varchar(length=16, choices=ModelTask)
    product_category = Varchar(length=16, null=True, default=None)
    feature_run = Integer()
    outcome_run = Integer()
    status = Varchar(length=16, default=TrainingStatus.queued, choices=TrainingStatus)
    model = Integer(null=True, default=None)
    error = Varchar(length=500, default="")
    metrics = JSONB(default={})
    created_by = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


TABLES: list[type[Table]] = [
    Model,
    Load,
    Transaction,
    FeatureRun,
    FeatureValue,
    ScoringRun,
    Score,
    TrainingRun,
]
