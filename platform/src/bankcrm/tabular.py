"""Reading an uploaded file: what it is, whether it can be trusted, and its rows in chunks.

Every refusal is a :class:`~bankcrm.web.problems.Problem` (422, or 413 for size) naming
the problem, raised before or while rows are staged; the caller's transaction then rolls
back, so a refused file leaves no batch behind.

CSV: the encoding is detected (UTF-8 with or without BOM, else GB18030, a superset of
GBK and GB2312) and a line that does not decode is named; the delimiter is the one of
``, ; TAB |`` the header line uses most. ``.xlsx``: read with calamine (Rust); password
protection (an OLE2 container with an ``EncryptionInfo`` stream), legacy ``.xls``,
damaged zips, formulas and merged cells are found from the container and the sheet XML
before any row is read. Formulas are refused rather than their cached values imported:
a computed value is not what the source system holds, and formulas are also the vehicle
of spreadsheet injection.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast
from xml.etree import ElementTree

from bankcrm import uploads
from bankcrm.text import UNSAFE_CHARACTERS
from bankcrm.web.problems import Problem

MAX_ROWS = 1_000_000
MAX_COLUMNS = 256
MAX_CELLS = 40_000_000
"""The reader holds a sheet as rows × columns from the first cell to the last one used:
one cell at XFD1000000 is 16 billion cells, however small the file."""
CHUNK_ROWS = 10_000
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_SAMPLE_BYTES = 256 * 1024
_DELIMITERS = (",", "\t", ";", "|")
_XML_CHUNK = 1 << 20
_XML_PART_LIMIT = 4 << 20
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REF = re.compile(rb'<(?:\w+:)?c\s[^>]*?r="([A-Z]+[0-9]+)"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z0-9:]+)"')
_WIDE_CELL = re.compile(rb'\sr="([A-Z]{2,})[0-9]+"')
_ROW_NUMBER = re.compile(rb'<(?:\w+:)?(?:row|c)\s[^>]*?r="[A-Z]*([0-9]+)"')
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

Cell = str | float | int | bool | date | datetime | time | timedelta | None


def refuse(message: str, status: int = 422, code: str = "bad_file") -> Problem:
    return Problem(status, message, code=code)


@dataclass
class FileFacts:
    file_format: str  # "csv" | "xlsx"
    encoding: str = ""
    delimiter: str = ""
    sheet_name: str = ""
    sheet_xml: str = ""


@dataclass
class Rows:
    """The header and an iterator of ``(row number, cells)`` chunks of a checked file."""

    facts: FileFacts
    headers: list[str]
    chunks: Iterator[list[tuple[int, list[Cell]]]]
    closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in self.closers:
            closer.close()


def inspect_file(path: Path, file_name: str) -> FileFacts:
    """Decide the format and refuse files that cannot be imported (no row is read)."""
    size = path.stat().st_size
    if size == 0:
        raise refuse("the file is empty")
    with path.open("rb") as handle:
        head = handle.read(8)
    suffix = Path(file_name).suffix.lower()
    if head == OLE2_MAGIC:
        if _ole2_has_stream(path, "EncryptionInfo"):
            raise refuse(
                "the workbook is password-protected (encrypted): remove the password in Excel"
                " and upload it again",
                code="encrypted_workbook",
            )
        raise refuse(
            "this is a legacy Excel 97-2003 (.xls) workbook: save it as .xlsx or .csv",
            code="legacy_xls",
        )
    if head.startswith(ZIP_MAGIC) or suffix in (".xlsx", ".xlsm"):
        facts = FileFacts("xlsx")
        _check_workbook(path, facts)
        return facts
    if suffix == ".xls":
        raise refuse("a .xls file must be an Excel 97-2003 workbook; this one is not readable")
    if suffix not in ("", ".csv", ".txt", ".tsv"):
        raise refuse(f"unsupported file type {suffix!r}: upload .xlsx or .csv", 415)
    encoding = detect_encoding(path)
    return FileFacts("csv", encoding=encoding)


def _ole2_has_stream(path: Path, name: str) -> bool:
    # The compound file's directory holds stream names in UTF-16LE; scanning the file for
    # the name is enough to tell an encrypted OOXML package (EncryptionInfo and
    # EncryptedPackage streams) from a legacy workbook (a Workbook stream).
    needle = name.encode("utf-16-le")
    with path.open("rb") as handle:
        previous = b""
        while chunk := handle.read(1 << 20):
            if needle in previous[-len(needle) :] + chunk:
                return True
            previous = chunk
    return False


def _check_workbook(path: Path, facts: FileFacts) -> None:
    uploads.check_zip(path)
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
            if "xl/workbook.xml" not in names:
                raise refuse("the file is a zip archive but not an Excel workbook (.xlsx)")
            facts.sheet_name, facts.sheet_xml = _first_sheet(package)
            if facts.sheet_xml not in names:
                raise refuse("the workbook is damaged: its first sheet is missing")
            _scan_sheet(package, facts.sheet_xml, facts.sheet_name)
    except zipfile.BadZipFile as exc:
        raise refuse(
            f"the workbook is damaged or truncated (not a complete .xlsx zip package: {exc})",
            code="damaged_workbook",
        ) from exc
    except (
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ElementTree.ParseError,
        zlib.error,  # a damaged deflate stream inside a member
        NotImplementedError,  # a compression method zipfile does not read
        RuntimeError,  # an encrypted member
    ) as exc:
        raise refuse(f"the workbook is damaged: {exc}", code="damaged_workbook") from exc


def _small_member(package: zipfile.ZipFile, name: str) -> bytes:
    # The parts read as XML are a few kilobytes; a larger one is a zip bomb or damage.
    # (CPython's expat refuses external entities and bounds entity expansion.)
    with package.open(name) as member:
        data = member.read(_XML_PART_LIMIT + 1)
    if len(data) > _XML_PART_LIMIT:
        raise refuse(f"the workbook is damaged: {name} is implausibly large")
    return data


def _first_sheet(package: zipfile.ZipFile) -> tuple[str, str]:
    workbook = ElementTree.fromstring(_small_member(package, "xl/workbook.xml"))  # noqa: S314
    sheet = workbook.find(f"{_MAIN_NS}sheets/{_MAIN_NS}sheet")
    if sheet is None:
        raise refuse("the workbook has no sheet")
    rel_id = sheet.get(_REL_NS, "")
    rels = ElementTree.fromstring(_small_member(package, "xl/_rels/workbook.xml.rels"))  # noqa: S314
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            return sheet.get("name", ""), target
    raise refuse("the workbook is damaged: its first sheet cannot be found")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _scan_sheet(package: zipfile.ZipFile, member: str, sheet_name: str) -> None:
    """Refuse formulas and merged cells, naming the cells, and sheets whose used range is
    implausibly large (streamed, ~1 MB at a time; nothing is allocated per cell)."""
    formulas: list[str] = []
    merged: list[str] = []
    widest = 1
    last_row = 0
    tail = b""
    with package.open(member) as stream:
        while True:
            chunk = stream.read(_XML_CHUNK)
            if not chunk:
                break
            window = tail + chunk
            for match in _FORMULA.finditer(window):
                if match.start() < len(tail):
                    continue
                cells = _CELL_REF.findall(window, 0, match.start())
                if cells and len(formulas) < 10:
                    formulas.append(cells[-1].decode())
                elif not cells and len(formulas) < 10:
                    formulas.append("?")
            merged.extend(m.decode() for m in _MERGE.findall(window, len(tail)))
            for letters in set(_WIDE_CELL.findall(window, len(tail))):
                widest = max(widest, _column_number(letters))
            rows = _ROW_NUMBER.findall(window, max(0, len(window) - 4096))
            if rows:
                last_row = max(last_row, *(int(r) for r in rows))
            _check_extent(sheet_name, last_row, widest)
            # Keep enough of the end to see a tag cut in two and the cell it belongs to.
            tail = window[-512:]
    if formulas:
        raise refuse(
            f"sheet {sheet_name!r} contains formulas (first at {', '.join(formulas)}): a bank"
            " import takes values only. Copy the sheet and paste values, then upload again",
            code="formulas",
        )
    if merged:
        raise refuse(
            f"sheet {sheet_name!r} has merged cells ({', '.join(merged[:10])}): unmerge them"
            " so that every row has its own values",
            code="merged_cells",
        )


def _check_extent(sheet_name: str, last_row: int, widest: int) -> None:
    if widest > MAX_COLUMNS:
        raise refuse(
            f"sheet {sheet_name!r} uses column {widest:,}: an import takes at most"
            f" {MAX_COLUMNS} columns (delete the cells far to the right, or the whole empty"
            " columns, and upload again)",
            code="sheet_too_wide",
        )
    if last_row > MAX_ROWS + 1:
        raise refuse(f"the sheet has more than {MAX_ROWS:,} data rows", 413, "too_many")
    if last_row * widest > MAX_CELLS:
        raise refuse(
            f"sheet {sheet_name!r} spans {last_row:,} rows by {widest:,} columns: more than"
            f" the {MAX_CELLS:,} cells an import may read",
            code="sheet_too_large",
        )


def detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise refuse("the file is UTF-16 text: save it as UTF-8 CSV", code="encoding")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError as exc:
        before = sample[: exc.start]
        # GB18030 decodes nearly any bytes, so it is tried only when nothing before the
        # failure was UTF-8 text: Chinese UTF-8 followed by a GBK line is a mixed file.
        if any(byte >= 0x80 for byte in before):
            line = before.count(b"\n") + 1
            raise refuse(
                f"line {line} is not valid UTF-8 text while the lines"
                " before it are: the file mixes encodings; save it again as UTF-8 CSV",
                code="encoding",
            ) from exc
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        pass
    raise refuse(
        f"the file is neither UTF-8 nor GBK/GB18030 text (line {_bad_line(path, 'gb18030')}"
        " cannot be decoded)",
        code="encoding",
    )


def _bad_line(path: Path, encoding: str) -> int:
    """The first line (1-based) that does not decode in ``encoding``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                decoder.decode(line, final=False)
            except UnicodeDecodeError:
                return number
    return 0


def read_rows(path: Path, facts: FileFacts) -> Rows:
    """The file's header and row chunks, parsed in a limited child process (see
    :mod:`bankcrm.uploads`): a file that makes the parser abort is a 422, not a crash."""
    items = uploads.isolated(parse_rows, path, facts, MAX_ROWS, CHUNK_ROWS)
    try:
        kind, found, headers = next(items)
    except StopIteration:  # pragma: no cover - the child always sends the header first
        raise refuse("the file could not be read") from None
    assert kind == "head"
    # What the child learnt reading (the CSV delimiter) belongs to the caller's facts.
    for name in ("encoding", "delimiter", "sheet_name", "sheet_xml"):
        setattr(facts, name, getattr(found, name))
    chunks = (chunk for _, chunk in items)
    return Rows(facts, headers, chunks, [items])


def parse_rows(path: Path, facts: FileFacts, max_rows: int, chunk_rows: int) -> Iterator[Any]:
    """The header, then the chunks; :func:`read_rows` runs it in the limited child (the
    limits are passed from the parent, where settings or tests set them)."""
    global MAX_ROWS, CHUNK_ROWS
    MAX_ROWS, CHUNK_ROWS = max_rows, chunk_rows
    rows = _csv_rows(path, facts) if facts.file_format == "csv" else _xlsx_rows(path, facts)
    try:
        yield ("head", rows.facts, rows.headers)
        for chunk in rows.chunks:
            yield ("chunk", chunk)
    finally:
        rows.close()


def _header(cells: list[Cell]) -> list[str]:
    headers = ["" if c is None else str(c).strip() for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    for position, header in enumerate(headers, start=1):
        if UNSAFE_CHARACTERS.search(header):
            raise refuse(f"the header of column {position} contains a control character")
    return headers


def _csv_rows(path: Path, facts: FileFacts) -> Rows:
    handle = path.open("r", encoding=facts.encoding, errors="strict", newline="")
    try:
        first = handle.readline()
    except UnicodeDecodeError as exc:
        handle.close()
        raise _decode_problem(path, facts) from exc
    counts = {d: first.count(d) for d in _DELIMITERS}
    facts.delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    try:
        header_cells = next(csv.reader([first], delimiter=facts.delimiter), [])
    except csv.Error as exc:
        handle.close()
        raise refuse(f"line 1: malformed CSV header ({exc})") from exc
    headers = _header(cast(list[Cell], header_cells))
    if not headers:
        handle.close()
        raise refuse("the file has no header row")

    def chunks() -> Iterator[list[tuple[int, list[Cell]]]]:
        reader = csv.reader(handle, delimiter=facts.delimiter)
        chunk: list[tuple[int, list[Cell]]] = []
        count = 0
        try:
            for cells in reader:
                if not any(cells):
                    continue
                count += 1
                if count > MAX_ROWS:
                    raise refuse(f"the file has more than {MAX_ROWS:,} data rows", 413, "too_many")
                # line_num counts physical lines read; +1 for the header line.
                chunk.append((reader.line_num + 1, list(cells)))
                if len(chunk) >= CHUNK_ROWS:
                    yield chunk
                    chunk = []
        except UnicodeDecodeError as exc:
            raise _decode_problem(path, facts) from exc
        except csv.Error as exc:
            raise refuse(f"line {reader.line_num + 1}: malformed CSV ({exc})") from exc
        if chunk:
            yield chunk
        if count == 0:
            raise refuse("the file has a header row but no data rows", code="no_rows")

    return Rows(facts, headers, chunks(), [handle])


def _decode_problem(path: Path, facts: FileFacts) -> Problem:
    name = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "gb18030": "GBK/GB18030"}[facts.encoding]
    line = _bad_line(path, facts.encoding)
    return refuse(
        f"line {line} is not valid {name} text: the file mixes encodings or is damaged;"
        " save it again as UTF-8 CSV",
        code="encoding",
    )


def _xlsx_rows(path: Path, facts: FileFacts) -> Rows:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except CalamineError as exc:
        raise refuse(f"the workbook cannot be read: {exc}", code="damaged_workbook") from exc
    except Exception as exc:  # calamine raises plain errors for broken XML or zip members
        raise refuse(f"the workbook cannot be read: {exc}", code="damaged_workbook") from exc
    if sheet.total_height > MAX_ROWS + 1:
        workbook.close()
        raise refuse(f"the sheet has more than {MAX_ROWS:,} data rows", 413, "too_many")
    rows = iter(sheet.iter_rows())
    first_row = sheet.start[0] if sheet.start else 0
    header_cells = next(rows, None)
    if header_cells is None or not _header(cast(list[Cell], header_cells)):
        workbook.close()
        raise refuse(f"sheet {facts.sheet_name!r} is empty", code="empty_sheet")
    headers = _header(cast(list[Cell], header_cells))

    def chunks() -> Iterator[list[tuple[int, list[Cell]]]]:
        chunk: list[tuple[int, list[Cell]]] = []
        count = 0
        for offset, cells in enumerate(rows, start=first_row + 2):
            if not any(c not in (None, "") for c in cells):
                continue
            count += 1
            chunk.append((offset, cast(list[Cell], cells)))
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
        if count == 0:
            raise refuse(
                f"sheet {facts.sheet_name!r} has a header row but no data rows", code="no_rows"
            )

    return Rows(facts, headers, chunks(), [workbook])


def as_text(cell: Cell) -> str:
    """A cell as the text a person would read in it (numbers without a trailing .0)."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    if isinstance(cell, timedelta):
        return str(cell)
    return str(cell)


@dataclass
class Records:
    """A small file's rows as text by field: what loaders of reference data need."""

    rows: list[tuple[int, dict[str, str]]]
    """(line in the file, field -> text) for each data row."""
    header_of: dict[str, str]
    """field -> the header that named it in the file."""
    unknown: list[str]
    """Headers that named no field (ignored)."""


def read_records(
    path: Path,
    file_name: str,
    field_of: Callable[[str], str | None],
    required: Sequence[str],
    title_of: Callable[[str], str] = str,
) -> Records:
    """Every row of a checked CSV or xlsx file as text by field; ``field_of`` names the
    field of a header (synonyms, languages) or None. A required field without a column
    is a 422 naming it."""
    facts = inspect_file(path, file_name)
    rows = read_rows(path, facts)
    try:
        fields = [field_of(h) for h in rows.headers]
        header_of = {f: rows.headers[i] for i, f in enumerate(fields) if f}
        missing = [f for f in required if f not in header_of]
        if missing:
            names = ", ".join(title_of(f) for f in missing)
            raise refuse(f"the file has no column for {names}", code="missing_columns")

        def values(cells: list[Cell]) -> dict[str, str]:
            return {
                f: as_text(cells[i]) if i < len(cells) else "" for i, f in enumerate(fields) if f
            }

        found = [(line, values(cells)) for chunk in rows.chunks for line, cells in chunk]
        unknown = [h for h, f in zip(rows.headers, fields, strict=True) if f is None and h]
        return Records(found, header_of, unknown)
    finally:
        rows.close()


__all__ = [
    "MAX_ROWS",
    "Cell",
    "FileFacts",
    "Records",
    "Rows",
    "as_text",
    "inspect_file",
    "read_records",
    "read_rows",
]
