"""Advanced customer search, saved searches and segments.

**The filter** (:class:`CustomerFilter`) is one msgspec struct used everywhere a set of
customers is described: ``GET /customers`` (query form), ``POST /customers/search`` (JSON
body), saved searches and segments, exports, rule tags (:mod:`.tagging`). All given
criteria must match; list criteria match any of their values (tags: ``tag_match``).

**Index-driven under row-level security.** PostgreSQL lets only *leakproof* operators use
an index before the RLS policy has filtered the rows: equality and ranges on integers,
text, dates and timestamps are leakproof; LIKE, pg_trgm, array containment and *numeric*
comparisons are not. So:

- AUM is kept as an integer number of fen on the customer (``aum_cents``), rewritten by
  every holding write in the same transaction (:func:`refresh_aum`);
- free text (names, companies, addresses) is found through rows of
  ``customer_archive_search_key``: besides the name keys of :mod:`.names`, every two
  adjacent characters of the employer (``e:``) and of each address's district and street
  (``a:``), folded by :func:`fold`, except pairs with an ASCII digit (house numbers find
  no one). A fragment is looked up by key equality on the btree (a few of its digit-free
  pairs, all required; a company or address fragment needs at least one) and then
  re-checked as a substring on the few candidates. Keys are rewritten in the same
  transaction as the change (:func:`refresh_text_keys`), by SQL functions that the Python
  side mirrors exactly (``customer_archive_fold``/``customer_archive_bigrams``).
- every other criterion is an equality or range on an indexed column, or an ``EXISTS``
  probe of an indexed child table.

**Order and pages**: newest first (``id DESC``), keyset cursors (:mod:`bankcrm.web.pagination`).

**Saved searches and segments** (``customer_archive_saved_search``): a *private* saved
search is visible to its owner only (the access rule in :mod:`.access` compares the owner
with the connection's actor); a *segment* is shared with everyone who sees its branch. Only the
filter is stored: membership is evaluated live on every use (a search with
``segment_id``, a count, an export), so it is never stale; a segment selects only
customers of its own branch and sub-branches.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

import asyncpg
import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bankcrm import audit, branches, db, pii
from bankcrm.context import require_scope
from bankcrm.labels import labels_of
from bankcrm.web.pagination import Page, decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, invalid, not_found
from bankcrm_customer_archive import names
from bankcrm_customer_archive.access import SEGMENT_WRITE
from bankcrm_customer_archive.manifest import MANIFEST
from bankcrm_customer_archive.schemas import (
    CategoryName,
    CustomerStatusName,
    CustomerSummary,
    Id,
    Kind,
)
from bankcrm_customer_archive.validation import Problems, normalise_phone

__all__ = [
    "CustomerFilter",
    "SavedSearchIn",
    "SavedSearchOut",
    "SavedSearchPatch",
    "check_filter_references",
    "count_customers",
    "create_saved_search",
    "delete_saved_search",
    "filter_conditions",
    "filter_fields",
    "filter_from_json",
    "filter_tag_names",
    "filter_to_json",
    "fold",
    "get_saved_search",
    "list_saved_searches",
    "refresh_aum",
    "refresh_text_keys",
    "search_customers",
    "search_statement",
    "text_keys",
    "update_saved_search",
]

log = logging.getLogger(__name__)

CUSTOMER = "customer_archive_customer"
ADDRESS = "customer_archive_customer_address"
CONTACT = "customer_archive_customer_contact"
PRODUCT = "customer_archive_product"
HOLDING = "customer_archive_holding"
TAG = "customer_archive_tag"
CUSTOMER_TAG = "customer_archive_customer_tag"
SEARCH_KEY = "customer_archive_search_key"
SAVED_SEARCH = "customer_archive_saved_search"
ENTITY_SAVED_SEARCH = "customer_archive.saved_search"

SIMILARITY = 0.3
"""pg_trgm similarity from which a pinyin spelling counts as close to a misspelt query."""
MAX_SEGMENT_DEPTH = 3
"""A segment may use another segment, that one a third, no deeper (and never a cycle)."""
CHINA = timezone(timedelta(hours=8))
"""Dates of the filter are Beijing calendar days."""

# --- text keys ----------------------------------------------------------------------------

ADDRESS_PAIR = "a:"
"""Two adjacent characters of an address's district and street, folded."""
EMPLOYER_PAIR = "e:"
"""Two adjacent characters of an individual's employer (company), folded."""
TEXT_PREFIXES = (ADDRESS_PAIR, EMPLOYER_PAIR)

# Must equal the SQL function customer_archive_fold of the search migration.
_FOLD = str.maketrans(
    dict(zip(string.ascii_uppercase, string.ascii_lowercase, strict=True))
    | dict.fromkeys(" \t\n\r\f\x0b\u00a0\u3000")
)


def fold(text: str) -> str:
    """ASCII letters in lower case, white space (also ideographic) removed."""
    return text.translate(_FOLD)


def has_ascii_digit(text: str) -> bool:
    return any("0" <= character <= "9" for character in text)


def bigrams(text: str) -> set[str]:
    """Every two adjacent characters of the folded text without an ASCII digit
    (``customer_archive_bigrams``). House and room numbers (``27号院3号楼501``) occur in
    nearly every address, so their pairs find no one and only bloat the key table; a
    fragment is found by its other pairs and then checked as a whole substring."""
    folded = fold(text)
    pairs = (folded[i : i + 2] for i in range(len(folded) - 1))
    return {pair for pair in pairs if not has_ascii_digit(pair)}


def address_text(district: str, street: str) -> str:
    return district + street


def text_keys(employer: str | None, addresses: Iterable[tuple[str, str]]) -> list[str]:
    """The ``e:`` and ``a:`` keys of a customer (addresses as (district, street)); bulk
    loaders write these, the services let the database derive the same ones."""
    keys = {EMPLOYER_PAIR + pair for pair in bigrams(employer or "")}
    for district, street in addresses:
        keys.update(ADDRESS_PAIR + pair for pair in bigrams(address_text(district, street)))
    return sorted(keys)


def _query_pairs(folded: str, limit: int = 3) -> list[str]:
    """A few stored pairs every text containing ``folded`` has (none: the fragment has no
    two adjacent characters without a digit): those with a Chinese character first (Latin
    letters are common), later ones before earlier ones (the street after the district;
    the trade name after the city)."""
    adjacent = (folded[i : i + 2] for i in range(len(folded) - 1))
    pairs = list(dict.fromkeys(pair for pair in adjacent if not has_ascii_digit(pair)))
    ranked = sorted(enumerate(pairs), key=lambda item: (not names.has_cjk(item[1]), -item[0]))
    return sorted(pair for _, pair in ranked[:limit])


async def refresh_text_keys(customer_ids: Sequence[int]) -> None:
    """Rewrite the employer and address keys of these customers (call in the writing
    transaction, after the change)."""
    ids = list(customer_ids)
    await db.fetch(
        f"DELETE FROM {SEARCH_KEY} WHERE customer = ANY($1::int[])"
        " AND left(key, 2) = ANY($2::text[])",
        ids,
        list(TEXT_PREFIXES),
    )
    await db.fetch(
        f"""INSERT INTO {SEARCH_KEY} (branch_id, customer, key)
SELECT c.branch_id, c.id, '{EMPLOYER_PAIR}' || b
FROM {CUSTOMER} c, unnest(customer_archive_bigrams(c.employer)) b
WHERE c.id = ANY($1::int[]) AND c.employer IS NOT NULL
UNION
SELECT c.branch_id, c.id, '{ADDRESS_PAIR}' || b
FROM {CUSTOMER} c JOIN {ADDRESS} a ON a.customer = c.id,
     unnest(customer_archive_bigrams(a.district || a.street)) b
WHERE c.id = ANY($1::int[])""",
        ids,
    )


AUM_SQL = """coalesce(round(sum(h.balance) FILTER (WHERE p.balance_type = 'asset'
  AND h.status <> 'closed' AND h.currency = 'CNY') * 100), 0)::bigint"""
"""AUM in fen of the holdings ``h`` (joined with products ``p``): open asset holdings in CNY,
the same definition as the ``customer_archive.aum`` KPI and the 360 view."""


async def refresh_aum(customer_ids: Sequence[int]) -> None:
    """Recompute ``aum_cents`` of these customers from their holdings (call in the
    transaction that changed a holding). The customer rows are locked first, so two
    concurrent holding writes of one customer cannot both write a total missing the other."""
    ids = sorted(set(customer_ids))
    await db.fetch(f"SELECT id FROM {CUSTOMER} WHERE id = ANY($1::int[]) FOR UPDATE", ids)
    await db.fetch(
        f"""UPDATE {CUSTOMER} c SET aum_cents = s.cents
FROM (SELECT x.id, {AUM_SQL}
      FROM unnest($1::int[]) x(id) LEFT JOIN {HOLDING} h ON h.customer = x.id
      LEFT JOIN {PRODUCT} p ON p.id = h.product GROUP BY x.id) s(id, cents)
WHERE c.id = s.id AND c.aum_cents <> s.cents""",
        ids,
    )


async def refresh_aum_of_product(product_id: int) -> None:
    """A product's balance type changed: recompute every holder's AUM.

    Products are global but customers are branch-scoped, so only an actor who sees every
    branch can do this completely; anyone else is refused rather than leaving other
    branches' totals stale.
    """
    tree = await branches.snapshot()
    if not frozenset(tree.nodes) <= require_scope().branch_ids:
        raise Problem(
            409,
            "changing the balance type of a product changes the AUM of its holders in every"
            " branch: only an actor whose scope covers every branch may do it",
            [FieldError("body.balance_type", "needs a scope over every branch")],
            "scope",
        )
    holders = await db.fetch(
        f"SELECT DISTINCT customer FROM {HOLDING} WHERE product = $1", product_id
    )
    if holders:
        await refresh_aum([r["customer"] for r in holders])


# --- the filter -------------------------------------------------------------------------

ValueTierName = Literal["private", "wealth", "affluent", "mass"]
CreditGradeName = Literal["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"]
RiskToleranceName = Literal["C1", "C2", "C3", "C4", "C5"]
TagMatch = Literal["any", "all"]

FilterText = Annotated[str, Meta(max_length=100)]
TagText = Annotated[str, Meta(min_length=1, max_length=32)]
ProductCodeText = Annotated[str, Meta(min_length=1, max_length=32)]
MAX_AUM = Decimal(10**14)
MIN_YEAR, MAX_YEAR = 1900, 2999


class CustomerFilter(
    Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Search criteria; every given criterion must match (unknown fields are refused)."""

    q: FilterText | None = None
    """Name characters (two or more anywhere; one is a surname), pinyin (any part) or
    pinyin initials."""
    text: FilterText | None = None
    """Two or more characters anywhere in the name, the company (corporate name or an
    individual's employer) or an address (district and street)."""
    company: FilterText | None = None
    """Two or more characters of a corporate customer's name or an individual's employer."""
    address: FilterText | None = None
    """Two or more characters of an address's district and street (``海淀``, ``中关村大街``)."""
    phone: Annotated[str, Meta(max_length=32)] | None = None
    """A full phone number (customer's or a contact person's) or its last 4-10 digits."""
    id_number: Annotated[str, Meta(max_length=32)] | None = None
    """Exact identity document number, matched through its keyed hash."""
    tag: TagText | None = None
    """One tag name (kept for the query form; the same as ``tags`` with one name)."""
    tags: Annotated[list[TagText], Meta(max_length=20)] | None = None
    """Tag names (a tag is per branch: a name matches that tag in every branch)."""
    tag_ids: Annotated[list[Id], Meta(max_length=20)] | None = None
    tag_match: TagMatch = "any"
    """``any``: at least one of the tags; ``all``: every one of them."""
    kind: Kind | None = None
    statuses: Annotated[list[CustomerStatusName], Meta(max_length=3)] | None = None
    branch_id: Id | None = None
    """The branch and its sub-branches."""
    relationship_manager_id: Id | None = None
    segment_id: Id | None = None
    """Customers of a saved segment (or of one of your own saved searches), evaluated now."""
    value_tiers: Annotated[list[ValueTierName], Meta(max_length=4)] | None = None
    credit_grades: Annotated[list[CreditGradeName], Meta(max_length=10)] | None = None
    risk_tolerances: Annotated[list[RiskToleranceName], Meta(max_length=5)] | None = None
    product_codes: Annotated[list[ProductCodeText], Meta(max_length=50)] | None = None
    """Holds (an open holding of) any of these products."""
    product_categories: Annotated[list[CategoryName], Meta(max_length=4)] | None = None
    """Holds an open product of any of these categories."""
    aum_min: Decimal | None = None
    """Assets under management (open asset holdings in CNY), inclusive bounds."""
    aum_max: Decimal | None = None
    created_from: date | None = None
    """Customer since (Beijing calendar days, inclusive)."""
    created_to: date | None = None
    birth_from: date | None = None
    birth_to: date | None = None
    holding_opened_from: date | None = None
    """A holding opened in this period (of the products above, when given)."""
    holding_opened_to: date | None = None


EMPTY_FILTER = CustomerFilter()
_RANGES = (
    ("aum_min", "aum_max"),
    ("created_from", "created_to"),
    ("birth_from", "birth_to"),
    ("holding_opened_from", "holding_opened_to"),
)
_FRAGMENTS = ("text", "company", "address")


def filter_fields(criteria: CustomerFilter) -> dict[str, Any]:
    """Every field of the filter (None or the default where not given)."""
    return {name: getattr(criteria, name) for name in criteria.__struct_fields__}


def filter_to_json(criteria: CustomerFilter) -> dict[str, Any]:
    """The filter as stored (JSON types, defaults left out)."""
    encoded: dict[str, Any] = msgspec.to_builtins(criteria)
    return encoded


def filter_tag_names(criteria: CustomerFilter) -> list[str]:
    names_ = list(criteria.tags or [])
    if criteria.tag is not None and criteria.tag.strip():
        names_.append(criteria.tag.strip())
    return sorted({n.strip() for n in names_ if n.strip()})


def error_path(prefix: str, error: msgspec.ValidationError) -> tuple[str, str]:
    """``Expected ... - at `$.aum_min` `` -> (``<prefix>.aum_min``, message)."""
    message = str(error)
    path = prefix
    if " - at `$" in message:
        message, _, where = message.partition(" - at `$")
        path = prefix + where.rstrip("`").replace("[", ".").replace("]", "")
    elif message.startswith("Object contains unknown field `"):
        field_name = message.split("`")[1]
        path = f"{prefix}.{field_name}"
        message = "unknown field"
    return path, message


def check_filter(problems: Problems, criteria: CustomerFilter, prefix: str) -> None:
    """Rules msgspec cannot express: ranges in order, text fragments long enough."""
    for name in ("aum_min", "aum_max"):
        amount = getattr(criteria, name)
        if amount is not None and not (amount.is_finite() and 0 <= amount <= MAX_AUM):
            problems.add(f"{prefix}.{name}", f"must be between 0 and {MAX_AUM}")
    for low, high in _RANGES:
        start, end = getattr(criteria, low), getattr(criteria, high)
        finite = (v.is_finite() for v in (start, end) if isinstance(v, Decimal))
        if not all(finite):
            continue
        if start is not None and end is not None and start > end:
            problems.add(f"{prefix}.{high}", f"must not be before {low}")
    for name in _FRAGMENTS:
        value = getattr(criteria, name)
        if value is not None and value.strip() and len(fold(value)) < 2:
            problems.add(f"{prefix}.{name}", "give at least two characters")
    for low, high in _RANGES[1:]:
        for name in (low, high):
            value = getattr(criteria, name)
            if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
                problems.add(f"{prefix}.{name}", f"must be within {MIN_YEAR}-{MAX_YEAR}")


def filter_from_json(
    problems: Problems, raw: Mapping[str, Any], prefix: str
) -> CustomerFilter | None:
    """A filter from JSON-like data, or None with the problems recorded at
    ``<prefix>.<field>``."""
    try:
        criteria = msgspec.convert(dict(raw), CustomerFilter, strict=False)
    except msgspec.ValidationError as exc:
        problems.add(*error_path(prefix, exc))
        return None
    check_filter(problems, criteria, prefix)
    return None if problems.errors else criteria


def require_valid(criteria: CustomerFilter, prefix: str) -> CustomerFilter:
    """``criteria`` checked (422 with field paths otherwise)."""
    problems = Problems()
    check_filter(problems, criteria, prefix)
    problems.raise_if_any()
    return criteria


async def check_filter_references(
    problems: Problems, criteria: CustomerFilter, branch_id: int | None, prefix: str
) -> None:
    """Product codes, tags, users and segments the filter names must exist (tags in
    ``branch_id`` when given, else in any branch in scope)."""
    if criteria.product_codes:
        found = {
            r["code"]
            for r in await db.fetch(
                f"SELECT code FROM {PRODUCT} WHERE code = ANY($1::text[])",
                list(criteria.product_codes),
            )
        }
        missing = sorted(set(criteria.product_codes) - found)
        if missing:
            problems.add(f"{prefix}.product_codes", f"no such product: {', '.join(missing)}")
    tag_names = filter_tag_names(criteria)
    if tag_names:
        found = {
            r["name"]
            for r in await db.fetch(
                f"SELECT name FROM {TAG} WHERE name = ANY($1::text[])"
                " AND ($2::bigint IS NULL OR branch_id = $2)",
                tag_names,
                branch_id,
            )
        }
        missing = sorted(set(tag_names) - found)
        if missing:
            problems.add(f"{prefix}.tags", f"no such tag: {', '.join(missing)}")
    if criteria.tag_ids:
        found_ids = {
            r["id"]
            for r in await db.fetch(
                f"SELECT id FROM {TAG} WHERE id = ANY($1::int[])"
                " AND ($2::bigint IS NULL OR branch_id = $2)",
                list(criteria.tag_ids),
                branch_id,
            )
        }
        if set(criteria.tag_ids) - found_ids:
            problems.add(f"{prefix}.tag_ids", "no such tag")
    if criteria.relationship_manager_id is not None:
        exists = await db.fetchval(
            "SELECT 1 FROM piccolo_user WHERE id = $1", criteria.relationship_manager_id
        )
        if not exists:
            problems.add(f"{prefix}.relationship_manager_id", "no such user")
    if criteria.segment_id is not None:
        exists = await db.fetchval(
            f"SELECT 1 FROM {SAVED_SEARCH} WHERE id = $1", criteria.segment_id
        )
        if not exists:
            problems.add(f"{prefix}.segment_id", "no such segment")


# --- the query ------------------------------------------------------------------------------


class FilterQuery:
    """The conditions and numbered arguments of a statement over
    ``customer_archive_customer c`` being built; the search's export adds its own
    arguments after the filter's (:func:`add_filter_conditions`)."""

    def __init__(self) -> None:
        self.conditions = ["c.deleted_at IS NULL"]
        self.args: list[Any] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def where(self, condition: str) -> None:
        self.conditions.append(condition)


def _phone_digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit() or ch == "-")


def _key_select(condition: str, having: str = "") -> str:
    return f"SELECT k.customer FROM {SEARCH_KEY} k WHERE {condition}{having}"


def _by_keys(query: FilterQuery, *conditions: str, having: str = "") -> None:
    """Customers with search keys matching any of ``conditions``.

    The candidates are collected first (index-only scans of the key index, one per
    condition) and then fetched newest first by primary key, stopping at the page size:
    cost grows with the number of matches only, and no plan can fall back to walking the
    whole key table (which a semi-join on a common key otherwise may choose).
    """
    _by_key_selects(query, [_key_select(condition, having) for condition in conditions])


def _by_key_selects(query: FilterQuery, selects: Sequence[str]) -> None:
    query.where(f"c.id = ANY (ARRAY({' UNION ALL '.join(selects)}))")


def _all_pairs(query: FilterQuery, pairs: Sequence[str]) -> str:
    """A key select of the customers having every one of ``pairs``."""
    if len(pairs) == 1:
        return _key_select(f"k.key = {query.arg(pairs[0])}")
    return _key_select(
        f"k.key = ANY ({query.arg(list(pairs))}::text[])",
        f" GROUP BY k.customer HAVING count(*) = {query.arg(len(pairs))}",
    )


def _key_range(query: FilterQuery, prefix: str) -> str:
    low, high = names.prefix_range(prefix)
    return f"(k.key ~>=~ {query.arg(low)} AND k.key ~<~ {query.arg(high)})"


def _name_condition(query: FilterQuery, text: str) -> bool:
    """Filters for a name query; False when it cannot match anything."""
    if names.has_cjk(text):
        if len(text) == 1:
            # One character is taken as a surname: names that start with it.
            low, high = names.prefix_range(text)
            query.where(f"c.name ~>=~ {query.arg(low)} AND c.name ~<~ {query.arg(high)}")
            return True
        _by_key_selects(query, [_all_pairs(query, names.name_pairs(text))])
        if len(text) > 2:
            # The pairs found need not be adjacent, in order, or all of them: check.
            query.where(f"c.name ILIKE {query.arg(names.like_pattern(text))}")
        return True
    letters = names.normalise_pinyin_query(text)
    if not letters:
        return False
    pinyin = _key_range(query, names.PINYIN + letters)
    initials = _key_range(query, names.INITIALS + letters)
    _by_keys(query, pinyin, initials)
    return True


_ADDRESS_MATCH = (
    f"EXISTS (SELECT 1 FROM {ADDRESS} a WHERE a.customer = c.id"
    " AND strpos(customer_archive_fold(a.district || a.street), {needle}::text) > 0)"
)
_EMPLOYER_MATCH = "strpos(customer_archive_fold(coalesce(c.employer, '')), {needle}::text) > 0"
_CORPORATE_MATCH = "(c.kind = 'corporate' AND c.name ILIKE {pattern})"
_NAME_MATCH = "c.name ILIKE {pattern}"


def _fragment_condition(query: FilterQuery, text: str, fields: Sequence[str]) -> None:
    """Customers with ``text`` (two or more characters) in any of ``fields`` (``name``,
    ``company``, ``address``): candidates by pairs, then the substring checked."""
    folded = fold(text)
    pairs = _query_pairs(folded)
    selects: list[str] = []
    checks: list[str] = []
    if "name" in fields or "company" in fields:
        selects.append(_all_pairs(query, names.name_pairs(text.strip())))
        pattern = query.arg(names.like_pattern(text.strip()))
        checks.append(
            (_NAME_MATCH if "name" in fields else _CORPORATE_MATCH).format(pattern=pattern)
        )
    if "company" in fields or "address" in fields:
        needle = query.arg(folded)
        if "company" in fields:
            selects.append(_all_pairs(query, [EMPLOYER_PAIR + p for p in pairs]))
            checks.append(_EMPLOYER_MATCH.format(needle=needle))
        if "address" in fields:
            selects.append(_all_pairs(query, [ADDRESS_PAIR + p for p in pairs]))
            checks.append(_ADDRESS_MATCH.format(needle=needle))
    _by_key_selects(query, selects)
    query.where(f"({' OR '.join(checks)})")


async def _segment_condition(
    criteria: CustomerFilter, query: FilterQuery, prefix: str, depth: int
) -> bool:
    assert criteria.segment_id is not None
    if depth >= MAX_SEGMENT_DEPTH:
        raise invalid(f"{prefix}.segment_id", "segments nest too deep (or refer to each other)")
    row = await db.fetchrow(
        f"SELECT id, branch_id, kind, filter FROM {SAVED_SEARCH} WHERE id = $1",
        criteria.segment_id,
    )
    if row is None:
        raise invalid(f"{prefix}.segment_id", "no such segment")
    problems = Problems()
    stored = filter_from_json(problems, _json(row["filter"]), f"{prefix}.segment_id")
    if stored is None:
        problems.raise_if_any()
    assert stored is not None
    if row["kind"] == "segment":
        tree = await branches.snapshot()
        own = tree.subtree(row["branch_id"]) & require_scope().branch_ids
        query.where(f"c.branch_id = ANY ({query.arg(sorted(own))}::bigint[])")
    return await add_filter_conditions(
        stored, query, prefix=f"{prefix}.segment_id", depth=depth + 1
    )


def _json(value: Any) -> dict[str, Any]:
    decoded = msgspec.json.decode(value) if isinstance(value, str | bytes) else value
    return dict(decoded or {})


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), CHINA)


async def _product_ids(criteria: CustomerFilter, prefix: str) -> list[list[int]] | None:
    """Product id sets that must each be held (codes; categories); None: nothing matches."""
    groups: list[list[int]] = []
    if criteria.product_codes:
        rows = await db.fetch(
            f"SELECT id, code FROM {PRODUCT} WHERE code = ANY($1::text[])",
            list(criteria.product_codes),
        )
        missing = sorted(set(criteria.product_codes) - {r["code"] for r in rows})
        if missing:
            raise invalid(f"{prefix}.product_codes", f"no such product: {', '.join(missing)}")
        groups.append(sorted(r["id"] for r in rows))
    if criteria.product_categories:
        rows = await db.fetch(
            f"SELECT id FROM {PRODUCT} WHERE category = ANY($1::text[])",
            list(criteria.product_categories),
        )
        if not rows:
            return None
        groups.append(sorted(r["id"] for r in rows))
    return groups


async def add_filter_conditions(
    criteria: CustomerFilter, query: FilterQuery, *, prefix: str = "query", depth: int = 0
) -> bool:
    """Add the filters; False when they cannot match anything (skip the query).

    ``prefix`` is where problems point (``query``, ``body``, ``body.filter``).
    """
    if (
        criteria.q is not None
        and criteria.q.strip()
        and not _name_condition(query, criteria.q.strip())
    ):
        return False
    for name, fields in (
        ("text", ("name", "company", "address")),
        ("company", ("company",)),
        ("address", ("address",)),
    ):
        value = getattr(criteria, name)
        if value is not None and value.strip():
            if len(fold(value)) < 2:
                raise invalid(f"{prefix}.{name}", "give at least two characters")
            if not _query_pairs(fold(value)):
                # Every field searched here includes companies or addresses, whose keys
                # leave out pairs with a digit: nothing could be looked up by index.
                raise invalid(
                    f"{prefix}.{name}",
                    "give at least two adjacent characters that are not digits"
                    " (house and room numbers alone are not searchable)",
                )
            _fragment_condition(query, value, fields)
    if criteria.phone is not None and criteria.phone.strip():
        phone = _phone_digits(criteria.phone)
        digits = phone.replace("-", "")
        if len(digits) < 4:
            raise invalid(f"{prefix}.phone", "give the full number or at least its last 4 digits")
        if len(digits) >= 11 or "-" in phone:
            exact = query.arg(normalise_phone(phone) or phone)
            # An array built first keeps both lookups on their indexes.
            query.where(
                f"c.id = ANY (ARRAY(SELECT id FROM {CUSTOMER} WHERE phone = {exact}"
                f" UNION SELECT customer FROM {CONTACT} WHERE phone = {exact}))"
            )
        else:
            _by_keys(query, _key_range(query, names.PHONE + digits[::-1]))
    if criteria.id_number is not None and criteria.id_number.strip():
        query.where(f"c.id_number_hash = {query.arg(pii.lookup_hash(criteria.id_number))}")
    _tag_conditions(criteria, query)
    if criteria.kind is not None:
        query.where(f"c.kind = {query.arg(criteria.kind)}")
    if criteria.statuses:
        query.where(f"c.status = ANY ({query.arg(sorted(set(criteria.statuses)))}::text[])")
    for column, values in (
        ("value_tier", criteria.value_tiers),
        ("credit_grade", criteria.credit_grades),
        ("risk_tolerance", criteria.risk_tolerances),
    ):
        if values:
            distinct = sorted(set(values))
            if len(distinct) == 1:
                query.where(f"c.{column} = {query.arg(distinct[0])}")
            else:
                query.where(f"c.{column} = ANY ({query.arg(distinct)}::text[])")
    if criteria.relationship_manager_id is not None:
        query.where(f"c.relationship_manager = {query.arg(criteria.relationship_manager_id)}")
    if criteria.branch_id is not None:
        tree = await branches.snapshot()
        subtree = tree.subtree(criteria.branch_id) & require_scope().branch_ids
        if not subtree:
            raise invalid(f"{prefix}.branch_id", "the branch is outside your scope")
        query.where(f"c.branch_id = ANY ({query.arg(sorted(subtree))}::bigint[])")
    if criteria.aum_min is not None:
        query.where(f"c.aum_cents >= {query.arg(_cents(criteria.aum_min, up=True))}")
    if criteria.aum_max is not None:
        query.where(f"c.aum_cents <= {query.arg(_cents(criteria.aum_max, up=False))}")
    if criteria.created_from is not None:
        query.where(f"c.created_at >= {query.arg(_day_start(criteria.created_from))}")
    if criteria.created_to is not None:
        end = _day_start(criteria.created_to + timedelta(days=1))
        query.where(f"c.created_at < {query.arg(end)}")
    if criteria.birth_from is not None:
        query.where(f"c.birth_date >= {query.arg(criteria.birth_from)}")
    if criteria.birth_to is not None:
        query.where(f"c.birth_date <= {query.arg(criteria.birth_to)}")
    if not await _holding_conditions(criteria, query, prefix):
        return False
    if criteria.segment_id is not None:
        return await _segment_condition(criteria, query, prefix, depth)
    return True


def _cents(amount: Decimal, *, up: bool) -> int:
    """Yuan to whole fen, rounded inwards so that the bounds stay inclusive."""
    cents = amount * 100
    whole = int(cents)
    return whole + 1 if up and cents > whole else whole


def _tag_conditions(criteria: CustomerFilter, query: FilterQuery) -> None:
    """``any``: one semi-join over the tags; ``all``: one per tag (relational division as
    semi-joins, which the planner can drive from the rarest tag's index)."""
    tag_names = filter_tag_names(criteria)
    every = criteria.tag_match == "all"
    by_name = (
        f"EXISTS (SELECT 1 FROM {CUSTOMER_TAG} ct JOIN {TAG} t ON t.id = ct.tag"
        " WHERE ct.customer = c.id AND t.name = {})"
    )
    by_id = f"EXISTS (SELECT 1 FROM {CUSTOMER_TAG} ct WHERE ct.customer = c.id AND ct.tag = {{}})"
    if tag_names:
        if every:
            for name in tag_names:
                query.where(by_name.format(query.arg(name)))
        else:
            query.where(by_name.format(f"ANY ({query.arg(tag_names)}::text[])"))
    if criteria.tag_ids:
        ids = sorted(set(criteria.tag_ids))
        if every:
            for tag_id in ids:
                query.where(by_id.format(query.arg(tag_id)))
        else:
            query.where(by_id.format(f"ANY ({query.arg(ids)}::int[])"))


async def _holding_conditions(criteria: CustomerFilter, query: FilterQuery, prefix: str) -> bool:
    groups = await _product_ids(criteria, prefix)
    if groups is None:
        return False
    opened = ""
    if criteria.holding_opened_from is not None:
        opened += f" AND h.opened_on >= {query.arg(criteria.holding_opened_from)}"
    if criteria.holding_opened_to is not None:
        opened += f" AND h.opened_on <= {query.arg(criteria.holding_opened_to)}"
    for ids in groups:
        query.where(
            f"EXISTS (SELECT 1 FROM {HOLDING} h WHERE h.customer = c.id"
            f" AND h.product = ANY ({query.arg(ids)}::int[]) AND h.status <> 'closed'{opened})"
        )
    if opened and not groups:
        query.where(f"EXISTS (SELECT 1 FROM {HOLDING} h WHERE h.customer = c.id{opened})")
    return True


async def filter_conditions(
    criteria: CustomerFilter, *, prefix: str = "criteria"
) -> tuple[str, list[Any]]:
    """The ``WHERE`` text (over ``customer_archive_customer c``, live customers only) and its
    arguments ``$1..$n``; ``false`` when nothing can match. For callers composing their
    own statement (rule tags, exports)."""
    query = FilterQuery()
    if not await add_filter_conditions(criteria, query, prefix=prefix):
        return "false", []
    return " AND ".join(query.conditions), query.args


# --- results --------------------------------------------------------------------------------

SUMMARY_COLUMNS = f"""c.id, c.branch_id, c.kind, c.name, c.name_pinyin, c.gender, c.id_type,
  c.id_number_masked, c.phone, c.status, c.relationship_manager, c.created_at,
  c.value_tier, c.credit_grade, c.risk_tolerance, c.aum_cents,
  ARRAY(SELECT t.name FROM {CUSTOMER_TAG} ct JOIN {TAG} t ON t.id = ct.tag
        WHERE ct.customer = c.id ORDER BY t.name) AS tags"""


def aum_of(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


SUMMARY_LABELLED = ("kind", "gender", "id_type", "status", "value_tier", "risk_tolerance")
"""Enumerated fields a customer summary also gives by label (``<field>_label``)."""


def summary(row: Mapping[str, Any]) -> CustomerSummary:
    return CustomerSummary(
        id=row["id"],
        branch_id=row["branch_id"],
        kind=row["kind"],
        name=row["name"],
        name_pinyin=row["name_pinyin"],
        gender=row["gender"],
        id_type=row["id_type"],
        id_number=row["id_number_masked"],
        phone=pii.mask(row["phone"], 3, 4),
        status=row["status"],
        relationship_manager_id=row["relationship_manager"],
        tags=list(row["tags"]),
        created_at=row["created_at"],
        value_tier=row["value_tier"],
        credit_grade=row["credit_grade"],
        risk_tolerance=row["risk_tolerance"],
        aum=aum_of(row["aum_cents"]),
        **labels_of(MANIFEST.name, row, SUMMARY_LABELLED),
    )


async def search_statement(
    criteria: CustomerFilter, limit: int, after_id: int | None = None, *, prefix: str = "query"
) -> tuple[str, list[Any]] | None:
    """The SQL and arguments of one search page, newest first (None: nothing can match).

    Public so that benchmarks can send exactly the statement the API sends.
    """
    query = FilterQuery()
    if not await add_filter_conditions(criteria, query, prefix=prefix):
        return None
    if after_id is not None:
        query.where(f"c.id < {query.arg(after_id)}")
    sql = (
        f"SELECT {SUMMARY_COLUMNS} FROM {CUSTOMER} c WHERE {' AND '.join(query.conditions)}"
        f" ORDER BY c.id DESC LIMIT {query.arg(limit)}"
    )
    return sql, query.args


async def search_customers(
    criteria: CustomerFilter, limit: int = 50, cursor: str | None = None, *, prefix: str = "query"
) -> Page[CustomerSummary]:
    """Customers matching ``criteria``, newest first, in keyset pages of ``limit``.

    When a pinyin query of four or more letters finds nothing on the first page, the
    closest pinyin spellings (trigram similarity) are returned instead, on one page.
    """
    require_valid(criteria, prefix)
    after = decode_cursor(cursor, (int,))
    statement = await search_statement(
        criteria, limit + 1, after[0] if after else None, prefix=prefix
    )
    if statement is None:
        return Page([], None)
    rows = await db.fetch(statement[0], *statement[1])
    if not rows and after is None and _fuzzy_candidate(criteria):
        return Page(await _similar_pinyin(criteria, limit, prefix), None)
    items = [summary(r) for r in rows[:limit]]
    next_cursor = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return Page(items, next_cursor)


async def count_customers(criteria: CustomerFilter, *, prefix: str = "query") -> int:
    """How many customers match (in the actor's scope), exactly."""
    require_valid(criteria, prefix)
    query = FilterQuery()
    if not await add_filter_conditions(criteria, query, prefix=prefix):
        return 0
    count: int = await db.fetchval(
        f"SELECT count(*) FROM {CUSTOMER} c WHERE {' AND '.join(query.conditions)}",
        *query.args,
    )
    return count


def _fuzzy_candidate(criteria: CustomerFilter) -> bool:
    q = criteria.q
    return q is not None and not names.has_cjk(q) and len(names.normalise_pinyin_query(q)) >= 4


async def _similar_pinyin(
    criteria: CustomerFilter, limit: int, prefix: str
) -> list[CustomerSummary]:
    """Customers whose pinyin is closest to a misspelt query, among those with a pinyin
    syllable starting like it (so the similarity is computed on a bounded set)."""
    assert criteria.q is not None
    letters = names.normalise_pinyin_query(criteria.q)
    query = FilterQuery()
    await add_filter_conditions(msgspec.structs.replace(criteria, q=None), query, prefix=prefix)
    _by_keys(query, _key_range(query, names.PINYIN + letters[:2]))
    wanted = query.arg(letters)
    query.where(f"similarity(c.name_pinyin, {wanted}) >= {SIMILARITY}")
    rows = await db.fetch(
        f"SELECT {SUMMARY_COLUMNS} FROM {CUSTOMER} c WHERE {' AND '.join(query.conditions)}"
        f" ORDER BY similarity(c.name_pinyin, {wanted}) DESC, c.id DESC"
        f" LIMIT {query.arg(limit)}",
        *query.args,
    )
    return [summary(r) for r in rows]


def audited_filter(criteria: CustomerFilter) -> dict[str, Any]:
    """The filter as the audit trail may keep it: searched-for personal data masked."""
    kept = filter_to_json(criteria)
    if "id_number" in kept:
        kept["id_number"] = pii.mask_id_number(kept["id_number"])
    if "phone" in kept:
        kept["phone"] = pii.mask(kept["phone"], 3, 4)
    return kept


# --- saved searches and segments ------------------------------------------------------------

SavedSearchKindName = Literal["private", "segment"]
SearchName = Annotated[str, Meta(min_length=1, max_length=100)]
SearchDescription = Annotated[str, Meta(max_length=500)]


class SavedSearchIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: SearchName
    filter: CustomerFilter
    kind: SavedSearchKindName = "private"
    """``private``: yours alone; ``segment``: shared with the branch (needs
    ``customer_archive.segment.write``)."""
    description: SearchDescription = ""
    branch_id: Id | None = None
    """A segment's branch (its customers and sub-branches'); defaults to your home branch."""


class SavedSearchPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    name: SearchName | UnsetType = UNSET
    filter: CustomerFilter | UnsetType = UNSET
    description: SearchDescription | UnsetType = UNSET


class SavedSearchOut(Struct):
    id: int
    kind: str
    name: str
    description: str
    branch_id: int
    filter: CustomerFilter
    owner_id: int | None
    mine: bool
    created_at: datetime
    updated_at: datetime


class CountOut(Struct):
    count: int


_SAVED_COLUMNS = (
    "id, kind, name, description, branch_id, filter, owner, owner_actor, created_at, updated_at"
)


def _saved_out(row: Mapping[str, Any]) -> SavedSearchOut:
    return SavedSearchOut(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        description=row["description"],
        branch_id=row["branch_id"],
        filter=msgspec.convert(_json(row["filter"]), CustomerFilter, strict=False),
        owner_id=row["owner"],
        mine=row["owner_actor"] == require_scope().actor,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "name": row["name"],
        "description": row["description"],
        "filter": audited_filter(msgspec.convert(_json(row["filter"]), CustomerFilter)),
    }


async def list_saved_searches(kind: str | None = None) -> list[SavedSearchOut]:
    """Your private searches and the segments of the branches you see."""
    rows = await db.fetch(
        f"SELECT {_SAVED_COLUMNS} FROM {SAVED_SEARCH} WHERE ($1::text IS NULL OR kind = $1)"
        " ORDER BY kind, branch_id, name, id",
        kind,
    )
    return [_saved_out(r) for r in rows]


async def _saved_row(search_id: int, *, lock: bool = False) -> asyncpg.Record:
    row = await db.fetchrow(
        f"SELECT {_SAVED_COLUMNS} FROM {SAVED_SEARCH} WHERE id = $1"
        + (" FOR UPDATE" if lock else ""),
        search_id,
    )
    if row is None:
        raise not_found(f"saved search {search_id}")
    return row


async def get_saved_search(search_id: int) -> SavedSearchOut:
    return _saved_out(await _saved_row(search_id))


def _may_write_segments() -> None:
    if not require_scope().has(SEGMENT_WRITE):
        raise Problem(403, f"maintaining segments needs the permission {SEGMENT_WRITE}",
                      code="forbidden")  # fmt: skip


def _duplicate_name() -> Problem:
    return Problem(
        409,
        "a saved search of this name already exists",
        [FieldError("body.name", "already exists")],
        "duplicate",
    )


async def _checked_filter(criteria: CustomerFilter, kind: str, branch_id: int) -> None:
    problems = Problems()
    check_filter(problems, criteria, "body.filter")
    await check_filter_references(
        problems, criteria, branch_id if kind == "segment" else None, "body.filter"
    )
    if kind == "segment" and (criteria.phone or criteria.id_number):
        # Segments are shown to the whole branch: no personal data in their definition.
        problems.add("body.filter", "a segment cannot select by phone or ID number")
    if kind == "segment" and criteria.segment_id is not None:
        used = await db.fetchval(
            f"SELECT kind FROM {SAVED_SEARCH} WHERE id = $1", criteria.segment_id
        )
        if used == "private":
            problems.add("body.filter.segment_id", "a segment cannot use a private search")
    problems.raise_if_any()
    # Compile once: nesting depth, branch scope and the like are reported now.
    await add_filter_conditions(criteria, FilterQuery(), prefix="body.filter")


async def create_saved_search(data: SavedSearchIn) -> SavedSearchOut:
    scope = require_scope()
    if data.kind == "segment":
        _may_write_segments()
    branch_id = data.branch_id if data.branch_id is not None else scope.home_branch_id
    if branch_id is None:
        raise invalid("body.branch_id", "required: you have no home branch")
    if branch_id not in scope.branch_ids:
        raise invalid("body.branch_id", "the branch is outside your scope")
    await _checked_filter(data.filter, data.kind, branch_id)
    try:
        async with db.transaction():
            row = await db.fetchrow(
                f"INSERT INTO {SAVED_SEARCH} (branch_id, kind, name, description, filter,"
                " owner, owner_actor, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, now(), now())"
                f" RETURNING {_SAVED_COLUMNS}",
                branch_id,
                data.kind,
                data.name.strip(),
                data.description.strip(),
                db.jsonb(filter_to_json(data.filter)),
                scope.user_id,
                scope.actor,
            )
            assert row is not None
            await audit.record(
                audit.Action.CREATE, ENTITY_SAVED_SEARCH, row["id"], branch_id=branch_id,
                after=_snapshot(row),
            )  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise _duplicate_name() from exc
    return _saved_out(row)


async def update_saved_search(search_id: int, data: SavedSearchPatch) -> SavedSearchOut:
    try:
        async with db.transaction():
            row = await _saved_row(search_id, lock=True)
            if row["kind"] == "segment":
                _may_write_segments()
            values: dict[str, Any] = {}
            if data.name is not UNSET:
                values["name"] = data.name.strip()
            if data.description is not UNSET:
                values["description"] = data.description.strip()
            if data.filter is not UNSET:
                if data.filter.segment_id == search_id:
                    raise invalid("body.filter.segment_id", "a search cannot use itself")
                await _checked_filter(data.filter, row["kind"], row["branch_id"])
                values["filter"] = db.jsonb(filter_to_json(data.filter))
            if not values:
                return _saved_out(row)
            assignments = ", ".join(
                f"{k} = ${i + 2}" + ("::jsonb" if k == "filter" else "")
                for i, k in enumerate(values)
            )
            updated = await db.fetchrow(
                f"UPDATE {SAVED_SEARCH} SET {assignments}, updated_at = now() WHERE id = $1"
                f" RETURNING {_SAVED_COLUMNS}",
                search_id,
                *values.values(),
            )
            assert updated is not None
            await audit.record(
                audit.Action.UPDATE, ENTITY_SAVED_SEARCH, search_id,
                branch_id=row["branch_id"], before=_snapshot(row), after=_snapshot(updated),
            )  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise _duplicate_name() from exc
    return _saved_out(updated)


async def delete_saved_search(search_id: int) -> None:
    async with db.transaction():
        row = await _saved_row(search_id, lock=True)
        if row["kind"] == "segment":
            _may_write_segments()
        users = await db.fetch(
            f"SELECT id, name FROM {SAVED_SEARCH} WHERE id <> $1"
            " AND filter @> jsonb_build_object('segment_id', $1::int)",
            search_id,
        )
        if users:
            raise Problem(
                409,
                "other saved searches use this one: "
                + ", ".join(f"{r['name']} ({r['id']})" for r in users),
                code="in_use",
            )
        await db.fetch(f"DELETE FROM {SAVED_SEARCH} WHERE id = $1", search_id)
        await audit.record(
            audit.Action.DELETE, ENTITY_SAVED_SEARCH, search_id, branch_id=row["branch_id"],
            before=_snapshot(row),
        )  # fmt: skip


async def run_saved_search(
    search_id: int, limit: int = 50, cursor: str | None = None
) -> Page[CustomerSummary]:
    """The saved search's customers now (a page), like a search with ``segment_id``."""
    await _saved_row(search_id)
    return await search_customers(CustomerFilter(segment_id=search_id), limit, cursor)


async def count_saved_search(search_id: int) -> int:
    """How many customers the saved search (or segment) selects now."""
    await _saved_row(search_id)
    return await count_customers(CustomerFilter(segment_id=search_id))


DEMO_SEGMENTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("高净值客户", "AUM of 600,000 CNY or more", {"aum_min": "600000"}),
    ("理财持有客户", "Customers holding a wealth product", {"product_categories": ["wealth"]}),
)


DEMO_PRIVATE_SEARCH = ("我的高净值客户", "My customers with AUM of 1,000,000 CNY or more",
                       {"aum_min": "1000000"})  # fmt: skip


async def seed_private_search(user_id: int, branch_id: int) -> None:
    """A private saved search of a demo user, written as that user: the privacy rule lets
    no one write a private search for someone else. Run under a scope of ``user:<id>``."""
    name, description, raw = DEMO_PRIVATE_SEARCH
    await db.fetch(
        f"INSERT INTO {SAVED_SEARCH} (branch_id, kind, name, description, filter, owner,"
        " owner_actor, created_at, updated_at)"
        " VALUES ($1, 'private', $2, $3, $4::jsonb, $5, $6, now(), now())"
        " ON CONFLICT DO NOTHING",
        branch_id,
        name,
        description,
        db.jsonb(raw),
        user_id,
        f"user:{user_id}",
    )


async def seed_segments(connection: asyncpg.Connection, branch_ids: Iterable[int]) -> None:
    """The demo's shared segments, in each customer branch (used by ``seed_demo``)."""
    await connection.executemany(
        f"INSERT INTO {SAVED_SEARCH} (branch_id, kind, name, description, filter, owner,"
        " owner_actor, created_at, updated_at)"
        " VALUES ($1, 'segment', $2, $3, $4::jsonb, NULL, 'system:demo', now(), now())"
        " ON CONFLICT DO NOTHING",
        [
            (branch_id, name, description, db.jsonb(raw))
            for branch_id in branch_ids
            for name, description, raw in DEMO_SEGMENTS
        ],
    )
