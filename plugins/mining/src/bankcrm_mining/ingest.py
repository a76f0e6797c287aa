"""Reading and cleaning a transactions file against its declared schema (no database).

A file is read whole (CSV in UTF-8, UTF-8 with BOM or GB18030; Parquet), its headers
mapped to the declared columns (English or Chinese names), and every row either cleaned
or rejected with a reason code. The file itself is refused — :class:`FileRefused`, with
the reason and the field — when it cannot be read, lacks a required column or any column
to link a customer by, or names one column twice. What a load does with the rows (linking,
the all-or-nothing write) is :mod:`bankcrm_mining.loads`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from bankcrm import tabular
from bankcrm.web.problems import Problem

ColumnKind = Literal["text", "datetime", "amount", "currency", "direction", "account"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    label: str
    """Chinese name, shown to staff and accepted as a header."""
    required: bool = False
    aliases: tuple[str, ...] = ()
    max_length: int = 100


TRANSACTION_SCHEMA: tuple[Column, ...] = (
    Column("txn_id", "text", "交易流水号", True, ("transaction_id", "流水号", "交易编号"), 64),
    Column("booked_at", "datetime", "交易时间", True, ("date", "time", "交易日期", "记账日期")),
    Column("amount", "amount", "交易金额", True, ("金额", "发生额")),
    Column("direction", "direction", "借贷方向", False, ("dc", "借贷标志", "收支")),
    Column("currency", "currency", "币种", False, ("ccy",)),
    Column("account_no", "account", "账号", False, ("account", "卡号", "账户"), 32),
    Column("id_number", "account", "证件号码", False, ("id_no", "身份证号"), 32),
    Column("phone", "text", "手机号", False, ("mobile", "手机号码", "电话"), 32),
    Column("channel", "text", "交易渠道", False, ("渠道",), 50),
    Column("category", "text", "交易类别", False, ("type", "交易类型", "商户类别"), 50),
    Column("balance_after", "amount", "交易后余额", False, ("balance", "余额", "账户余额")),
)
LINK_COLUMNS: tuple[Literal["id_number", "account_no", "phone"], ...] = (
    "id_number",
    "account_no",
    "phone",
)
"""Linking order: the identity document first, then the account, then the phone."""
MAX_AMOUNT = 10**12
"""A larger amount (either sign) is a data error in a retail or SME book."""
EARLIEST = datetime(1990, 1, 1)
REASONS = {
    "missing": "缺少必填值",
    "too_long": "内容过长",
    "bad_datetime": "交易时间无法识别",
    "future": "交易时间晚于当前",
    "too_old": "交易时间早于1990年",
    "bad_amount": "金额无法识别",
    "outlier": "金额超出合理范围",
    "bad_direction": "借贷方向无法识别",
    "bad_currency": "币种不是三位字母代码",
    "duplicate": "文件内流水号重复",
    "already_loaded": "此前已装载",
}
"""Rejection reason codes and their Chinese wording (the report carries both)."""


class FileRefused(Exception):
    """The whole file is refused; nothing of it is loaded."""

    def __init__(self, reason: str, field: str = "/body/file") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@dataclass
class Rejection:
    row: int
    """1-based data row (the header is row 0)."""
    reason: str
    column: str


@dataclass
class Cleaned:
    rows_in: int
    frame: pd.DataFrame
    """The good rows: the declared columns, cleaned, plus ``row`` (1-based)."""
    rejected: list[Rejection] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    """Declared column -> the header it was read from."""
    ignored: list[str] = field(default_factory=list)

    def reasons(self) -> dict[str, int]:
        return dict(Counter(r.reason for r in self.rejected))


def _key(header: str) -> str:
    text = unicodedata.normalize("NFKC", str(header)).strip().lower()
    return re.sub(r"[\s_\-]+", "", text)


def read_table(path: Path, file_name: str) -> pd.DataFrame:
    """The file's cells; CSV cells as text, Parquet columns as stored."""
    suffix = Path(file_name).suffix.lower()
    if suffix == ".parquet":
        try:
            return pd.read_parquet(path)
        except Exception as error:  # pyarrow raises several types for a bad file
            raise FileRefused(f"not a readable Parquet file ({type(error).__name__})") from error
    if suffix not in (".csv", ".txt"):
        raise FileRefused("only .csv and .parquet files are loaded")
    try:
        encoding = tabular.detect_encoding(path)
        text = path.read_text(encoding=encoding)
    except Problem as problem:
        raise FileRefused(problem.detail) from problem
    except UnicodeDecodeError as error:
        raise FileRefused(f"the file does not decode as {error.encoding}") from error
    try:
        return pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, sep=None, engine="python"
        )
    except pd.errors.EmptyDataError as error:
        raise FileRefused("the file is empty") from error
    except (pd.errors.ParserError, csv.Error) as error:
        raise FileRefused(f"not a readable CSV file: {error}") from error


def map_headers(
    headers: list[str], schema: tuple[Column, ...] = TRANSACTION_SCHEMA
) -> tuple[dict[str, str], list[str]]:
    """Declared column -> header, and the headers that map to nothing."""
    known: dict[str, str] = {}
    for column in schema:
        for alias in (column.name, column.label, *column.aliases):
            known[_key(alias)] = column.name
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for header in headers:
        name = known.get(_key(header))
        if name is None:
            ignored.append(str(header))
        elif name in mapping:
            raise FileRefused(f"the columns {mapping[name]!r} and {header!r} are both {name}")
        else:
            mapping[name] = str(header)
    for column in schema:
        if column.required and column.name not in mapping:
            raise FileRefused(f"the required column {column.name} ({column.label}) is missing")
    if not any(name in mapping for name in LINK_COLUMNS):
        raise FileRefused(
            "no column links a row to a customer: give id_number (证件号码), account_no"
            " (账号) or phone (手机号)"
        )
    return mapping, ignored


def _text(series: pd.Series) -> pd.Series:
    """Cells as stripped NFKC text (full-width digits become ASCII); blanks as NA."""
    values = series.astype("string").fillna("")
    values = values.map(lambda v: unicodedata.normalize("NFKC", v).strip())
    return values.mask(values == "", pd.NA)


_NUMBER_NOISE = re.compile(r"[,\s¥$元]|CNY|RMB", re.IGNORECASE)


def _amounts(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_numeric(series, errors="coerce").astype("float64")
    text = _text(series).fillna("").str.replace(_NUMBER_NOISE, "", regex=True)
    negative = text.str.match(r"^\(.*\)$")
    number = pd.to_numeric(text.str.strip("()"), errors="coerce").astype("float64")
    return number.where(~negative, -number)


def _datetimes(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        values = pd.to_datetime(series, errors="coerce")
    else:
        text = _text(series).fillna("")
        text = text.str.replace(r"(\d{4})年(\d{1,2})月(\d{1,2})日", r"\1-\2-\3", regex=True)
        compact = text.str.fullmatch(r"\d{8}")
        values = pd.to_datetime(text.where(~compact), errors="coerce", format="mixed")
        values = values.fillna(
            pd.to_datetime(text.where(compact), errors="coerce", format="%Y%m%d")
        )
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    return values


DEBIT = {"借", "d", "dr", "debit", "出", "支出", "支", "-"}
CREDIT = {"贷", "c", "cr", "credit", "入", "收入", "收", "+"}


def clean_transactions(frame: pd.DataFrame, now: datetime) -> Cleaned:
    """Map, clean and check every row; ``now`` is the local time of the load."""
    mapping, ignored = map_headers([str(h) for h in frame.columns])
    schema = {c.name: c for c in TRANSACTION_SCHEMA}
    data = pd.DataFrame({"row": np.arange(1, len(frame) + 1)}, index=frame.index)
    bad = pd.Series(pd.NA, index=frame.index, dtype="object")
    bad_column = pd.Series(pd.NA, index=frame.index, dtype="object")

    def reject(mask: pd.Series, reason: str, column: str) -> None:
        fresh = mask.fillna(False).astype(bool) & bad.isna()
        bad[fresh] = reason
        bad_column[fresh] = column

    for name, column in schema.items():
        source = frame[mapping[name]] if name in mapping else None
        if source is None:
            dtype = "float64" if column.kind == "amount" else "string"
            data[name] = pd.Series(
                np.nan if dtype == "float64" else pd.NA, index=frame.index, dtype=dtype
            )
            continue
        if column.kind == "datetime":
            data[name] = _datetimes(source)
            reject(_text(source).isna(), "missing", name)
            reject(data[name].isna(), "bad_datetime", name)
        elif column.kind == "amount":
            data[name] = _amounts(source)
            if column.required:
                reject(source.isna() | (_text(source).isna()), "missing", name)
                reject(data[name].isna(), "bad_amount", name)
            else:
                reject(_text(source).notna() & data[name].isna(), "bad_amount", name)
            reject(data[name].abs() > MAX_AMOUNT, "outlier", name)
        else:
            text = _text(source)
            if column.kind == "account":
                text = text.str.replace(r"\s", "", regex=True).str.upper()
            elif column.kind == "currency":
                text = text.str.upper()
            data[name] = text
            if column.required:
                reject(text.isna(), "missing", name)
            reject(text.str.len() > column.max_length, "too_long", name)

    if "direction" in mapping:
        word = data["direction"].str.lower()
        debit, credit = word.isin(DEBIT), word.isin(CREDIT)
        reject(word.notna() & ~debit & ~credit, "bad_direction", "direction")
        # A blank direction keeps the amount's own sign; a given one decides it.
        magnitude = data["amount"].abs()
        data["amount"] = data["amount"].mask(credit.fillna(False), magnitude)
        data["amount"] = data["amount"].mask(debit.fillna(False), -magnitude)
    data["currency"] = data["currency"].fillna("CNY")
    reject(
        ~data["currency"].astype("string").str.fullmatch(r"[A-Z]{3}"), "bad_currency", "currency"
    )
    reject(data["booked_at"] > pd.Timestamp(now + timedelta(days=1)), "future", "booked_at")
    reject(data["booked_at"] < pd.Timestamp(EARLIEST), "too_old", "booked_at")
    data["amount"] = data["amount"].round(2)
    data["balance_after"] = data["balance_after"].astype("float64").round(2)

    first = ~data["txn_id"].duplicated(keep="first") | data["txn_id"].isna()
    reject(~first & bad.isna(), "duplicate", "txn_id")

    rejected = [
        Rejection(int(r), str(reason), str(col))
        for r, reason, col in zip(
            data["row"][bad.notna()], bad[bad.notna()], bad_column[bad.notna()], strict=True
        )
    ]
    good = data[bad.isna()].drop(columns=["direction"]).reset_index(drop=True)
    return Cleaned(len(frame), good, rejected, mapping, ignored)


def jsonable(value: Any) -> Any:
    """A cell as JSON: NA as None, timestamps as ISO text."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
