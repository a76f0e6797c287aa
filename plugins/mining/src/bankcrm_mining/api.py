"""REST routes of mining, mounted under ``/api/v1/mining``.

The kernel's guards run first: an authenticated actor, the plugin enabled for the
actor's branch (the scope is narrowed to those branches) and the permission each handler
names in ``opt``. A handler that names none is refused, not opened.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta, Struct

from bankcrm.web.pagination import Page, check_limit
from bankcrm.web.upload import receive
from bankcrm_mining import access, features, learning, loads, recommenders, registry, scoring

READ = {"permission": access.MODEL_READ}

NameQuery = Annotated[str | None, QueryParameter(max_length=100, description="Only this model")]
TaskQuery = Annotated[registry.Task | None, QueryParameter(description="Only this task")]
StatusQuery = Annotated[registry.Status | None, QueryParameter(description="Only this status")]
LimitQuery = Annotated[int, QueryParameter(description="1 to 200")]
CursorQuery = Annotated[str | None, QueryParameter(max_length=512)]


Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]


class ScoreIn(Struct, forbid_unknown_fields=True, kw_only=True):
    customer_id: Id


class ScoringIn(Struct, forbid_unknown_fields=True, kw_only=True):
    model_id: Id
    """An approved model version."""
    feature_run_id: Id
    """The feature run whose customers it scores (it must hold the model's features)."""


class TrainingIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: registry.Name
    """The model's name: the run registers its next version as a draft."""
    task: learning.Outcome
    feature_run_id: Id
    """The features, as of the run's date."""
    outcome_run_id: Id
    """A later run of the same branch: what happened next (churn, or a new product)."""
    product_category: Annotated[str, Meta(max_length=16)] | None = None
    """For ``propensity``: deposit, loan, card, wealth or other."""


class RecommenderIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: registry.Name
    as_of: date
    """Learn from the holdings opened before this date."""


class SegmentationIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: registry.Name
    feature_run_id: Id
    """The customers and features to segment."""


class ModelController(Controller):
    path = "/models"
    tags = ("mining: models",)

    @get("/", opt=READ)
    async def list_models(
        self,
        name: NameQuery = None,
        task: TaskQuery = None,
        status: StatusQuery = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[registry.ModelOut]:
        """Model versions, newest first; pass ``next_cursor`` back as ``cursor``."""
        check_limit(limit)
        return await registry.list_models(
            name=name, task=task, status=status, limit=limit, cursor=cursor
        )

    @post(
        "/",
        opt={"permission": access.MODEL_WRITE, "location": "/api/v1/mining/models/{id}"},
    )
    async def register(self, data: JSONBody[registry.ModelIn]) -> registry.ModelOut:
        """Register the next version of a model as a draft (stored as data, not pickled)."""
        return await registry.register_model(data)

    @post(
        "/training-runs",
        opt={"permission": access.MODEL_WRITE,
             "location": "/api/v1/mining/models/training-runs/{id}"},
        status_code=202,
    )  # fmt: skip
    async def train(self, data: JSONBody[TrainingIn]) -> learning.TrainingRunOut:
        """Queue the training of a churn or propensity model on a feature run, with the
        outcomes read off a later run; the job registers a draft version (another person
        approves it) or records why the data could not train one."""
        return await learning.start_training(
            data.name, data.task, data.feature_run_id, data.outcome_run_id,
            data.product_category,
        )  # fmt: skip

    @post(
        "/recommenders",
        opt={"permission": access.MODEL_WRITE, "location": "/api/v1/mining/models/{id}"},
    )
    async def recommender(self, data: JSONBody[RecommenderIn]) -> registry.ModelOut:
        """Learn a product recommendation model (customers who hold A also hold B) from
        the holdings of your scope opened before a date; registered as a draft."""
        return await recommenders.train(data.name, data.as_of)

    @post(
        "/segmentations",
        opt={"permission": access.MODEL_WRITE, "location": "/api/v1/mining/models/{id}"},
    )
    async def segmentation(self, data: JSONBody[SegmentationIn]) -> registry.ModelOut:
        """Segment a feature run's customers (k-means, 3 to 6 segments chosen by
        silhouette, each described in words); registered as a draft. Once approved, a
        scoring run assigns every customer their segment."""
        return await learning.train_segmentation(data.name, data.feature_run_id)

    @get("/training-runs", opt=READ)
    async def list_trainings(
        self, limit: LimitQuery = 50, cursor: CursorQuery = None
    ) -> Page[learning.TrainingRunOut]:
        check_limit(limit)
        return await learning.list_trainings(limit, cursor)

    @get("/training-runs/{training_run_id:int}", opt=READ)
    async def training(self, training_run_id: FromPath[int]) -> learning.TrainingRunOut:
        """A training run: queued, done (with the model it registered) or failed (why)."""
        return await learning.get_training(training_run_id)

    @get("/{model_id:int}", opt=READ)
    async def detail(self, model_id: FromPath[int]) -> registry.ModelOut:
        return await registry.get_model(model_id)

    @post("/{model_id:int}/approve", opt={"permission": access.MODEL_APPROVE}, status_code=200)
    async def approve(self, model_id: FromPath[int]) -> registry.ModelOut:
        """Approve a draft for production scoring; never the person who registered it."""
        return await registry.approve_model(model_id)

    @post("/{model_id:int}/score", opt={"permission": access.SCORE_READ}, status_code=200)
    async def score(self, model_id: FromPath[int], data: JSONBody[ScoreIn]) -> scoring.ScoreOut:
        """Score one customer now on the newest features held for them, with the reasons
        in words (not stored; batch runs store scores). Only an approved version scores."""
        return await scoring.score_customer(model_id, data.customer_id)

    @post("/{model_id:int}/retire", opt={"permission": access.MODEL_WRITE}, status_code=200)
    async def retire(self, model_id: FromPath[int]) -> registry.ModelOut:
        """Take a version out of use (rollback: the previous approved version scores)."""
        return await registry.retire_model(model_id)


class LoadController(Controller):
    path = "/loads"
    tags = ("mining: data loads",)

    @post(
        "/",
        opt={"permission": access.DATA_LOAD, "body": "multipart", "form": loads.LoadForm,
             "location": "/api/v1/mining/loads/{id}"},
        status_code=201,
        request_max_body_size=None,
        description=(
            "Load a transactions file (.csv in UTF-8 or GB18030, or .parquet) as"
            " multipart/form-data: part `file`, optional `branch_id` (where unlinked rows go)"
            " and `max_rejected` (0-1, default 0.1). All good rows are loaded in one"
            " transaction, or none: a file that cannot be read, lacks a required column or"
            " rejects too many rows is refused (422) and recorded with its reason."
        ),
    )  # fmt: skip
    async def upload(self, request: Request[Any, Any, Any]) -> loads.LoadOut:
        stored = await receive(request.headers.get("content-type", ""), request.stream())
        try:
            return await loads.load_transactions(stored)
        finally:
            stored.discard()

    @get("/", opt={"permission": access.DATA_READ})
    async def list_loads(
        self, limit: LimitQuery = 50, cursor: CursorQuery = None
    ) -> Page[loads.LoadOut]:
        """Loads of your branches (refused ones too), newest first, with their reports."""
        check_limit(limit)
        return await loads.list_loads(limit, cursor)

    @get("/{load_id:int}", opt={"permission": access.DATA_READ})
    async def detail(self, load_id: FromPath[int]) -> loads.LoadOut:
        """A load and its data-quality report: rows in, rejected by reason, linked."""
        return await loads.get_load(load_id)


class BuildIn(Struct, forbid_unknown_fields=True, kw_only=True):
    as_of: date
    """Features see only data before this date (00:00 Asia/Shanghai)."""
    branch_id: Annotated[int, Meta(ge=1, le=2**31 - 1)] | None = None
    """The branch the run is recorded in (default: yours); it covers your scope."""


class FeatureController(Controller):
    path = "/features"
    tags = ("mining: feature store",)

    @post(
        "/runs",
        opt={"permission": access.FEATURE_BUILD,
             "location": "/api/v1/mining/features/runs/{id}"},
    )  # fmt: skip
    async def build(self, data: JSONBody[BuildIn]) -> features.RunOut:
        """Materialise the features of the customers in your scope as of a date."""
        return await features.build_features(data.as_of, data.branch_id)

    @get("/runs", opt={"permission": access.DATA_READ})
    async def list_runs(
        self, limit: LimitQuery = 50, cursor: CursorQuery = None
    ) -> Page[features.RunOut]:
        check_limit(limit)
        return await features.list_runs(limit, cursor)

    @get("/runs/{feature_run_id:int}", opt={"permission": access.DATA_READ})
    async def run(self, feature_run_id: FromPath[int]) -> features.RunOut:
        return await features.get_run(feature_run_id)

    @get("/customers/{customer_id:int}", opt={"permission": access.DATA_READ})
    async def customer(
        self,
        customer_id: FromPath[int],
        run: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> features.FeaturesOut:
        """A customer's features in a run (default: the newest)."""
        return await features.customer_features(customer_id, run)


class ScoringController(Controller):
    path = "/scoring"
    tags = ("mining: scores",)

    @post(
        "/runs",
        opt={"permission": access.SCORE_RUN,
             "location": "/api/v1/mining/scoring/runs/{id}"},
        status_code=202,
    )  # fmt: skip
    async def start(self, data: JSONBody[ScoringIn]) -> scoring.ScoringRunOut:
        """Queue the scoring of a feature run by an approved model version (a job; the run
        answers ``queued``, then ``done`` with its population stability). Asking again for
        the same pair answers the same run."""
        return await scoring.start_run(data.model_id, data.feature_run_id)

    @get("/runs", opt={"permission": access.SCORE_READ})
    async def list_runs(
        self,
        model: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[scoring.ScoringRunOut]:
        """Scoring runs of your branches, newest first."""
        check_limit(limit)
        return await scoring.list_runs(model, limit, cursor)

    @get("/runs/{scoring_run_id:int}", opt={"permission": access.SCORE_READ})
    async def run(self, scoring_run_id: FromPath[int]) -> scoring.ScoringRunOut:
        """A run: its status, customers scored and population stability (PSI)."""
        return await scoring.get_run(scoring_run_id)

    @get("/customers/{customer_id:int}", opt={"permission": access.SCORE_READ})
    async def customer(self, customer_id: FromPath[int]) -> list[scoring.ScoreOut]:
        """A customer's newest stored score of each model, with band and reasons."""
        return await scoring.customer_scores(customer_id)


ROUTES: list[Any] = [ModelController, LoadController, FeatureController, ScoringController]
