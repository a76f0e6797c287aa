"""In-process hot paths of the kernel that run on every request (or every row).

Run: ``uv run pytest benchmarks --benchmark-only`` (the root configuration skips benchmarks
in the normal suite, whose test paths do not include this folder). Each benchmark also
checks its result, so a broken path fails instead of being timed.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import pytest
from litestar import Request

from bankcrm import pii
from bankcrm.branches import BranchNode, TreeSnapshot
from bankcrm.context import Scope, bind_scope, scope_setting
from bankcrm.observability import JsonFormatter
from bankcrm.settings import get_settings
from bankcrm.web.pagination import decode_cursor, encode_cursor
from bankcrm.web.problems import FieldError, Problem, handle_problem

PLUGINS = ("customer_archive", "sales", "marketing", "service", "reporting", "mining")


def make_tree(branches: int, subs_per_branch: int) -> TreeSnapshot:
    """Head office -> ``branches`` branches -> ``subs_per_branch`` sub-branches each, with
    every plugin enabled at the head office (inherited), as the demo world does."""
    nodes = {1: BranchNode(1, "HQ", "总行", "Head Office", None, 0, "1/", True)}
    next_id = 2
    for b in range(branches):
        branch_id = next_id
        next_id += 1
        nodes[branch_id] = BranchNode(
            branch_id, f"B{b}", f"分行{b}", "", 1, 1, f"1/{branch_id}/", True
        )
        for s in range(subs_per_branch):
            nodes[next_id] = BranchNode(
                next_id,
                f"B{b}-{s}",
                f"支行{s}",
                "",
                branch_id,
                2,
                f"1/{branch_id}/{next_id}/",
                True,
            )
            next_id += 1
    return TreeSnapshot(
        nodes=nodes,
        by_code={n.code: n.id for n in nodes.values()},
        enablement={(1, plugin): True for plugin in PLUGINS},
        settings={},
    )


# By name, so that the trees themselves do not end up in the benchmark JSON as parameters.
TREES = {
    "7-branches": make_tree(2, 2),  # the demo world
    "2197-branches": make_tree(36, 60),  # a national bank
}


def branch_manager_scope(tree: TreeSnapshot) -> Scope:
    return Scope(
        actor="user:2",
        branch_ids=tree.subtree(2),
        permissions=frozenset({"customer_archive.customer.read"}),
        user_id=2,
        home_branch_id=2,
        username="demo.bj.manager",
    )


@pytest.mark.parametrize("size", list(TREES))
def test_plugin_enabled_guard_scope(benchmark: Any, size: str) -> None:
    """What the ``plugin_enabled`` guard does per plugin request: the branches where the
    plugin is enabled (walking each branch's ancestors), then the narrowed scope."""
    tree = TREES[size]
    scope = branch_manager_scope(tree)

    def narrow() -> Scope:
        return scope.narrowed(tree.enabled_branches("customer_archive"))

    narrowed = benchmark(narrow)
    assert narrowed.branch_ids == scope.branch_ids


@pytest.mark.parametrize("size", list(TREES))
def test_subtree_of_membership(benchmark: Any, size: str) -> None:
    """``auth.scope_for_session``: each membership's branch expands to its subtree."""
    tree = TREES[size]
    result = benchmark(tree.subtree, 2)
    assert 2 in result
    assert 1 not in result


def test_scope_setting(benchmark: Any) -> None:
    """The two values sent with every pool checkout (``db.apply_scope``)."""
    scope = branch_manager_scope(TREES["2197-branches"])
    branch_ids, actor = benchmark(scope_setting, scope)
    assert actor == "user:2"
    assert branch_ids.count(",") == len(scope.branch_ids) - 1


@pytest.mark.parametrize(
    ("masker", "value", "expected"),
    [
        (pii.mask, "13812345678", "138****5678"),
        (pii.mask_id_number, "110105194912310021", "110***********0021"),
        (pii.mask_account, "6222021234567890123", "6222***********0123"),
        (pii.mask_name, "王秀英", "王**"),
    ],
    ids=["phone", "id-number", "account", "name"],
)
def test_masking(benchmark: Any, masker: Any, value: str, expected: str) -> None:
    assert benchmark(masker, value) == expected


@pytest.fixture
def secret_key() -> bytes:
    key = get_settings().secret_key
    assert key, "the SDK's pytest plugin sets BANKCRM_SECRET_KEY"
    return key


def test_pii_lookup_hash(benchmark: Any, secret_key: bytes) -> None:
    """The keyed hash an ID-number search computes (once per query, once per row written)."""
    digest = benchmark(pii.lookup_hash, "110105 19491231 0021")
    assert digest == pii.lookup_hash("110105194912310021")
    assert len(digest) == 64


def test_pii_encrypt(benchmark: Any, secret_key: bytes) -> None:
    token = benchmark(pii.encrypt, "110105194912310021")
    assert pii.decrypt(token) == "110105194912310021"


def test_pii_decrypt(benchmark: Any, secret_key: bytes) -> None:
    """Revealing an ID number (audited, rare) or reading a TOTP secret at login."""
    token = pii.encrypt("110105194912310021")
    assert benchmark(pii.decrypt, token) == "110105194912310021"


def http_request(path: str) -> Request[Any, Any, Any]:
    return Request(
        scope={  # type: ignore[arg-type]
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "server": ("127.0.0.1", 8000),
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [],
            "state": {"request_id": "0123456789abcdef"},
            "app": None,
        }
    )


def test_problem_rendering(benchmark: Any) -> None:
    """A 422 with field errors, from the exception to the encoded JSON body."""
    request = http_request("/api/v1/customer_archive/customers")
    problem = Problem(
        422,
        "query.limit: must be between 1 and 200",
        [FieldError("query.limit", "must be between 1 and 200")],
        "invalid",
    )

    def render() -> bytes:
        with bind_scope(None):
            response = handle_problem(request, problem)
        return msgspec.json.encode(response.content)

    body = msgspec.json.decode(benchmark(render))
    assert body["status"] == 422
    assert body["errors"][0]["field"] == "query.limit"
    assert body["request_id"] == "0123456789abcdef"


def test_keyset_cursor_round_trip(benchmark: Any) -> None:
    """Encode the next-page cursor of a (sort key, id) keyset page and decode it again."""
    values = ["张伟", 1_234_567]

    def round_trip() -> list[Any] | None:
        return decode_cursor(encode_cursor(values), (str, int))

    assert benchmark(round_trip) == values


def test_access_log_line(benchmark: Any) -> None:
    """The JSON access-log line ``ScopeMiddleware`` writes for every request."""
    record = logging.LogRecord("bankcrm.access", logging.INFO, __file__, 1, "request", None, None)
    for key, value in {
        "request_id": "0123456789abcdef",
        "method": "GET",
        "path": "/api/v1/customer_archive/customers/42",
        "status": 200,
        "duration_ms": 3.21,
        "actor": "user:2",
    }.items():
        setattr(record, key, value)
    formatter = JsonFormatter()
    line = benchmark(formatter.format, record)
    assert msgspec.json.decode(line)["path"].endswith("/42")


def _calendar_2026() -> Any:
    from datetime import time as clock_time
    from zoneinfo import ZoneInfo

    from bankcrm import business_calendar

    days, _ = business_calendar.package_days(2026)
    return business_calendar.BranchCalendar(
        ZoneInfo("Asia/Shanghai"),
        {d: (clock_time(9), clock_time(17)) for d in range(5)},
        {d.day: d.kind for d in days},
        frozenset({2026}),
        {},
    )


def test_add_business_time(benchmark: Any) -> None:
    """An SLA deadline: 16 business hours from Friday afternoon before the Spring Festival
    (the computation walks over the holiday week, with the calendar warm)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    calendar = _calendar_2026()
    start = datetime(2026, 2, 13, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    expected = datetime(2026, 2, 24, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert benchmark(calendar.add, start, timedelta(hours=16)) == expected


def test_add_wall_clock_time_baseline(benchmark: Any) -> None:
    """The baseline for ``add_business_time``: aware datetime plus timedelta."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    start = datetime(2026, 2, 13, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert benchmark(lambda: start + timedelta(hours=16)) > start
