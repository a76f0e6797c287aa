"""Recommendation models over the archive's holdings in the caller's scope: trained from
who holds what as of a date, registered as drafts, and answering marketing's
``marketing_recommendations`` with the newest approved one (:mod:`.recommend` holds the
method)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

import pandas as pd

from bankcrm.web.problems import invalid
from bankcrm_customer_archive import services as archive
from bankcrm_mining import recommend, registry
from bankcrm_mining.recommend import ProductRecommendation


async def holdings_frame(
    as_of: date | None = None, customer_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Who holds what in the caller's scope (holdings opened before ``as_of``)."""
    facts = await archive.holding_facts(customer_ids)
    rows = [
        (h.customer_id, h.product_code)
        for h in facts
        if as_of is None or (h.opened_on is not None and h.opened_on < as_of)
    ]
    return pd.DataFrame(rows, columns=["customer", "product"])


async def recommendations(
    customer_ids: Sequence[int], limit: int
) -> dict[int, list[ProductRecommendation]] | None:
    """Next-best products of each customer by the newest approved recommendation model;
    None when there is none."""
    model = await registry.approved_task_model("recommendation")
    if model is None:
        return None
    frame = await holdings_frame(customer_ids=customer_ids)
    held = frame.groupby("customer")["product"].apply(set).to_dict()
    tag = f"mining.{model.name}@{model.version}"
    return {
        c: recommend.recommend(model.spec, held.get(c, set()), limit, tag) for c in customer_ids
    }


async def train(name: str, as_of: date) -> registry.ModelOut:
    """Register a draft recommendation model learnt from the holdings opened before
    ``as_of`` of every customer in scope."""
    frame = await holdings_frame(as_of)
    if frame["customer"].nunique() < 2 * recommend.MIN_SUPPORT:
        raise invalid("/body/as_of", "too few customers held products before this date")
    names = {p.code: p.name for p in await archive.list_products()}
    spec = recommend.fit(frame, names)
    digest = hashlib.sha256(
        frame.sort_values(["customer", "product"]).to_csv(index=False).encode()
    ).hexdigest()
    return await registry.register_model(
        registry.ModelIn(
            name=name, task="recommendation", kind="item_similarity", spec=spec,
            features=sorted(spec["products"]), data_fingerprint=digest,
            metrics={"customers": float(spec["customers"]),
                     "products": float(len(spec["products"]))},
            description=f"产品推荐：{as_of.isoformat()} 前开立的持有关系，协同过滤",
        )
    )  # fmt: skip
