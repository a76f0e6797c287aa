"""Isolation probes generated over every REST route of the app.

For each operation of ``app.routes`` under ``/api/`` (public ones excepted) the probe
builds requests that reference rows of branches the actor cannot see: path parameters,
body fields and query filters are filled with keys of such rows. Which table a parameter
refers to follows the naming rules plugins use anyway (``customer_id`` or ``{id}`` under
``/customers`` -> the table ``<plugin>_customer``; a filter named like a column of the
route's table -> that column). A parameter that looks like a reference (``*_id``) but
matches no table is reported as unmapped, so a new route is never silently skipped;
``overrides`` settles such cases (``{"/api/v1/branches:parent_id": "bankcrm_branch"}``,
``"table.column"`` for keys found in a column other than the primary key, or ``None`` for
"not a branch reference").

Expectations: a request referencing another branch's row is refused with 403, 404 or 422;
no response (lists and searches included, every page) contains a value found only in
other branches' rows or a ``branch_id`` outside the actor's scope; nothing answers 5xx.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import Phase, find, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute

from bankcrm.access_rules import DeclaredRule
from bankcrm_sdk.access_rules import shared_with_branch
from bankcrm_sdk.isolation import BoundTable, DatabaseSnapshot, TableIndex, distinctive

REFUSALS = frozenset({403, 404, 422})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_PAGES = 20
PROBE_TEXT = "isolation-probe"
PAGINATION_PARAMETERS = frozenset({"cursor", "limit", "offset", "page", "page_size", "sort"})

_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


# --- operations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    """The OpenAPI-style path, ``/api/v1/x/{x_id}``."""
    path_types: dict[str, type]
    plugin: str
    spec: Mapping[str, Any] | None
    body: str = "json"
    """What the route's body is (``opt["body"]``): ``json``, or ``multipart`` for uploads."""

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"

    def parameters(self, location: str) -> list[Mapping[str, Any]]:
        if self.spec is None:
            return []
        return [p for p in self.spec.get("parameters", []) if p.get("in") == location]

    def body_schema(self) -> Mapping[str, Any] | None:
        if self.spec is None:
            return None
        content = self.spec.get("requestBody", {}).get("content", {})
        media = content.get("application/json")
        return media.get("schema") if media else None


def operations(app: Litestar, *, public: bool = False) -> list[Operation]:
    """Every API operation of ``app``, kernel and plugins alike; the public ones (the login)
    too with ``public=True``."""
    spec = app.openapi_schema.to_schema()
    paths: Mapping[str, Any] = spec.get("paths", {})
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        template = _PARAM.sub(r"{\1}", route.path)
        types = {name: p.type for name, p in route.path_parameters.items()}
        for handler in route.route_handlers:
            if handler.opt.get("public") and not public:
                continue
            plugin = str(handler.opt.get("plugin") or "bankcrm")
            body = str(handler.opt.get("body", "json"))
            for method in sorted(set(handler.http_methods) - {"OPTIONS", "HEAD"}):
                operation_spec = paths.get(template, {}).get(method.lower())
                found.append(Operation(method, template, types, plugin, operation_spec, body))
    return sorted(found, key=lambda o: (o.template, o.method))


# --- references ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    table: BoundTable | None
    """None: the parameter refers to something that belongs to no branch."""
    column: str = ""


class Unmapped(Exception):
    pass


def _singular(word: str) -> list[str]:
    word = word.replace("-", "_").lower()
    forms = [word]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    elif word.endswith("sses"):
        forms.append(word[:-2])
    elif word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    return forms


class ReferenceResolver:
    def __init__(self, index: TableIndex, overrides: Mapping[str, str | None] | None = None):
        self.index = index
        self.overrides = dict(overrides or {})

    def _match(self, stem: str, plugin: str) -> str | None:
        """The table named ``stem``: ``<plugin>_<stem>``, a kernel or exact name, or the
        one table whose name ends in ``_<stem>``."""
        names = self.index.all_names()
        for exact in (f"{plugin}_{stem}", f"bankcrm_{stem}", stem):
            if exact in names:
                return exact
        endings = [n for n in names if n.endswith("_" + stem)]
        own = [n for n in endings if n.startswith(plugin + "_")]
        if len(own) == 1:
            return own[0]
        return endings[0] if len(endings) == 1 else None

    def _reference(self, table: str | None, column: str = "") -> Reference:
        if table is None or table not in self.index.bound:
            return Reference(None)
        bound = self.index.bound[table]
        return Reference(bound, column or bound.primary_key)

    def route_table(self, operation: Operation) -> BoundTable | None:
        """The table a route is about: its last literal segment naming a table."""
        literals = [s for s in operation.template.split("/") if s and not s.startswith("{")]
        for segment in reversed(literals[2:]):
            for form in _singular(segment):
                name = self._match(form, operation.plugin)
                if name is not None:
                    return self.index.bound.get(name)
        return None

    def resolve(
        self, name: str, operation: Operation, *, strict: bool, by_column: bool = True
    ) -> Reference:
        """Which rows ``name`` refers to.

        Raises :class:`Unmapped` when ``strict`` and a reference-looking name (``*_id``,
        ``{id}``) matches no table. ``by_column``: a name equal to a column of the route's
        table selects rows by that column (path keys and query filters, not body fields).
        """
        for key in (f"{operation.template}:{name}", name):
            if key in self.overrides:
                target, _, column = (self.overrides[key] or "").partition(".")
                return self._reference(target or None, column)
        stem = None
        if name.endswith("_ids"):
            stem = name[:-4]
        elif name.endswith("_id"):
            stem = name[:-3]
        elif name in {"id", "pk"}:
            route_table = self.route_table(operation)
            if route_table is not None:
                return self._reference(route_table.name)
        if stem is not None:
            route_table = self.route_table(operation)
            keys = self.index.foreign_keys.get(route_table.name, {}) if route_table else {}
            if stem in keys:
                return self._reference(keys[stem])
            if (table := self._match(stem, operation.plugin)) is not None:
                return self._reference(table)
        route_table = self.route_table(operation) if by_column else None
        if route_table is not None and name in route_table.columns:
            return self._reference(route_table.name, name)
        if strict and (stem is not None or name in {"id", "pk"}):
            raise Unmapped(f"{operation.label}: {name!r}")
        return Reference(None)


# --- values -------------------------------------------------------------------------------


class ReferenceValues:
    """Keys of rows inside and outside the actor's branches, from the owner's snapshot."""

    def __init__(
        self,
        snapshot: DatabaseSnapshot,
        visible: frozenset[int],
        per_table: int = 2,
        rules: Sequence[DeclaredRule] = (),
    ):
        self.snapshot = snapshot
        self.visible = visible
        self.per_table = per_table
        self.rules = rules
        """Access rules: a row an access rule keeps for its owner is no key to probe with
        (neither the actor nor head office may see it, whatever its branch)."""

    def _pick(self, reference: Reference, foreign: bool) -> list[Any]:
        assert reference.table is not None
        rows = self.snapshot.tables[reference.table.name]
        chosen: list[Any] = []
        seen_branches: set[int] = set()
        candidates = sorted(
            rows.rows.values(),
            key=lambda r: (rows.branch_of(r) or 0, str(r[reference.table.primary_key])),  # type: ignore[union-attr]
        )
        for row in candidates:
            branch = rows.branch_of(row)
            if branch is None or (branch not in self.visible) != foreign:
                continue
            if not shared_with_branch(self.rules, reference.table.name, row):
                continue
            value = row.get(reference.column)
            if value is None or branch in seen_branches or value in chosen:
                continue
            seen_branches.add(branch)
            chosen.append(value)
            if len(chosen) >= self.per_table:
                break
        return chosen

    def foreign(self, reference: Reference) -> list[Any]:
        return self._pick(reference, foreign=True) if reference.table else []

    def own(self, reference: Reference) -> list[Any]:
        return self._pick(reference, foreign=False) if reference.table else []


# --- bodies -------------------------------------------------------------------------------


NO_VALUE = object()


def resolve_ref(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 32:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = components.get(name, {})
        seen += 1
    return schema


@functools.cache
def _regex_example(pattern: str, min_length: int, max_length: int | None) -> str:
    strategy = st.from_regex(pattern, fullmatch=True).filter(
        lambda s: len(s) >= min_length and (max_length is None or len(s) <= max_length)
    )
    # The first example of a derandomised run, unshrunk: deterministic and quick.
    found: str = find(
        strategy,
        lambda _: True,
        settings=settings(
            database=None, derandomize=True, max_examples=200, phases=[Phase.generate]
        ),
    )
    return found


def _string_example(schema: Mapping[str, Any]) -> str:
    min_length = int(schema.get("minLength", 0))
    max_length = schema.get("maxLength")
    formats = {
        "date-time": "2026-01-01T00:00:00Z",
        "date": "2026-01-01",
        "time": "00:00:00",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "email": "probe@example.com",
        "uri": "https://example.com/",
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    if "pattern" in schema:
        return _regex_example(schema["pattern"], min_length, max_length)
    text = PROBE_TEXT
    if max_length is not None:
        text = text[: int(max_length)]
    return text.ljust(max(min_length, len(text)), "x")


def _number_example(schema: Mapping[str, Any]) -> int | float:
    value: int | float = 1
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "exclusiveMinimum" in schema:
        value = max(value, schema["exclusiveMinimum"] + 1)
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    return int(value) if schema.get("type") == "integer" else float(value)


def minimal_instance(
    schema: Mapping[str, Any],
    components: Mapping[str, Any],
    substitute: Callable[[str, Mapping[str, Any]], Any] | None = None,
    depth: int = 0,
) -> Any:
    """A small valid instance of ``schema``; ``substitute(name, schema)`` may replace any
    object property (required or not) by returning something other than ``NO_VALUE``."""
    schema = resolve_ref(schema, components)
    if depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [resolve_ref(o, components) for o in schema[key]]
            non_null = [o for o in options if o.get("type") != "null"]
            if not non_null:
                return None
            chosen = {**{k: v for k, v in schema.items() if k != key}, **non_null[0]}
            return minimal_instance(chosen, components, substitute, depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(resolve_ref(part, components))
        return minimal_instance(merged, components, substitute, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        answer = {}
        required = set(schema.get("required", []))
        for name, sub in schema.get("properties", {}).items():
            replacement = substitute(name, sub) if substitute else NO_VALUE
            if replacement is not NO_VALUE:
                answer[name] = replacement
            elif name in required:
                answer[name] = minimal_instance(sub, components, substitute, depth + 1)
        return answer
    if kind == "array":
        count = int(schema.get("minItems", 0))
        return [
            minimal_instance(schema.get("items", {}), components, substitute, depth + 1)
            for _ in range(count)
        ]
    if kind == "string":
        return _string_example(schema)
    if kind in {"integer", "number"}:
        return _number_example(schema)
    if kind == "boolean":
        return False
    return None


def coerce_to_schema(value: Any, schema: Mapping[str, Any], components: Mapping[str, Any]) -> Any:
    schema = resolve_ref(schema, components)
    kinds: set[str] = set()
    for option in [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]:
        option = resolve_ref(option, components)
        kind = option.get("type")
        kinds.update(kind if isinstance(kind, list) else [kind] if kind else [])
    if "array" in kinds:
        return [value]
    if "integer" in kinds:
        try:
            return int(value)
        except (TypeError, ValueError):
            return NO_VALUE
    return str(value)


# --- attempts -----------------------------------------------------------------------------


@dataclass
class Attempt:
    operation: Operation
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    foreign: list[str] = field(default_factory=list)
    """The references to other branches' rows this request carries."""
    all_path_references: bool = False
    sent: set[str] = field(default_factory=set)

    @property
    def expect_refusal(self) -> bool:
        return bool(self.foreign)

    def describe(self) -> str:
        parts = [f"{self.operation.method} {self.path}"]
        if self.query:
            parts.append(f"query={self.query}")
        if self.has_body:
            parts.append(f"body={self.body}")
        if self.foreign:
            parts.append(f"(foreign: {', '.join(self.foreign)})")
        return " ".join(parts)


@dataclass
class Plan:
    attempts: list[Attempt]
    unmapped: list[str]
    """Reference-looking parameters that match no table: the route is not covered."""
    uncovered: list[str]
    """Routes about branch rows for which no row of another branch was found."""
    operations: list[Operation]


def _path_value(value: Any, kind: type) -> str | None:
    if kind is int:
        try:
            return str(int(value))
        except (TypeError, ValueError):
            return None
    return str(value)


def _sent_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _sent_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _sent_strings(item)
    elif value is not None:
        yield str(value)


class Planner:
    def __init__(
        self,
        app: Litestar,
        resolver: ReferenceResolver,
        values: ReferenceValues,
        filler: str,
    ) -> None:
        self.resolver = resolver
        self.values = values
        self.filler = filler
        spec = app.openapi_schema.to_schema()
        self.components: Mapping[str, Any] = spec.get("components", {}).get("schemas", {})
        self.unmapped: list[str] = []

    def plan(self, operations: list[Operation]) -> Plan:
        attempts = []
        uncovered = []
        for operation in operations:
            try:
                found = self._for(operation)
            except Unmapped as exc:
                self.unmapped.append(str(exc))
                continue
            about_rows = any(
                self.resolver.resolve(name, operation, strict=False).table is not None
                for name in operation.path_types
            )
            if about_rows and not found:
                uncovered.append(operation.label)
            attempts.extend(found)
        return Plan(attempts, sorted(set(self.unmapped)), uncovered, operations)

    def _required_query(self, operation: Operation) -> dict[str, Any]:
        query = {}
        for parameter in operation.parameters("query"):
            if parameter.get("required"):
                query[parameter["name"]] = minimal_instance(
                    parameter.get("schema", {}), self.components
                )
        return query

    def _body(self, operation: Operation, found: list[str]) -> Any:
        """A valid body whose reference fields point at other branches' rows (listed in
        ``found``)."""
        schema = operation.body_schema()
        if schema is None:
            return None

        def substitute(name: str, sub: Mapping[str, Any]) -> Any:
            try:
                reference = self.resolver.resolve(name, operation, strict=True, by_column=False)
            except Unmapped:
                raise Unmapped(f"{operation.label}: body field {name!r}") from None
            for candidate in self.values.foreign(reference):
                value = coerce_to_schema(candidate, sub, self.components)
                if value is not NO_VALUE:
                    found.append(f"body.{name}={candidate}")
                    return value
            return NO_VALUE

        body = minimal_instance(schema, self.components, substitute)
        if operation.method == "PATCH" and body == {}:
            # An empty patch may be answered without touching the row: change something,
            # preferring a property whose valid values the schema spells out.
            properties = resolve_ref(schema, self.components).get("properties", {})
            ranked = sorted(properties.items(), key=lambda item: self._certainty(item[1]))
            for name, sub in ranked:
                value = minimal_instance(sub, self.components)
                if value is not None:
                    body[name] = value
                    break
        return body

    def _certainty(self, schema: Mapping[str, Any]) -> int:
        """0 for enumerations, 1 for booleans, dates and patterns, 2 for anything else."""
        options = [resolve_ref(schema, self.components)]
        for key in ("oneOf", "anyOf"):
            options += [resolve_ref(o, self.components) for o in options[0].get(key, [])]
        if any("enum" in o or "const" in o for o in options):
            return 0
        if any(o.get("type") == "boolean" or "format" in o or "pattern" in o for o in options):
            return 1
        return 2

    def _for(self, operation: Operation) -> list[Attempt]:
        path_refs: dict[str, Reference] = {}
        for name in operation.path_types:
            path_refs[name] = self.resolver.resolve(name, operation, strict=True)
        bound = {n: r for n, r in path_refs.items() if r.table is not None}
        has_body = operation.body_schema() is not None and operation.method != "GET"
        attempts: list[Attempt] = []
        if bound:
            foreign = {n: self.values.foreign(r) for n, r in bound.items()}
            rounds = max((len(v) for v in foreign.values()), default=0)
            for i in range(rounds):
                chosen = {n: v[i % len(v)] for n, v in foreign.items() if v}
                attempt = self._attempt(operation, chosen, has_body=has_body)
                if attempt is not None:
                    attempt.all_path_references = len(bound) == len(path_refs)
                    attempts.append(attempt)
            if has_body:
                own = {n: self.values.own(r) for n, r in bound.items()}
                if all(own.values()):
                    chosen = {n: v[0] for n, v in own.items()}
                    attempt = self._attempt(operation, chosen, has_body=True, own_path=True)
                    if attempt is not None and attempt.foreign:
                        attempts.append(attempt)
            return attempts
        if operation.method == "GET":
            return self._list_attempts(operation)
        attempt = self._attempt(operation, {}, has_body=has_body)
        return [attempt] if attempt is not None and attempt.foreign else []

    def _attempt(
        self,
        operation: Operation,
        chosen: dict[str, Any],
        *,
        has_body: bool,
        own_path: bool = False,
    ) -> Attempt | None:
        """A request with ``chosen`` path keys (other branches' rows unless ``own_path``)
        and, with ``has_body``, a body referring to other branches' rows."""
        path = operation.template
        foreign = [] if own_path else [f"path.{n}={v}" for n, v in chosen.items()]
        for name, kind in operation.path_types.items():
            value = chosen.get(name, 1 if kind is int else self.filler)
            rendered = _path_value(value, kind)
            if rendered is None:
                return None
            path = path.replace("{" + name + "}", rendered)
        body = self._body(operation, foreign) if has_body else None
        query = self._required_query(operation)
        attempt = Attempt(operation, path, query, body, has_body, foreign)
        attempt.sent = set(_sent_strings([body, list(query.values()), list(chosen.values())]))
        return attempt

    def _list_attempts(self, operation: Operation) -> list[Attempt]:
        path = operation.template
        for name, kind in operation.path_types.items():
            rendered = _path_value(1 if kind is int else self.filler, kind)
            if rendered is None:
                return []
            path = path.replace("{" + name + "}", rendered)
        base = self._required_query(operation)
        attempts = [Attempt(operation, path, dict(base))]
        route_table = self.resolver.route_table(operation)
        for parameter in operation.parameters("query"):
            name = parameter["name"]
            reference = self.resolver.resolve(name, operation, strict=False)
            candidates = self.values.foreign(reference)
            if not candidates and route_table is not None and _is_search(parameter):
                # A free-text filter (search): look for another branch's row by its text.
                candidates = self._foreign_text(route_table)
            for candidate in candidates[:1]:
                query = {**base, name: candidate}
                attempt = Attempt(operation, path, query)
                attempt.sent = {str(candidate)}
                attempts.append(attempt)
        return attempts

    def _foreign_text(self, table: BoundTable) -> list[Any]:
        rows = self.values.snapshot.tables[table.name]
        for row in rows.rows.values():
            branch = rows.branch_of(row)
            if branch is None or branch in self.values.visible:
                continue
            for column in table.columns:
                value = row.get(column)
                if isinstance(value, str) and distinctive(value):
                    return [value]
        return []


def _is_search(parameter: Mapping[str, Any]) -> bool:
    if parameter["name"] in PAGINATION_PARAMETERS:
        return False
    schema = parameter.get("schema", {})
    kinds = [schema.get("type")] + [o.get("type") for o in schema.get("oneOf", [])]
    return "string" in kinds and "format" not in schema and "enum" not in schema


# --- running ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    attempt: str
    status: int
    problem: str

    def __str__(self) -> str:
        return f"{self.attempt} -> {self.status}: {self.problem}"


def _walk(value: Any) -> Iterator[tuple[str | None, Any, Any]]:
    """(key, value, the object holding it) for everything nested in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item, value
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield None, item, value
            yield from _walk(item)


def leaks(
    response: httpx.Response, visible: frozenset[int], canaries: set[str], sent: set[str]
) -> list[str]:
    """Signs in ``response`` of rows outside ``visible``."""
    texts = [response.text]
    outside: set[int] = set()
    payload: Any = None
    if "json" in response.headers.get("content-type", ""):
        try:
            payload = response.json()
        except ValueError:
            payload = None
    example = ""
    for key, value, holder in _walk(payload):
        if isinstance(value, str):
            texts.append(value)
        # Only objects shaped like a row (with an id): filters echoed elsewhere (an audit
        # entry recording what was asked for) are not rows of that branch.
        is_row = isinstance(holder, dict) and "id" in holder
        if (
            is_row
            and key in {"branch_id", "branch"}
            and isinstance(value, int)
            and (value not in visible)
        ):
            outside.add(value)
            example = example or json.dumps(holder, ensure_ascii=False, default=str)[:300]
    problems = [f"answers rows of branches {sorted(outside)}: {example}"] if outside else []
    joined = "\x00".join(texts)
    found = sorted(c for c in canaries - sent if c in joined)
    if found:
        problems.append(f"contains other branches' data: {found[:5]}")
    return problems


async def _send(client: httpx.AsyncClient, attempt: Attempt) -> httpx.Response:
    kwargs: dict[str, Any] = {"params": attempt.query}
    if attempt.has_body:
        kwargs["json"] = attempt.body
    return await client.request(attempt.operation.method, attempt.path, **kwargs)


async def run_attempts(
    client: httpx.AsyncClient,
    attempts: list[Attempt],
    visible: frozenset[int],
    canaries: set[str],
) -> list[Finding]:
    """Send every attempt as the actor behind ``client``; report what crossed the boundary."""
    findings = []
    for attempt in attempts:
        response = await _send(client, attempt)
        label = attempt.describe()
        if response.status_code == 401:
            findings.append(Finding(label, 401, "the actor is not authenticated: proves nothing"))
            continue
        if response.status_code >= 500:
            findings.append(Finding(label, response.status_code, "server error"))
        elif attempt.expect_refusal and response.status_code == 400:
            findings.append(
                Finding(
                    label,
                    400,
                    "the generated request was rejected as malformed before reaching the row, so "
                    f"the route is not probed: {response.text[:200]}",
                )
            )
        elif attempt.expect_refusal and response.status_code not in REFUSALS:
            findings.append(
                Finding(
                    label,
                    response.status_code,
                    f"a request about another branch's row was not refused: {response.text[:200]}",
                )
            )
        for problem in leaks(response, visible, canaries, attempt.sent):
            findings.append(Finding(label, response.status_code, problem))
        findings.extend(await _follow_pages(client, attempt, response, visible, canaries))
    return findings


async def _follow_pages(
    client: httpx.AsyncClient,
    attempt: Attempt,
    response: httpx.Response,
    visible: frozenset[int],
    canaries: set[str],
) -> list[Finding]:
    if attempt.operation.method != "GET" or response.status_code != 200:
        return []
    if not any(p["name"] == "cursor" for p in attempt.operation.parameters("query")):
        return []
    findings = []
    for _ in range(MAX_PAGES):
        payload = response.json()
        cursor = payload.get("next_cursor") if isinstance(payload, dict) else None
        if not cursor:
            break
        response = await client.get(attempt.path, params={**attempt.query, "cursor": cursor})
        label = f"{attempt.describe()} (cursor page)"
        if response.status_code != 200:
            findings.append(Finding(label, response.status_code, "next page failed"))
            break
        findings.extend(
            Finding(label, 200, p) for p in leaks(response, visible, canaries, attempt.sent)
        )
    return findings


async def run_controls(client: httpx.AsyncClient, attempts: list[Attempt]) -> list[Finding]:
    """The refused reads again, as an actor who sees every branch (head office).

    They must not be refused for being unknown: otherwise the probe used keys that do not
    exist and its refusals proved nothing. Run them after the actor's snapshot is taken
    (reads may write view audit entries).
    """
    findings = []
    for attempt in attempts:
        if attempt.operation.method != "GET" or not attempt.expect_refusal:
            continue
        if not attempt.all_path_references:
            continue
        response = await _send(client, attempt)
        if response.status_code in {401, 403, 404} or response.status_code >= 500:
            findings.append(
                Finding(
                    attempt.describe(),
                    response.status_code,
                    "head office cannot read it either: the probe's keys are wrong",
                )
            )
    return findings


# --- the whole check ----------------------------------------------------------------------


@dataclass
class RestIsolationResult:
    plan: Plan
    findings: list[Finding]
    changes: list[str]
    """Rows of other branches that changed while the actor probed."""
    controls: list[Finding]

    def problems(self) -> list[str]:
        lines = [f"unmapped parameter {u}" for u in self.plan.unmapped]
        lines += [f"no row of another branch to probe {u} with" for u in self.plan.uncovered]
        lines += [str(f) for f in self.findings]
        lines += [f"changed: {c}" for c in self.changes]
        lines += [f"control: {f}" for f in self.controls]
        return lines


async def probe_rest_isolation(
    world: Any,
    actor: httpx.AsyncClient,
    branch_code: str,
    *,
    control: httpx.AsyncClient | None = None,
    overrides: Mapping[str, str | None] | None = None,
) -> RestIsolationResult:
    """Probe every API route as ``actor`` (scoped to ``branch_code``'s subtree).

    ``control`` (a head-office client) re-reads what the actor was refused, after the
    database was compared, to show the refused keys exist.
    """
    from bankcrm_sdk.isolation import table_index, take_snapshot

    index = table_index()
    visible = await world.subtree(branch_code)
    before = await take_snapshot(world.kernel.owner_url, index)
    resolver = ReferenceResolver(index, overrides)
    values = ReferenceValues(before, visible, rules=world.kernel.access_rules())
    filler = next(iter(world.kernel.registry.order), "bankcrm")
    plan = Planner(world.app, resolver, values, filler).plan(operations(world.app))
    findings = await run_attempts(actor, plan.attempts, visible, before.canaries(visible))
    still = await actor.get("/api/v1/auth/me")
    if still.status_code != 200:
        findings.append(
            Finding(
                "GET /api/v1/auth/me",
                still.status_code,
                "the actor lost its identity during the probe",
            )
        )
    after = await take_snapshot(world.kernel.owner_url, index)
    changes = before.foreign_changes(after, visible)
    controls = await run_controls(control, plan.attempts) if control is not None else []
    return RestIsolationResult(plan, findings, changes, controls)
