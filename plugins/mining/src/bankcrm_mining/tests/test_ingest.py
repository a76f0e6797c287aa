"""Cleaning against the declared schema, without a database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from bankcrm_mining.ingest import FileRefused, clean_transactions, map_headers, read_table

NOW = datetime(2026, 12, 4, 12, 0)


def frame(rows: list[list[str]], header: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=header, dtype=str)


def test_every_bad_row_gets_its_reason() -> None:
    header = ["流水号", "记账日期", "发生额", "借贷标志", "卡号", "币种"]
    rows = [
        ["T1", "2026-11-01", "¥1,200.50", "贷", "6222 0000", ""],
        ["T2", "2026年11月2日", "(300)", "", "62220000", "usd"],
        ["T3", "20261103", "abc", "借", "62220000", "CNY"],
        ["T1", "2026-11-04", "5", "贷", "62220000", "CNY"],
        ["T4", "2030-01-01", "5", "贷", "62220000", "CNY"],
        ["T5", "2026-11-05", "５０", "出", "62220000", "CNY"],
        ["T6", "", "5", "贷", "62220000", "CNY"],
        ["T7", "2026-11-06", "5", "maybe", "62220000", "CNY"],
        ["T8", "2026-11-06", "5e13", "贷", "62220000", "CNY"],
        ["T9", "2026-11-06", "5", "贷", "62220000", "元"],
        ["", "2026-11-06", "5", "贷", "62220000", "CNY"],
    ]
    cleaned = clean_transactions(frame(rows, header), NOW)
    assert [(r.row, r.reason, r.column) for r in cleaned.rejected] == [
        (3, "bad_amount", "amount"),
        (4, "duplicate", "txn_id"),
        (5, "future", "booked_at"),
        (7, "missing", "booked_at"),
        (8, "bad_direction", "direction"),
        (9, "outlier", "amount"),
        (10, "bad_currency", "currency"),
        (11, "missing", "txn_id"),
    ]
    good = cleaned.frame
    assert good["txn_id"].tolist() == ["T1", "T2", "T5"]
    assert good["amount"].tolist() == [1200.5, -300.0, -50.0]
    assert good["currency"].tolist() == ["CNY", "USD", "CNY"]
    assert good["account_no"].tolist() == ["62220000"] * 3
    assert good["booked_at"].dt.day.tolist() == [1, 2, 5]


def test_headers_refuse_what_cannot_be_loaded() -> None:
    with pytest.raises(FileRefused, match="amount"):
        map_headers(["txn_id", "booked_at", "phone"])
    with pytest.raises(FileRefused, match="links"):
        map_headers(["txn_id", "booked_at", "amount"])
    with pytest.raises(FileRefused, match="both"):
        map_headers(["txn_id", "booked_at", "amount", "phone", "手机号码"])
    mapping, ignored = map_headers(["Transaction ID", "DATE", "金额", "ID_No", "memo"])
    assert mapping == {"txn_id": "Transaction ID", "booked_at": "DATE", "amount": "金额",
                       "id_number": "ID_No"}  # fmt: skip
    assert ignored == ["memo"]


def test_files_are_read_in_their_encoding(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("流水号;交易日期;金额;手机号\nG1;2026-09-03;7;13800000001\n".encode("gbk"))
    table = read_table(path, "gbk.csv")
    assert list(table.columns) == ["流水号", "交易日期", "金额", "手机号"]
    with pytest.raises(FileRefused, match=r"only \.csv and \.parquet"):
        read_table(path, "gbk.xlsx")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileRefused):
        read_table(empty, "empty.csv")
