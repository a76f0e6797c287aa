"""Turn a pytest-benchmark JSON file into a dated Markdown table under benchmarks/results/.

    uv run pytest benchmarks --benchmark-only --benchmark-json /tmp/hot-paths.json
    uv run python benchmarks/report_hot_paths.py /tmp/hot-paths.json

Writes ``results/<date>-hot-paths.json`` (the file without the raw timings of every round,
which run to tens of megabytes) and ``results/<date>-hot-paths.md`` with the machine (CPU
model, cores, RAM, Python) and, per benchmark, median and mean time.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import psutil

RESULTS = Path(__file__).resolve().parent / "results"


def duration(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:,.2f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:,.2f} µs"
    return f"{seconds * 1e9:,.0f} ns"


def markdown(data: dict[str, Any]) -> str:
    machine = data["machine_info"]
    cpu = machine.get("cpu", {})
    commit = data.get("commit_info", {})
    lines = [
        f"# In-process hot paths ({data['datetime'][:10]})",
        "",
        f"- Machine: {cpu.get('brand_raw', machine.get('processor', '?'))}, "
        f"{cpu.get('count', '?')} logical cores, "
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM, {machine.get('system')} "
        f"{machine.get('release')}",
        f"- Python {machine.get('python_version')} ({machine.get('python_implementation')})",
        f"- Commit {commit.get('id', '?')[:7]}"
        + (" (with uncommitted changes)" if commit.get("dirty") else ""),
        "- Run: `uv run pytest benchmarks --benchmark-only`",
        "",
        "| benchmark | median | mean | rounds |",
        "|---|---:|---:|---:|",
    ]
    for bench in sorted(data["benchmarks"], key=lambda b: b["fullname"]):
        stats = bench["stats"]
        name = bench["fullname"].split("/")[-1]
        lines.append(
            f"| `{name}` | {duration(stats['median'])} | {duration(stats['mean'])} "
            f"| {stats['rounds']:,} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_file", type=Path)
    parser.add_argument("--topic", default="hot-paths")
    args = parser.parse_args()
    data = json.loads(args.json_file.read_text())
    stem = RESULTS / f"{data['datetime'][:10]}-{args.topic}"
    RESULTS.mkdir(exist_ok=True)
    for bench in data["benchmarks"]:
        bench["stats"].pop("data", None)
    stem.with_suffix(".json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    stem.with_suffix(".md").write_text(markdown(data))
    print(f"written: {stem.with_suffix('.md')} and .json")


if __name__ == "__main__":
    main()
