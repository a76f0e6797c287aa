"""Product recommendation: collaborative filtering over the archive's holdings.

"Customers who hold A also hold B", item to item: for each pair of products the share of
A's holders who also hold B (P(B | A)). A customer's score for a product they do not
hold combines what their products say about it as a noisy-or, ``1 − Π(1 − P(B | A))``
over the products A they hold — a probability-like number in ``[0, 1]`` whose strongest
term is the reason staff read ("持有 A 的客户中 62% 也持有 B"). A customer holding
nothing gets the most held products, with their share as the reason.

A model is the neighbour lists as data (``kind`` ``item_similarity``, task
``recommendation``), stored in the registry like every other model and approved before it
recommends anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

NEIGHBOURS = 20
"""Products kept per product: what a recommendation can draw on."""
MIN_SUPPORT = 5
"""Pairs held together by fewer customers say nothing."""


@dataclass(frozen=True)
class ProductRecommendation:
    """What marketing's ``marketing_recommendations`` hook reads."""

    product_code: str
    score: float
    reason_zh: str
    reason_en: str
    model: str


def fit(holdings: pd.DataFrame, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A model spec from ``holdings`` (columns ``customer``, ``product``: who holds what)."""
    pairs = holdings[["customer", "product"]].drop_duplicates()
    customers = pd.Index(pairs["customer"].unique())
    products = pd.Index(sorted(pairs["product"].unique()))
    matrix = sparse.csr_matrix(
        (
            np.ones(len(pairs), dtype=np.float32),
            (customers.get_indexer(pairs["customer"]), products.get_indexer(pairs["product"])),
        ),
        shape=(len(customers), len(products)),
    )
    together = (matrix.T @ matrix).toarray()
    held = np.diag(together).copy()
    neighbours: dict[str, list[list[Any]]] = {}
    for i, code in enumerate(products):
        conditional = np.where(together[i] >= MIN_SUPPORT, together[i] / max(held[i], 1), 0.0)
        conditional[i] = 0.0
        best = np.argsort(-conditional, kind="stable")[:NEIGHBOURS]
        neighbours[str(code)] = [
            [str(products[j]), round(float(conditional[j]), 4)] for j in best if conditional[j] > 0
        ]
    label = dict(names or {})
    return {
        "customers": len(customers),
        "products": {
            str(code): {
                "name": label.get(str(code), str(code)),
                "share": round(float(held[i]) / max(len(customers), 1), 4),
            }
            for i, code in enumerate(products)
        },
        "neighbours": neighbours,
    }


def recommend(
    spec: Mapping[str, Any], held: Iterable[str], limit: int, model: str
) -> list[ProductRecommendation]:
    """The best ``limit`` products a customer holding ``held`` does not hold yet."""
    owned = set(held)
    products: Mapping[str, Mapping[str, Any]] = spec["products"]
    miss: dict[str, float] = {}
    strongest: dict[str, tuple[float, str]] = {}
    for code in owned:
        for other, probability in spec["neighbours"].get(code, ()):
            if other in owned:
                continue
            miss[other] = miss.get(other, 1.0) * (1.0 - probability)
            if probability > strongest.get(other, (0.0, ""))[0]:
                strongest[other] = (probability, code)
    found: list[ProductRecommendation] = []
    for other, remaining in sorted(miss.items(), key=lambda item: (item[1], item[0])):
        probability, because = strongest[other]
        source, target = products[because]["name"], products[other]["name"]
        found.append(ProductRecommendation(
            other, round(1.0 - remaining, 4),
            f"持有「{source}」的客户中 {probability:.0%} 也持有「{target}」",
            f"{probability:.0%} of the holders of {because} also hold {other}",
            model,
        ))  # fmt: skip
    if len(found) < limit:
        chosen = {r.product_code for r in found} | owned
        popular = sorted(products.items(), key=lambda item: (-item[1]["share"], item[0]))
        for code, facts in popular:
            if len(found) >= limit:
                break
            if code in chosen:
                continue
            found.append(ProductRecommendation(
                code, round(float(facts["share"]), 4),
                f"本行最常持有的产品之一（{facts['share']:.0%} 的客户持有）",
                f"one of the bank's most held products ({facts['share']:.0%} of customers)",
                model,
            ))  # fmt: skip
    return found[:limit]


def most_popular(spec: Mapping[str, Any], held: Iterable[str], limit: int) -> list[str]:
    """The baseline: the most held products the customer does not hold."""
    owned = set(held)
    ranked = sorted(spec["products"].items(), key=lambda item: (-item[1]["share"], item[0]))
    return [code for code, _ in ranked if code not in owned][:limit]


def check_spec(spec: Mapping[str, Any]) -> str | None:
    """What is wrong with a recommendation spec (the JSON pointer's tail and why), or None."""
    products = spec.get("products")
    if not isinstance(products, dict) or not products:
        return "products"
    for code, facts in products.items():
        if not isinstance(facts, dict) or not isinstance(facts.get("share"), int | float):
            return f"products/{code}/share"
    neighbours = spec.get("neighbours")
    if not isinstance(neighbours, dict):
        return "neighbours"
    for code, listed in neighbours.items():
        if code not in products or not isinstance(listed, list):
            return f"neighbours/{code}"
        for i, entry in enumerate(listed):
            if (
                not isinstance(entry, list) or len(entry) != 2 or entry[0] not in products
                or not isinstance(entry[1], int | float) or not 0 <= entry[1] <= 1
            ):  # fmt: skip
                return f"neighbours/{code}/{i}"
    return None
