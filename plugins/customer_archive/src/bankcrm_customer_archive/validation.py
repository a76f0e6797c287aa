"""Input rules beyond what a msgspec type can say: identity documents, phones, amounts.

Each check returns the normalised value or records a :class:`FieldError`; callers collect
all problems of one request and answer them together (422 with field names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from bankcrm.business_calendar import DEFAULT_ZONE
from bankcrm.web.problems import FieldError, Problem
from bankcrm_customer_archive.demo_data import is_valid_resident_id, is_valid_uscc

MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area codes 010 and 020-029 have three digits, all others four; numbers 7 or 8 digits.
LANDLINE = re.compile(r"^(0[12]\d|0[3-9]\d{2})-?([2-9]\d{6,7})$")
PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")
_PHONE_NOISE = re.compile(r"[\s()（）]")

EARLIEST_BIRTH = date(1900, 1, 1)
MAX_AMOUNT = Decimal("9999999999999999.99")  # numeric(18, 2)


@dataclass
class Problems:
    """Field errors of one request."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def raise_if_any(self) -> None:
        if self.errors:
            detail = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
            raise Problem(422, detail, self.errors, "invalid")


def normalise_phone(raw: str) -> str | None:
    """A mainland mobile (``13812345678``) or landline (``010-62345678``), or None."""
    value = _PHONE_NOISE.sub("", raw)
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :].lstrip("-")
    if MOBILE.match(value.replace("-", "")):
        return value.replace("-", "")
    match = LANDLINE.match(value)
    if match:
        return f"{match.group(1)}-{match.group(2)}"
    return None


def check_phone(problems: Problems, name: str, raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    phone = normalise_phone(raw)
    if phone is None:
        problems.add(name, "not a mainland mobile (1[3-9] and 9 digits) or landline number")
    return phone


@dataclass(frozen=True)
class Identity:
    number: str
    birth_date: date | None = None
    gender: str | None = None


def resident_id_facts(number: str) -> tuple[date, str]:
    """Birth date and gender (odd order code: male) encoded in a valid resident ID."""
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return born, "M" if int(number[16]) % 2 else "F"


def check_identity(
    problems: Problems, kind: str, id_type: str, raw: str, prefix: str = "body."
) -> Identity | None:
    """Validate an identity document against the customer kind; normalise its number."""
    number = "".join(raw.split()).upper()
    if kind == "corporate" and id_type != "uscc":
        problems.add(f"{prefix}id_type", "a corporate customer is identified by its uscc")
        return None
    if kind == "individual" and id_type == "uscc":
        problems.add(f"{prefix}id_type", "an individual cannot be identified by a uscc")
        return None
    if id_type == "resident_id":
        if not is_valid_resident_id(number):
            problems.add(f"{prefix}id_number", "not a valid resident ID number (GB 11643)")
            return None
        born, gender = resident_id_facts(number)
        return Identity(number, born, gender)
    if id_type == "uscc":
        if not is_valid_uscc(number):
            problems.add(f"{prefix}id_number", "not a valid unified social credit code")
            return None
        return Identity(number)
    if not PASSPORT.match(number):
        problems.add(f"{prefix}id_number", "a passport number is 5 to 17 letters or digits")
        return None
    return Identity(number)


def check_person(
    problems: Problems,
    identity: Identity | None,
    birth_date: date | None,
    gender: str | None,
    prefix: str = "body.",
) -> tuple[date | None, str | None]:
    """Birth date and gender, taken from the resident ID when not given, else checked."""
    if birth_date is not None and not EARLIEST_BIRTH <= birth_date <= bank_today():
        problems.add(f"{prefix}birth_date", "must lie between 1900-01-01 and today")
    if identity is None or identity.birth_date is None:
        return birth_date, gender
    if birth_date is not None and birth_date != identity.birth_date:
        problems.add(f"{prefix}birth_date", "differs from the date in the resident ID number")
    if gender is not None and gender != identity.gender:
        problems.add(f"{prefix}gender", "differs from the gender in the resident ID number")
    return identity.birth_date, identity.gender


def check_amount(problems: Problems, name: str, value: Decimal) -> Decimal:
    if not value.is_finite():
        problems.add(name, "must be a number")
        return value
    if value < 0 or value > MAX_AMOUNT:
        problems.add(name, f"must lie between 0 and {MAX_AMOUNT}")
    if value != value.quantize(Decimal("0.01")):
        problems.add(name, "at most two decimal places")
        return value
    return value.quantize(Decimal("0.01"))


def bank_today() -> date:
    """Today in the bank's zone (Asia/Shanghai): from 16:00 UTC on, a day ahead of UTC's."""
    return datetime.now(DEFAULT_ZONE).date()


def check_not_future(problems: Problems, name: str, value: date | None) -> None:
    if value is not None and value > bank_today():
        problems.add(name, "must not lie in the future")
