"""The duplicate-detection model: blocking rules, comparisons, trained parameters, scoring.

A Fellegi-Sunter model run by splink on DuckDB. The parameters (m and u probabilities of
every comparison level) were estimated ONCE from a generated, labelled corpus
(:mod:`.train`, from :mod:`.corpus`) and ship in ``model/`` with the package, versioned:
production only scores (``predict``), it never trains, so a run is deterministic and the
same pair gets the same probability in every branch and on every night.

Blocking decides which pairs are compared at all; each rule is an equality join DuckDB
runs as a hash join, so cost grows with the number of candidate pairs, not with n²:

======  ==============================================================================
id      same ID-number hash (the same document registered twice, e.g. in two branches)
phone   same phone number
dob     same birth date and the same first two pinyin letters (typos, new phone, new ID)
pinyin  same full pinyin and birth year (homophones, pinyin-vs-characters, day/month swap)
email   same e-mail address
corp    same company name (simplified characters), corporate customers only
area    same district, birth year and first two pinyin letters (moved phone and e-mail)
======  ==============================================================================

Every rule also requires the same customer kind. The comparisons are listed in
:func:`comparisons`; each pair's reasons are the comparison levels it reached with their
match weights (log2 Bayes factors), strongest evidence first.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

log = logging.getLogger(__name__)

MODEL_VERSION = "customer-dedupe-v1"
MODEL_DIR = Path(__file__).parent / "model"
MODEL_PATH = MODEL_DIR / "customer_dedupe_v1.json"
MODEL_META_PATH = MODEL_DIR / "customer_dedupe_v1.meta.json"

DEFAULT_THRESHOLD = 0.8
"""Pairs at or above this match probability enter the review queue."""
DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_THREADS = 2

BLOCKING_RULES: dict[str, str] = {
    "id": "l.id_hash = r.id_hash",
    "phone": "l.phone = r.phone",
    "dob": "l.birth_date = r.birth_date AND l.pinyin_head = r.pinyin_head",
    "pinyin": "l.name_pinyin = r.name_pinyin AND l.birth_year = r.birth_year",
    "email": "l.email = r.email",
    "corp": "l.name_norm = r.name_norm AND l.kind = 'corporate'",
    "area": "l.district = r.district AND l.birth_year = r.birth_year"
    " AND l.pinyin_head = r.pinyin_head",
}


def blocking_rules(*, only_new: bool) -> list[dict[str, str]]:
    """The rules as splink takes them; ``only_new`` keeps pairs with a new customer."""
    suffix = " AND l.kind = r.kind" + (" AND (l.is_new OR r.is_new)" if only_new else "")
    return [
        {"blocking_rule": rule + suffix, "sql_dialect": "duckdb"}
        for rule in BLOCKING_RULES.values()
    ]


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(*columns: str) -> dict[str, Any]:
    sql = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)
    return _level(sql, "missing", is_null_level=True)


_ELSE = _level("ELSE", "different")


def comparisons() -> list[dict[str, Any]]:
    """The comparisons, each a list of levels from the strongest agreement down."""
    return [
        {
            "output_column_name": "name",
            "comparison_description": "name: characters (simplified), pinyin, spelling",
            "comparison_levels": [
                _null("name_norm"),
                _level("name_norm_l = name_norm_r", "same name",
                       tf_adjustment_column="name_norm", tf_adjustment_weight=1.0),
                _level("name_pinyin_l = name_pinyin_r", "same pinyin",
                       tf_adjustment_column="name_pinyin", tf_adjustment_weight=1.0),
                _level("jaro_winkler_similarity(name_pinyin_l, name_pinyin_r) >= 0.92",
                       "pinyin nearly the same"),
                _level("jaro_winkler_similarity(name_pinyin_l, name_pinyin_r) >= 0.8",
                       "pinyin similar"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "id_number",
            "comparison_description": "ID number (keyed hash)",
            "comparison_levels": [_null("id_hash"), _level("id_hash_l = id_hash_r", "same ID"),
                                  _ELSE],
        },
        {
            "output_column_name": "birth_date",
            "comparison_description": "birth date",
            "comparison_levels": [
                _null("birth_date"),
                _level("birth_date_l = birth_date_r", "same birth date"),
                _level("birth_year_l = birth_year_r AND month(birth_date_l) = day(birth_date_r)"
                       " AND day(birth_date_l) = month(birth_date_r)", "day and month swapped"),
                _level("levenshtein(strftime(birth_date_l, '%Y%m%d'),"
                       " strftime(birth_date_r, '%Y%m%d')) <= 1", "one digit differs"),
                _level("birth_year_l = birth_year_r", "same birth year"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "gender",
            "comparison_description": "gender",
            "comparison_levels": [_null("gender"), _level("gender_l = gender_r", "same gender"),
                                  _ELSE],
        },
        {
            "output_column_name": "phone",
            "comparison_description": "phone number",
            "comparison_levels": [
                _null("phone"),
                _level("phone_l = phone_r", "same phone"),
                _level("levenshtein(phone_l, phone_r) <= 1", "phone differs in one digit"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "email",
            "comparison_description": "e-mail address",
            "comparison_levels": [
                _null("email"),
                _level("email_l = email_r", "same e-mail"),
                _level("split_part(email_l, '@', 1) = split_part(email_r, '@', 1)",
                       "same mailbox name"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "address",
            "comparison_description": "primary address (normalised)",
            "comparison_levels": [
                _null("address_norm"),
                _level("address_norm_l = address_norm_r", "same address"),
                _level("jaro_winkler_similarity(address_norm_l, address_norm_r) >= 0.9",
                       "address nearly the same"),
                _level("district_l = district_r", "same district"),
                _ELSE,
            ],
        },
    ]  # fmt: skip


def untrained_settings(*, only_new: bool = False) -> dict[str, Any]:
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1e-5,
        "blocking_rules_to_generate_predictions": blocking_rules(only_new=only_new),
        "comparisons": comparisons(),
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": [],
    }


@functools.cache
def _trained() -> tuple[dict[str, Any], dict[str, Any]]:
    model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    meta = json.loads(MODEL_META_PATH.read_text(encoding="utf-8"))
    if meta.get("version") != MODEL_VERSION:
        raise RuntimeError(f"{MODEL_META_PATH} is not {MODEL_VERSION}; regenerate the model")
    return model, meta


def reload_trained_model() -> None:
    """Read the shipped model again at its next use (after :mod:`.train` rewrote it)."""
    _trained.cache_clear()


def prior_for(records: int, meta: dict[str, Any]) -> float:
    """λ, the probability that two random records match, for ``records`` customers.

    Trained on a corpus of ``meta["records"]``; with a constant share of customers that
    have a duplicate, the number of matching pairs grows like n while all pairs grow like
    n², so λ scales with 1/(n-1).
    """
    trained_records = int(meta["records"])
    trained_prior = float(meta["prior"])
    scaled = trained_prior * (trained_records - 1) / max(records - 1, 1)
    return min(max(scaled, 1e-9), 0.5)


def trained_settings(records: int, *, only_new: bool) -> dict[str, Any]:
    model, meta = _trained()
    settings = copy.deepcopy(model)
    settings["probability_two_random_records_match"] = prior_for(records, meta)
    settings["blocking_rules_to_generate_predictions"] = blocking_rules(only_new=only_new)
    return settings


@dataclass(frozen=True)
class Reason:
    comparison: str
    level: str
    weight: float
    """Match weight of this comparison (log2 of its Bayes factor, term frequency included)."""


@dataclass(frozen=True)
class ScoredPair:
    left_id: int
    right_id: int
    probability: float
    match_weight: float
    reasons: tuple[Reason, ...]
    blocked_by: str = ""
    """The first blocking rule (:data:`BLOCKING_RULES`) that proposed the pair."""


def _level_weights(settings: dict[str, Any]) -> dict[str, list[tuple[float, str]]]:
    """(match weight, label) of each non-null level: splink 5 reports a pair's per-comparison
    weight (``mw_<name>``) but not the level, and the trained weights tell levels apart."""
    weights: dict[str, list[tuple[float, str]]] = {}
    for comparison in settings["comparisons"]:
        found = []
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            if m and u:
                found.append((math.log2(float(m) / float(u)), level["label_for_charts"]))
        weights[comparison["output_column_name"]] = found
    return weights


def _label(levels: list[tuple[float, str]], weight: float) -> str:
    if not levels:
        return ""
    return min(levels, key=lambda level: abs(level[0] - weight))[1]


def _tf_columns(settings: dict[str, Any]) -> set[str]:
    return {
        comparison["output_column_name"]
        for comparison in settings["comparisons"]
        if any(lv.get("tf_adjustment_column") for lv in comparison["comparison_levels"])
    }


def connect_duckdb(memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int = DEFAULT_THREADS) -> Any:
    import duckdb

    connection = duckdb.connect()
    connection.execute(f"SET threads = {int(threads)}")
    connection.execute("SET memory_limit = ?", [memory_limit])
    connection.execute("SET enable_progress_bar = false")
    connection.execute("SET preserve_insertion_order = false")
    connection.execute("SET temp_directory = ?", [tempfile.gettempdir() + "/bankcrm-dedupe"])
    return connection


def score(
    features: pa.Table,
    *,
    only_new: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    settings: dict[str, Any] | None = None,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    threads: int = DEFAULT_THREADS,
) -> list[ScoredPair]:
    """Candidate pairs of ``features`` (:func:`.features.feature_table`) at or above
    ``threshold``, with their reasons; customer ids smaller first.

    Runs synchronously (seconds to minutes): call it in a worker thread from async code.
    """
    from splink import DuckDBAPI, Linker

    if features.num_rows < 2:
        return []
    if settings is None:
        settings = trained_settings(features.num_rows, only_new=only_new)
    connection = connect_duckdb(memory_limit, threads)
    try:
        api = DuckDBAPI(connection)
        linker = Linker(
            api.register(features, dataset_display_name="customers"), settings, log_level=None
        )
        predictions = linker.inference.predict(
            threshold_match_probability=threshold, warning_mode="never"
        )
        return _pairs(connection, predictions.physical_name, settings)
    finally:
        connection.close()


def _pairs(connection: Any, table: str, settings: dict[str, Any]) -> list[ScoredPair]:
    levels = _level_weights(settings)
    with_tf = _tf_columns(settings)
    rules = list(BLOCKING_RULES)
    names = list(levels)
    columns = ["unique_id_l", "unique_id_r", "match_probability", "match_weight", "match_key"]
    columns += [f"mw_{name}" for name in names]
    columns += [f"mw_tf_adj_{name}" for name in names if name in with_tf]
    rows = connection.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
    pairs = []
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        reasons = []
        for name in names:
            weight = float(values[f"mw_{name}"] or 0.0)
            if weight == 0.0:
                continue  # the null level: one side lacks the value
            label = _label(levels[name], weight)
            weight += float(values.get(f"mw_tf_adj_{name}") or 0.0)
            reasons.append(Reason(name, label, round(weight, 2)))
        reasons.sort(key=lambda reason: -reason.weight)
        key = int(values["match_key"])
        left, right = int(values["unique_id_l"]), int(values["unique_id_r"])
        pairs.append(
            ScoredPair(
                min(left, right),
                max(left, right),
                float(values["match_probability"]),
                float(values["match_weight"]),
                tuple(reasons),
                rules[key] if 0 <= key < len(rules) else "",
            )
        )
    return pairs


def reasons_json(reasons: Sequence[Reason]) -> list[dict[str, Any]]:
    return [{"comparison": r.comparison, "level": r.level, "weight": r.weight} for r in reasons]
