"""The bankcrm pytest plugin (``-p bankcrm_sdk.pytest_plugin``, also an entry point).

Fixtures:

- ``bankcrm_database``: a fresh, migrated PostgreSQL database for the session;
- ``kernel``: the kernel booted on it with the installed plugins (or ``BANKCRM_PLUGINS``),
  connected as the application role, so row-level security is live;
- ``app``: the web app (REST + admin);
- ``world``: an emptied database with the demo branch tree, roles and users, and
  logged-in HTTP clients (``await world.client("demo.bj.rm")``);
- ``make_plugin`` and ``kernel_with``: temporary plugins for one test;
- ``job_worker``: starts dramatiq workers (stub broker by default) for a kernel's actors;
- ``redis_url`` / ``rabbitmq_url``: broker services, skipped when absent (never under CI).

Each test that takes ``world`` starts from empty tables: the app under test uses real
connections from a pool and commits (several trap tests need real commits seen by other
connections), so isolation is by truncation, not by an enclosing rolled-back transaction.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest

from bankcrm import branches
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel, boot, load_registry
from bankcrm.settings import get_settings, load_settings
from bankcrm_sdk.browser import staff_browser
from bankcrm_sdk.database import TestDatabase, create_test_database
from bankcrm_sdk.jobs import JobHarness, StartJobWorker, stub_broker
from bankcrm_sdk.plugins import make_plugin as _make_plugin
from bankcrm_sdk.world import World, build_world, truncate_all

TEST_SECRET = "bankcrm-test-secret-key-not-for-production"


TEST_PBKDF2_ITERATIONS = 1_000


def pytest_configure(config: pytest.Config) -> None:
    from piccolo.apps.user.tables import BaseUser

    os.environ.setdefault("BANKCRM_SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    # Production hashing (600,000 PBKDF2 rounds) costs ~0.3 s per password on this class of
    # machine; every test creates seven users. Tests check the login logic, not the cost.
    BaseUser._pbkdf2_iteration_count = TEST_PBKDF2_ITERATIONS


@pytest.fixture(scope="session")
async def bankcrm_database() -> AsyncIterator[TestDatabase]:
    database = await create_test_database()
    try:
        yield database
    finally:
        await database.drop()


@pytest.fixture(scope="session")
async def kernel(bankcrm_database: TestDatabase) -> AsyncIterator[Kernel]:
    settings = replace(load_settings(), database_url=bankcrm_database.owner_url)
    booted = await boot(settings, migrate=True, connect=True)
    try:
        yield booted
    finally:
        await booted.disconnect()


@pytest.fixture(scope="session")
async def app(kernel: Kernel) -> Any:
    from bankcrm.webapp import create_app

    application = create_app(kernel)
    await kernel.registry.call_all("startup", app=application)
    yield application
    await kernel.registry.call_all("shutdown", app=application)


async def reset_database(database: TestDatabase) -> None:
    await truncate_all(database.owner_url)
    branches.invalidate()


@pytest.fixture
async def clean_database(bankcrm_database: TestDatabase, kernel: Kernel) -> TestDatabase:
    """Empty tables, no world: for tests that build their own data."""
    await reset_database(bankcrm_database)
    return bankcrm_database


@pytest.fixture
async def world(bankcrm_database: TestDatabase, kernel: Kernel, app: Any) -> AsyncIterator[World]:
    await reset_database(bankcrm_database)
    built = await build_world(kernel, app)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
def make_plugin() -> Callable[..., PluginCandidate]:
    return _make_plugin


@pytest.fixture
def kernel_with(kernel: Kernel) -> Iterator[Callable[[list[PluginCandidate]], Kernel]]:
    """A kernel sharing the test database whose registry also holds temporary plugins."""
    from bankcrm import piccolo_conf

    original_apps = piccolo_conf.APP_REGISTRY

    def build(candidates: list[PluginCandidate]) -> Kernel:
        registry = load_registry(kernel.settings, candidates)
        return Kernel(kernel.settings, registry, kernel.owner_url, kernel.app_url)

    yield build
    piccolo_conf.APP_REGISTRY = original_apps


@pytest.fixture
async def job_worker(kernel: Kernel) -> AsyncIterator[StartJobWorker]:
    """Start dramatiq workers for a kernel: ``jobs = await job_worker(kernel_with([...]))``.

    Defaults: the session kernel, a stub broker, two threads. Pass ``broker=`` for a real
    one (``bankcrm.jobs.make_broker``). Every worker started is stopped after the test.
    """
    started: list[JobHarness] = []

    async def start(
        for_kernel: Kernel | None = None, *, broker: Any = None, threads: int = 2
    ) -> JobHarness:
        harness = JobHarness(for_kernel or kernel, broker or stub_broker(), threads)
        started.append(harness)
        return harness

    yield start
    for harness in reversed(started):
        await harness.stop()


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 1):
            return True
    except OSError:
        return False


def service_url(variable: str, default: str) -> str:
    """The URL of an external service, or skip (never under CI, where it must run)."""
    url = os.environ.get(variable, default)
    if _reachable(url):
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{variable}={url} is not reachable, and CI must run these tests")
    pytest.skip(f"{url} not reachable (set {variable}); skipped outside CI")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return service_url("BANKCRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    return service_url("BANKCRM_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


__all__ = ["World", "boot", "staff_browser"]
