"""FAQ matching latency: one question against 1,624 and against 10,000 articles.

    uv run python benchmarks/service/bench_faq_latency.py [path/to/esun_faq.json]

The knowledge base is the E.SUN Bank FAQ of the shared data sets (617 topics, 1,624
question/answer pairs, Traditional Chinese, read as Simplified by the matcher), then the
same pairs repeated with a number in each question up to 10,000 articles. Questions:
paraphrases written for this run, Chinese and English. Same code path as the ticket
suggestions and the public self-service (:class:`bankcrm_service.faq_match.FaqIndex`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bankcrm_service.faq_match import Entry, FaqIndex

DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "esun_faq.json"
QUESTIONS = (
    "跨境扫码支付是什么", "我的信用卡丢了怎么办", "怎么修改网银密码", "外币汇款手续费多少",
    "今天天气怎么样", "how do I reset my password", "股票怎么买", "信用卡帐单没收到",
    "网络ATM需要什么读卡机", "北海道提款手续费怎么算",
)  # fmt: skip


def load(path: Path) -> list[Entry]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    entries: list[Entry] = []
    for pairs in raw.values():
        for pair in pairs:
            answer = " ".join(pair["answers"])
            entries.append(Entry(len(entries) + 1, pair["question"], "", answer))
    return entries


def measure(entries: list[Entry]) -> dict[str, float]:
    started = time.perf_counter()
    index = FaqIndex(entries)
    build = time.perf_counter() - started
    for question in QUESTIONS:
        index.search(question)  # warm
    timings = []
    for _ in range(30):
        for question in QUESTIONS:
            t0 = time.perf_counter()
            index.search(question)
            timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    return {
        "articles": len(entries),
        "build_seconds": round(build, 2),
        "p50_ms": round(timings[len(timings) // 2], 2),
        "p99_ms": round(timings[int(len(timings) * 0.99)], 2),
    }


def main() -> None:
    base = load(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
    grown = [
        Entry(i + 1, f"{e.question} {i // len(base)}", e.keywords, e.answer)
        for i, e in enumerate((base * (10_000 // len(base) + 1))[:10_000])
    ]
    print(json.dumps([measure(base), measure(grown)], indent=2))


if __name__ == "__main__":
    main()
