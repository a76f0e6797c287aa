"""The shipped model finds planted duplicates and leaves look-alikes alone (no database)."""

from datetime import date
from typing import Any

from bankcrm_customer_archive.dedupe import linkage
from bankcrm_customer_archive.dedupe.corpus import Corpus, generate_corpus, id_hash
from bankcrm_customer_archive.dedupe.features import feature_table, normalise_name
from bankcrm_customer_archive.dedupe.train import quality
from bankcrm_customer_archive.names import pinyin_keys


def _person(corpus: Corpus, cluster: int, name: str, **values: Any) -> int:
    record: dict[str, Any] = {
        "kind": "individual",
        "name": name,
        "name_pinyin": pinyin_keys(name, individual=True)[0],
        "gender": "F",
        "birth_date": date(1985, 3, 9),
        "id_number_hash": id_hash(f"id-{cluster}"),
        "phone": f"1380000{cluster:04d}",
        "email": None,
        "province": "北京市",
        "city": "北京市",
        "district": "海淀区",
        "street": f"学院路{cluster}号",
    }
    record.update(values)
    corpus.add(cluster, "", **record)
    return len(corpus)


def test_traditional_folds_to_simplified() -> None:
    assert normalise_name("王 國華") == normalise_name("王国华") == "王国华"
    assert normalise_name("Wang Xiuying") == "wangxiuying"


def test_planted_duplicates_found_and_look_alikes_not() -> None:
    corpus = Corpus()
    # Background population, so the model's prior and name frequencies are realistic.
    base = generate_corpus(600, seed=5, duplicate_share=0, relative_share=0)
    for i in range(len(base)):
        corpus.add(10_000 + i, "", **{k: v[i] for k, v in base.columns.items()})
    a = _person(corpus, 1, "王秀英")
    a_pinyin = _person(corpus, 1, "Wang Xiuying", phone="13999990000")
    b = _person(corpus, 2, "陈国华")
    b_traditional = _person(corpus, 2, "陳國華", id_number_hash=id_hash("typo"))
    c = _person(corpus, 3, "刘婷婷", birth_date=date(1990, 4, 7))
    c_swapped = _person(corpus, 3, "刘婷婷", birth_date=date(1990, 7, 4), phone=None)
    d = _person(corpus, 4, "赵雪梅")
    d_typo = _person(corpus, 4, "Zhao Xuemie", phone="13711112222", email="zxm@163.com")
    e = _person(corpus, 5, "孙丽娟")
    e_homophone = _person(corpus, 5, "孙丽鹃", phone="13622223333")
    # The same common name and district, but another person: no shared identifiers.
    f = _person(corpus, 6, "王伟", gender="M", birth_date=date(1980, 1, 1))
    g = _person(corpus, 7, "王伟", gender="M", birth_date=date(1992, 11, 23))
    # A spouse: same address and phone, another name, ID, birth date and gender. (Twins,
    # who also share the birth date, do reach the queue: a reviewer sees the IDs differ.)
    h = _person(corpus, 8, "周明", gender="M")
    h_spouse = _person(corpus, 9, "李芳", birth_date=date(1987, 5, 2), phone="13800000008",
                       street="学院路8号")  # fmt: skip

    pairs = linkage.score(feature_table(corpus.columns), threshold=0.01)
    found = {(p.left_id, p.right_id): p for p in pairs}
    for left, right in [(a, a_pinyin), (b, b_traditional), (c, c_swapped), (d, d_typo),
                        (e, e_homophone)]:  # fmt: skip
        assert (left, right) in found, (left, right)
        assert found[(left, right)].probability >= linkage.DEFAULT_THRESHOLD
    assert (f, g) not in found or found[(f, g)].probability < 0.5
    assert (h, h_spouse) not in found or found[(h, h_spouse)].probability < 0.5
    # Reasons: which comparisons matched, strongest first.
    reasons = found[(a, a_pinyin)].reasons
    assert reasons[0].weight >= reasons[-1].weight
    assert {(r.comparison, r.level) for r in reasons} >= {
        ("name", "same pinyin"),
        ("id_number", "same ID"),
        ("birth_date", "same birth date"),
    }
    assert ("phone", "different") in {(r.comparison, r.level) for r in reasons}


def test_generated_corpus_precision_and_recall() -> None:
    corpus = generate_corpus(3000, seed=99)
    pairs = linkage.score(feature_table(corpus.columns))
    measured = quality(corpus, pairs, linkage.DEFAULT_THRESHOLD)
    assert measured.true_pairs > 200
    assert measured.recall >= 0.95, measured
    assert measured.precision >= 0.9, measured


def test_only_new_customers_are_checked() -> None:
    corpus = generate_corpus(1500, seed=42)
    everything = linkage.score(feature_table(corpus.columns))
    new = frozenset(corpus.columns["id"][-200:])
    batch = linkage.score(feature_table(corpus.columns, new), only_new=True)
    assert batch
    assert all(p.left_id in new or p.right_id in new for p in batch)
    expected = {(p.left_id, p.right_id) for p in everything if {p.left_id, p.right_id} & new}
    assert {(p.left_id, p.right_id) for p in batch} >= {
        pair for pair in expected if pair in {(q.left_id, q.right_id) for q in batch}
    }
    assert len(batch) >= 0.9 * len(expected)
