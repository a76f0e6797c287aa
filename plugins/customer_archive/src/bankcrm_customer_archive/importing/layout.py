"""Where the table starts and ends in an exported file.

Reports from core systems put a title above the header (``客户信息表``, ``导出日期：
2024-01-05``) and a total below the rows (``合计：1000户``). The header is the first of
the first :data:`HEADER_SEARCH_ROWS` lines that names the required fields (the lines
above it are skipped; the batch's audit row counts them); a line whose only text starts
like a total or a signature is not a customer and is left out instead of becoming a row
error.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping

from bankcrm.tabular import Cell, Rows, as_text
from bankcrm.web.problems import Problem
from bankcrm_customer_archive.importing.mapping import ColumnMapping, resolve

HEADER_SEARCH_ROWS = 5
_FOOTER = re.compile(r"^(合计|总计|小计|共计|制表|打印|复核|审核|导出|数据日期|报表日期|备注[:：])")


def _is_footer(cells: list[Cell]) -> bool:
    texts = [t for t in (as_text(c) for c in cells) if t]
    return len(texts) == 1 and bool(_FOOTER.match(texts[0]))


def _without_footers(
    chunks: Iterator[list[tuple[int, list[Cell]]]],
) -> Iterator[list[tuple[int, list[Cell]]]]:
    for chunk in chunks:
        kept = [(line, cells) for line, cells in chunk if not _is_footer(cells)]
        if kept:
            yield kept


def map_columns(
    kind: str,
    rows: Rows,
    saved: Mapping[str, str] | None = None,
    explicit: Mapping[str, str] | None = None,
) -> tuple[ColumnMapping, int]:
    """The mapping of the file's header, and how many title lines stood above it (the
    rows' chunks then start after the header). Raises the first line's mapping problem
    when no line near the top names the required fields."""
    try:
        mapping = resolve(kind, rows.headers, saved, explicit)
    except Problem as first_problem:
        first: list[tuple[int, list[Cell]]] = next(rows.chunks, [])
        for position, (_, cells) in enumerate(first[:HEADER_SEARCH_ROWS]):
            headers = [as_text(c) for c in cells]
            while headers and not headers[-1]:
                headers.pop()
            try:
                mapping = resolve(kind, headers, saved, explicit)
            except Problem:
                continue
            rows.headers = headers
            rows.chunks = itertools.chain([first[position + 1 :]], rows.chunks)
            rows.chunks = _without_footers(rows.chunks)
            return mapping, position + 1
        raise first_problem from None
    rows.chunks = _without_footers(rows.chunks)
    return mapping, 0
