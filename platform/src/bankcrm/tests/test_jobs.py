"""The job system with the stub broker: scope, RLS, outbox, idempotency, events, schedules."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dramatiq import Message

from bankcrm import audit, branches, db, jobs
from bankcrm.context import Scope, bind_scope, current_scope
from bankcrm.plugin_api import ScheduleSpec
from bankcrm.plugins import PluginCandidate
from bankcrm.runtime import Kernel
from bankcrm_sdk.jobs import JobFailed, StartJobWorker, enable_plugin

pytestmark = pytest.mark.usefixtures("clean_database")

Seen = list[dict[str, Any]]


async def make_branches(*codes: str) -> list[int]:
    async with db.transaction():
        return [(await branches.create_branch(code, code)).id for code in codes]


def user_scope(*branch_ids: int) -> Scope:
    return Scope(
        actor="user:7",
        branch_ids=frozenset(branch_ids),
        permissions=frozenset({"x"}),
        user_id=7,
        username="someone",
    )


async def effects(token: str) -> int:
    """Audit rows the effect actors wrote for ``token`` (counted with a scope over all)."""
    tree = await branches.snapshot()
    with bind_scope(Scope(actor="system:test", branch_ids=frozenset(tree.nodes))):
        return int(
            await db.fetchval(
                "SELECT count(*) FROM bankcrm_audit WHERE entity = 'jobtest.effect'"
                " AND entity_id = $1",
                token,
            )
        )


async def ledger(message_id: str) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM bankcrm_job_execution WHERE message_id = $1", message_id
        )
    )


async def unsent() -> int:
    return int(await db.fetchval("SELECT count(*) FROM bankcrm_outbox WHERE sent_at IS NULL"))


def plugin_with(
    make_plugin: Callable[..., PluginCandidate],
    name: str,
    *actors: jobs.JobActor[Any],
    **hooks: Callable[..., Any],
) -> PluginCandidate:
    return make_plugin(name, hooks={"register_actors": lambda: list(actors), **hooks})


def effect_actor(name: str, **options: Any) -> jobs.JobActor[Any]:
    @jobs.actor(name, **options)
    async def write_effect(token: str, branch_id: int) -> None:
        await audit.record("create", "jobtest.effect", token, branch_id=branch_id)

    return write_effect


async def test_actor_runs_with_the_senders_scope_and_rls_applies(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    a, b = await make_branches("A", "B")
    await enable_plugin("jobscope", a, b)
    with bind_scope(user_scope(a, b)):
        async with db.transaction():
            await audit.record("create", "jobtest.probe", "in-a", branch_id=a)
            await audit.record("create", "jobtest.probe", "in-b", branch_id=b)
    seen: Seen = []

    @jobs.actor("jobscope.look")
    async def look() -> None:
        scope = current_scope()
        assert scope is not None
        rows = await db.fetch("SELECT entity_id FROM bankcrm_audit WHERE entity = 'jobtest.probe'")
        seen.append(
            {
                "scope": scope,
                "rows": sorted(r["entity_id"] for r in rows),
                "job": jobs.current_job().message_id,
            }
        )

    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobscope", look)]))
    sender = user_scope(a)
    with bind_scope(sender):
        async with db.transaction():
            message_id = await look.enqueue()
    await worker.drain()

    assert len(seen) == 1
    assert seen[0]["rows"] == ["in-a"]
    assert seen[0]["job"] == message_id
    assert seen[0]["scope"] == sender


async def test_message_without_scope_runs_with_none_and_sees_nothing(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    (a,) = await make_branches("A")
    await enable_plugin("jobnoscope", a)
    with bind_scope(user_scope(a)):
        async with db.transaction():
            await audit.record("create", "jobtest.probe", "in-a", branch_id=a)
    seen: Seen = []

    @jobs.actor("jobnoscope.look")
    async def look() -> None:
        rows = await db.fetch("SELECT 1 FROM bankcrm_audit WHERE entity = 'jobtest.probe'")
        seen.append({"scope": current_scope(), "rows": len(rows)})

    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobnoscope", look)]))
    async with db.transaction():
        await look.enqueue()
    await worker.drain()

    assert seen == [{"scope": None, "rows": 0}]


async def test_enqueue_outside_a_transaction_is_refused() -> None:
    write = effect_actor("jobtx.write")
    with pytest.raises(jobs.OutsideTransaction):
        await write.enqueue("t", 1)
    with pytest.raises(TypeError, match="JSON"):
        async with db.transaction():
            await jobs.enqueue(write, object(), 1)


async def test_nothing_reaches_the_broker_before_commit_and_relaying_is_idempotent(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    (a,) = await make_branches("A")
    await enable_plugin("jobcommit", a)
    write = effect_actor("jobcommit.write")
    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobcommit", write)]))
    token = uuid.uuid4().hex

    with bind_scope(user_scope(a)):
        async with db.transaction():
            await write.enqueue(token, a)
            assert await worker.relay() == 0
            assert worker.broker.queues["jobcommit.default"].qsize() == 0
    assert await worker.relay() == 1
    assert await worker.relay() == 0
    assert await unsent() == 0
    await worker.drain()

    assert await effects(token) == 1


async def test_a_relay_skips_rows_another_relay_holds(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    (a,) = await make_branches("A")
    await enable_plugin("jobskip", a)
    write = effect_actor("jobskip.write")
    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobskip", write)]))
    tokens = [uuid.uuid4().hex for _ in range(5)]
    with bind_scope(user_scope(a)):
        async with db.transaction():
            for token in tokens:
                await write.enqueue(token, a)

    async with db.transaction():
        # Another relay, mid-send, holding the two oldest rows.
        await db.fetch(
            "SELECT id FROM bankcrm_outbox WHERE sent_at IS NULL ORDER BY id LIMIT 2 FOR UPDATE"
        )
        assert await asyncio.wait_for(worker.relay(), 5) == 3
    assert await worker.relay() == 2
    await worker.drain()

    assert [await effects(token) for token in tokens] == [1] * 5


async def test_a_rolled_back_transaction_sends_nothing(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    (a,) = await make_branches("A")
    await enable_plugin("jobrollback", a)
    write = effect_actor("jobrollback.write")
    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobrollback", write)]))
    token = uuid.uuid4().hex

    with bind_scope(user_scope(a)), pytest.raises(RuntimeError, match="abandon"):
        async with db.transaction():
            await write.enqueue(token, a)
            raise RuntimeError("abandon")
    await worker.drain()

    assert int(await db.fetchval("SELECT count(*) FROM bankcrm_outbox")) == 0
    assert worker.broker.queues["jobrollback.default"].unfinished_tasks == 0
    assert await effects(token) == 0


async def test_a_job_always_finds_the_row_its_transaction_wrote(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    (a,) = await make_branches("A")
    await enable_plugin("jobread", a)
    found: list[bool] = []

    @jobs.actor("jobread.read")
    async def read(audit_id: int) -> None:
        found.append(
            await db.fetchval("SELECT 1 FROM bankcrm_audit WHERE id = $1", audit_id) is not None
        )

    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobread", read)]))
    with bind_scope(user_scope(a)):
        async with db.transaction():
            audit_id = await audit.record("create", "jobtest.row", "r", branch_id=a)
            await read.enqueue(audit_id)
            # Give a premature relay every chance: it must not see the row yet.
            await worker.relay()
            await asyncio.sleep(0.05)
    await worker.drain()

    assert found == [True]


async def test_a_redelivered_message_has_its_effect_once(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    (a,) = await make_branches("A")
    await enable_plugin("jobdup", a)
    write = effect_actor("jobdup.write")
    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobdup", write)]))
    token = uuid.uuid4().hex
    with bind_scope(user_scope(a)):
        async with db.transaction():
            message_id = await write.enqueue(token, a)
    await worker.drain()
    message = Message(
        queue_name="jobdup.default",
        actor_name="jobdup.write",
        args=(token, a),
        kwargs={},
        options={jobs.SCOPE_OPTION: {"actor": "user:7", "branch_ids": [a], "request_id": "r1"}},
        message_id=message_id,
    )
    worker.broker.enqueue(message)
    worker.broker.enqueue(message)
    await worker.drain()

    assert await effects(token) == 1
    assert await ledger(message_id) == 1


async def test_a_failed_attempt_leaves_no_effect_and_the_retry_has_it_once(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    (a,) = await make_branches("A")
    await enable_plugin("jobretry", a)
    attempts: list[int] = []

    @jobs.actor("jobretry.flaky", max_retries=1, min_backoff=10, max_backoff=20)
    async def flaky(token: str) -> None:
        await audit.record("create", "jobtest.effect", token, branch_id=a)
        attempts.append(jobs.current_job().retries)
        if len(attempts) == 1:
            raise RuntimeError("transient")

    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobretry", flaky)]))
    token = uuid.uuid4().hex
    with bind_scope(user_scope(a)):
        async with db.transaction():
            message_id = await flaky.enqueue(token)
    await worker.drain()

    assert attempts == [0, 1]
    assert await effects(token) == 1
    assert await ledger(message_id) == 1


async def test_a_job_over_its_time_limit_is_cancelled_and_rolled_back(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    (a,) = await make_branches("A")
    await enable_plugin("jobslow", a)

    @jobs.actor("jobslow.hang", max_retries=0, time_limit=200)
    async def hang(token: str) -> None:
        await audit.record("create", "jobtest.effect", token, branch_id=a)
        await asyncio.sleep(30)

    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobslow", hang)]))
    token = uuid.uuid4().hex
    with bind_scope(user_scope(a)):
        async with db.transaction():
            message_id = await hang.enqueue(token)
    with pytest.raises(JobFailed) as failed:
        await worker.drain()

    assert isinstance(failed.value.__cause__, jobs.JobTimeLimitExceeded)
    assert await effects(token) == 0
    assert await ledger(message_id) == 0


async def test_a_message_for_a_plugin_disabled_in_its_branches_is_not_run(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    enabled, disabled = await make_branches("ON", "OFF")
    await enable_plugin("jobgate", enabled)
    seen: Seen = []

    @jobs.actor("jobgate.look")
    async def look() -> None:
        scope = current_scope()
        assert scope is not None
        seen.append({"branches": scope.branch_ids})

    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobgate", look)]))
    with bind_scope(user_scope(disabled)):
        async with db.transaction():
            skipped = await look.enqueue()
    with bind_scope(user_scope(enabled, disabled)):
        async with db.transaction():
            narrowed = await look.enqueue()
    await worker.drain()

    assert seen == [{"branches": frozenset({enabled})}]
    assert await ledger(skipped) == 0
    assert await ledger(narrowed) == 1
    assert worker.failures == []


async def test_actors_must_be_named_after_their_plugin(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
) -> None:
    own = effect_actor("jobnames.own")
    foreign = effect_actor("othername.steal")
    foreign_queue = effect_actor("jobnames.queue", queue_name="othername.default")
    registry = kernel_with(
        [
            plugin_with(make_plugin, "jobnames", own, foreign, foreign_queue),
        ]
    ).registry

    catalogue = jobs.collect_actors(registry)

    assert catalogue.plugins.get("jobnames.own") == "jobnames"
    assert "othername.steal" not in catalogue.actors
    assert "jobnames.queue" not in catalogue.actors
    assert len([p for p in catalogue.problems if p.startswith("jobnames:")]) == 2
    with pytest.raises(TypeError):
        jobs.actor("jobnames.sync")(lambda: None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="plugin"):
        jobs.actor("noplugin")


async def test_events_reach_enabled_plugins_with_the_emitting_scope(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    a, b = await make_branches("A", "B")
    await enable_plugin("evsink", a, b)
    await enable_plugin("evnarrow", b)
    await enable_plugin("evoff", b)
    heard: Seen = []

    def listener(plugin: str) -> Callable[..., None]:
        def on_event(name: str, payload: dict[str, Any], scope: Scope) -> None:
            heard.append(
                {
                    "plugin": plugin,
                    "name": name,
                    "payload": payload,
                    "scope": scope,
                    "in_scope": current_scope(),
                }
            )

        return on_event

    async def on_event_async(name: str, scope: Scope) -> None:
        heard.append({"plugin": "evnarrow", "name": name, "scope": scope})

    worker = await job_worker(
        kernel_with(
            [
                make_plugin("evsink", hooks={"on_event": listener("evsink")}),
                make_plugin("evnarrow", hooks={"on_event": on_event_async}),
                make_plugin("evoff", hooks={"on_event": listener("evoff")}),
            ]
        )
    )
    with pytest.raises(PermissionError):
        async with db.transaction():
            await jobs.emit_event("evsrc.happened", {})
    sender = user_scope(a)
    with bind_scope(sender):
        async with db.transaction():
            await jobs.emit_event("evsrc.happened", {"id": 1})
    await worker.drain()

    assert len(heard) == 1
    event = heard[0]
    assert (event["plugin"], event["name"], event["payload"]) == (
        "evsink",
        "evsrc.happened",
        {"id": 1},
    )
    assert event["scope"] == sender
    assert event["in_scope"] == sender

    with bind_scope(user_scope(a, b)):
        async with db.transaction():
            await jobs.emit_event("evsrc.again", {})
    await worker.drain()

    again = {e["plugin"]: e["scope"].branch_ids for e in heard if e["name"] == "evsrc.again"}
    assert again == {"evsink": {a, b}, "evnarrow": {b}, "evoff": {b}}


async def test_two_schedulers_enqueue_each_due_tick_once(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    a, _ = await make_branches("A", "B")
    await enable_plugin("jobsched", a)
    seen: Seen = []

    @jobs.actor("jobsched.every_minute")
    async def every_minute() -> None:
        seen.append({"scope": current_scope()})

    kernel = kernel_with(
        [
            plugin_with(
                make_plugin,
                "jobsched",
                every_minute,
                register_schedules=lambda: [
                    ScheduleSpec("every_minute", "jobsched.every_minute", 60)
                ],
            )
        ]
    )
    first, second = await job_worker(kernel), await job_worker(kernel)
    now = datetime(2026, 11, 24, 12, 0, 30, tzinfo=UTC)

    ticks = await asyncio.gather(first.tick(now), second.tick(now), first.tick(now))
    later_same_minute = await second.tick(now + timedelta(seconds=20))
    next_minute = await first.tick(now + timedelta(seconds=40))

    assert sum(t.count("jobsched.every_minute") for t in ticks) == 1
    assert "jobsched.every_minute" not in later_same_minute
    assert "jobsched.every_minute" in next_minute
    assert (
        int(
            await db.fetchval(
                "SELECT count(*) FROM bankcrm_outbox WHERE actor_name = 'jobsched.every_minute'"
            )
        )
        == 2
    )
    await first.drain()
    await second.drain()
    assert len(seen) == 2
    scope = seen[0]["scope"]
    assert scope.branch_ids == {a}
    assert scope.actor == "system:schedule:jobsched.every_minute"


async def test_the_relay_loop_is_woken_by_the_commit(
    make_plugin: Callable[..., PluginCandidate],
    kernel_with: Callable[..., Kernel],
    job_worker: StartJobWorker,
) -> None:
    (a,) = await make_branches("A")
    await enable_plugin("jobwake", a)
    write = effect_actor("jobwake.write")
    worker = await job_worker(kernel_with([plugin_with(make_plugin, "jobwake", write)]))
    # A poll interval far beyond the wait below: only the NOTIFY can deliver in time.
    await worker.runtime.start_background(poll_seconds=600)
    await asyncio.sleep(0.2)
    token = uuid.uuid4().hex
    with bind_scope(user_scope(a)):
        async with db.transaction():
            await write.enqueue(token, a)

    for _ in range(200):
        if await unsent() == 0 and await effects(token) == 1:
            break
        await asyncio.sleep(0.05)
    assert await unsent() == 0
    assert await effects(token) == 1
