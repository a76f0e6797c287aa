"""The upload parsers, fuzzed: whatever bytes arrive, the answer is rows or a 4xx problem
naming what is wrong — never another exception, never a hang.

CSV runs in this process (the parser is pure Python); damaged workbooks go through
:func:`bankcrm.tabular.read_rows`, the limited child process uploads use in production,
since the Rust reader underneath may abort on a damaged file.
"""

from __future__ import annotations

import datetime
import io
import tempfile
from pathlib import Path

import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bankcrm import tabular
from bankcrm.web.problems import Problem

CELL_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\n\n"])
DELIMITERS = st.sampled_from([",", ";", "\t", "|", ",,"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"])


def refused_as_client_error(problem: Problem) -> None:
    assert 400 <= problem.status < 500, problem
    assert problem.detail


def read_all_csv(data: bytes, file_name: str = "upload.csv") -> None:
    """Parse ``data`` as an upload would; a :class:`Problem` must be a client error."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / file_name
        path.write_bytes(data)
        try:
            facts = tabular.inspect_file(path, file_name)
            # parse_rows sets the module's limits (it runs in the upload child): pass the
            # current ones, so later tests in this process keep theirs.
            for _ in tabular.parse_rows(path, facts, tabular.MAX_ROWS, tabular.CHUNK_ROWS):
                pass
        except Problem as problem:
            refused_as_client_error(problem)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    delimiter = draw(DELIMITERS)
    line_end = draw(LINE_ENDS)
    rows = draw(st.lists(st.lists(CELL_TEXT, max_size=6), max_size=8))
    quote = draw(st.booleans())
    lines = [delimiter.join(f'"{cell}"' if quote else cell for cell in row) for row in rows]
    text = line_end.join(lines)
    encoding = draw(ENCODINGS)
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2048))
@example(data=b"")
@example(data=b"\xef\xbb\xbf")
@example(data=b"name,phone\n\x00\x00,\xff\xfe\n")
@example(data=b'"' + b"x" * 200_000 + b'"\nvalue\n')
@example(data=b'name\n"' + b"x" * 200_000 + b'"\n')
@example(data=b"\x1b[31mname\n1\n")
def test_any_bytes_as_csv_are_rows_or_a_client_error(data: bytes) -> None:
    read_all_csv(data)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=csv_files())
def test_csv_of_any_shape_and_encoding_is_rows_or_a_client_error(data: bytes) -> None:
    read_all_csv(data)


def workbook_bytes(rows: list[list[str | float]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    # A fixed creation time: the same rows give the same bytes, as the fuzzer needs.
    workbook.set_properties({"created": datetime.datetime(2026, 1, 1)})
    sheet = workbook.add_worksheet("客户")
    for row_number, row in enumerate(rows):
        for column, value in enumerate(row):
            sheet.write(row_number, column, value)
    workbook.close()
    return buffer.getvalue()


@st.composite
def damaged_workbooks(draw: st.DrawFn) -> bytes:
    rows = draw(
        st.lists(
            st.lists(st.one_of(CELL_TEXT, st.floats(allow_nan=False, allow_infinity=False)),
                     min_size=1, max_size=4),
            min_size=1, max_size=5,
        )
    )  # fmt: skip
    data = bytearray(workbook_bytes(rows))
    how = draw(st.sampled_from(["flip", "truncate", "splice", "intact"]))
    if how == "flip":
        for _ in range(draw(st.integers(1, 16))):
            position = draw(st.integers(0, len(data) - 1))
            data[position] ^= draw(st.integers(1, 255))
    elif how == "truncate":
        del data[draw(st.integers(4, len(data) - 1)) :]
    elif how == "splice":
        position = draw(st.integers(0, len(data)))
        data[position:position] = draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


@settings(max_examples=40, deadline=10_000, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged_workbooks())
def test_a_damaged_workbook_is_rows_or_a_client_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "upload.xlsx"
        path.write_bytes(data)
        try:
            facts = tabular.inspect_file(path, "upload.xlsx")
            rows = tabular.read_rows(path, facts)
            try:
                for _ in rows.chunks:
                    pass
            finally:
                rows.close()
        except Problem as problem:
            refused_as_client_error(problem)
