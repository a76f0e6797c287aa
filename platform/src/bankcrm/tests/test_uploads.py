"""Parsing in a limited child: whatever the parser does, the caller gets a 422."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bankcrm import uploads
from bankcrm.web.problems import Problem

LIMITS = uploads.ParseLimits(
    memory_bytes=512 << 20, cpu_seconds=20, max_uncompressed_bytes=32 << 20, max_ratio=100
)


def counting(count: int) -> Iterator[int]:
    yield from range(count)


def hoarding() -> Iterator[int]:
    yield 1
    hoard = []
    while True:
        hoard.append(bytearray(64 << 20))


def aborting() -> Iterator[int]:
    yield 1
    os.abort()


def refusing() -> Iterator[int]:
    yield 1
    raise Problem(422, "row 7: bad", code="bad_file")


def test_items_come_back_in_order() -> None:
    assert list(uploads.isolated(counting, 25_000, limits=LIMITS)) == list(range(25_000))


@pytest.mark.parametrize(
    ("producer", "message"),
    [
        (hoarding, "more memory to read than an upload may use"),
        (aborting, "the reader stopped: SIGABRT"),
        (refusing, "row 7: bad"),
    ],
)
def test_a_failing_parser_is_a_422(producer: object, message: str) -> None:
    items = uploads.isolated(producer, limits=LIMITS)  # type: ignore[arg-type]
    assert next(items) == 1
    with pytest.raises(Problem) as refused:
        list(items)
    assert refused.value.status == 422
    assert message in refused.value.detail
    assert refused.value.errors[0].field == "body.file"


def test_closing_early_stops_the_child() -> None:
    items = uploads.isolated(counting, 10**9, limits=LIMITS)
    assert next(items) == 0
    items.close()  # would take minutes to finish if the child were left running


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in members.items():
            package.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


def test_zip_bombs_are_refused_from_the_directory(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.xlsx", {"a.xml": b"\0" * (8 << 20)})
    with pytest.raises(Problem, match="decompression bomb"):
        uploads.check_zip(bomb, LIMITS)
    large = _zip(tmp_path / "large.xlsx", {f"{i}.bin": os.urandom(1 << 20) for i in range(40)})
    with pytest.raises(Problem, match="expands to"):
        uploads.check_zip(large, LIMITS)
    fine = _zip(tmp_path / "fine.xlsx", {"a.xml": b"<x/>" * 1000})
    uploads.check_zip(fine, LIMITS)
