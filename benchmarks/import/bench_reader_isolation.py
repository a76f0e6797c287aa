"""Reading an upload in process versus in the limited child (bankcrm.uploads.isolated).

Same files, same reader code, same run: the ratio is the cost of isolation. Writes
results/<date>-import-isolation.md.

    uv run python benchmarks/import/bench_reader_isolation.py --rows 100000
"""

from __future__ import annotations

import argparse
import csv
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import openpyxl

from bankcrm_customer_archive.importing import reading

RESULTS = Path(__file__).resolve().parents[1] / "results"
HEADER = ["姓名", "身份证号", "手机号", "联系地址", "开户网点", "备注"]


def row(i: int) -> list[str]:
    return [f"客户{i}", f"11010819850614{i % 10000:04d}", f"1380000{i % 10000:04d}",
            f"北京市海淀区中关村大街{i % 300}号", "BJ-HD", "导入基准"]  # fmt: skip


def write_files(directory: Path, rows: int, xlsx_rows: int) -> tuple[Path, Path]:
    csv_path = directory / "bench.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(row(i) for i in range(rows))
    xlsx_path = directory / "bench.xlsx"
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for i in range(xlsx_rows):
        sheet.append(row(i))
    book.save(xlsx_path)
    return csv_path, xlsx_path


def in_process(path: Path) -> int:
    facts = reading.inspect_file(path, path.name)
    items = reading.parse_rows(path, facts, reading.MAX_ROWS, reading.CHUNK_ROWS)
    return sum(len(payload) for kind, *rest in items if kind == "chunk" for payload in rest)


def isolated(path: Path) -> int:
    facts = reading.inspect_file(path, path.name)
    rows = reading.read_rows(path, facts)
    try:
        return sum(len(chunk) for chunk in rows.chunks)
    finally:
        rows.close()


def timed(function: object, path: Path, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(path)  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as directory:
        csv_path, xlsx_path = write_files(Path(directory), options.rows, options.xlsx_rows)
        for label, path, count in (
            ("CSV", csv_path, options.rows),
            ("xlsx", xlsx_path, options.xlsx_rows),
        ):
            isolated(path)  # start the fork server once, as a running server has
            base = timed(in_process, path, options.repeats)
            child = timed(isolated, path, options.repeats)
            b, c = statistics.median(base), statistics.median(child)
            lines.append(f"| {label} | {count:,} | {b:.2f} s | {c:.2f} s | {c / b:.2f} |")
    now = datetime.now(UTC)
    text = "\n".join(
        [
            f"# Reading an upload in process vs in the limited child — {now:%Y-%m-%d %H:%M} UTC",
            "",
            f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, 2 cores, Python "
            f"{platform.python_version()}; median of {options.repeats} runs each, same files, "
            "same reader; the child's first start is excluded (a running server starts it once).",
            "",
            "| file | rows | in process | isolated child | ratio |",
            "|---|---|---|---|---|",
            *lines,
            "",
        ]
    )
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"{now:%Y-%m-%d}-import-isolation.md"
    target.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
