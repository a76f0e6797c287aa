"""How long a refused login takes, by why it is refused.

The login answers an unknown user, a wrong password and a locked account identically; if
one of them were much faster, the time would tell what the body hides. Each case is timed
over the same number of logins through the app (in process, on the test database),
interleaved, the wrong password of an existing account being the baseline. Nothing is
asserted about the times (only that the answers are identical): run
``CI=true BANKCRM_DATABASE_URL=… uv run pytest benchmarks/test_bench_login.py -s -p no:randomly``
and record the printed table in ``results/``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import pytest
from piccolo.apps.user.tables import BaseUser

from bankcrm import auth, db, passwords
from bankcrm_sdk.world import PASSWORD, World

ROUNDS = 20
PRODUCTION_ITERATIONS = 600_000
WRONG = "Wrong-Passw0rd!"


@pytest.fixture
def production_hashing() -> Iterator[None]:
    """The production PBKDF2 cost (the SDK lowers it for tests), for the hashes made here."""
    lowered = BaseUser._pbkdf2_iteration_count
    BaseUser._pbkdf2_iteration_count = PRODUCTION_ITERATIONS
    auth.unknown_user_hash.cache_clear()
    yield
    BaseUser._pbkdf2_iteration_count = lowered
    auth.unknown_user_hash.cache_clear()


@pytest.mark.parametrize("iterations", ["test", "production"])
async def test_refused_logins_take_as_long_whatever_the_reason(
    world: World, iterations: str, request: pytest.FixtureRequest
) -> None:
    if iterations == "production":
        request.getfixturevalue("production_hashing")
        for username in ("demo.bj.rm", "demo.teller"):
            await db.fetch(
                "UPDATE piccolo_user SET password = $1 WHERE username = $2",
                passwords.hash_password(PASSWORD),
                username,
            )
    client = world.anonymous_client()
    for _ in range(world.kernel.settings.login_max_failures):
        await client.post("/api/v1/auth/login", json={"username": "demo.teller", "password": WRONG})
    cases = {
        "wrong password (baseline)": ("demo.bj.rm", WRONG),
        "unknown user": ("no.such.user", WRONG),
        "locked account, right password": ("demo.teller", PASSWORD),
        "locked account, wrong password": ("demo.teller", WRONG),
    }
    timings: dict[str, list[float]] = {case: [] for case in cases}
    answers: set[str] = set()
    for _ in range(ROUNDS):
        for case, (username, password) in cases.items():
            # Neither the address limit nor the baseline account's lock may end the run.
            await auth.forget_login_attempts()
            await db.fetch(
                'UPDATE bankcrm_user_security SET failed_logins = 0 WHERE "user" = $1',
                world.users["demo.bj.rm"],
            )
            started = time.perf_counter()
            answer = await client.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
            timings[case].append(time.perf_counter() - started)
            body = answer.json()
            answers.add(f"{answer.status_code} {body['type']} {body['detail']} {body['errors']}")
    assert len(answers) == 1, answers
    baseline = statistics.median(timings["wrong password (baseline)"])
    print(f"\n{iterations} hashing, {ROUNDS} logins per case, interleaved; ms, ratio of medians:")
    print("| case | median ms | p90 ms | ratio |")
    print("|---|---|---|---|")
    for case, values in timings.items():
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"| {case} | {median * 1000:.1f} | {p90 * 1000:.1f} | {median / baseline:.2f} |")
