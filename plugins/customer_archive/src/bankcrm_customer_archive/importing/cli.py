"""``bankcrm customer-archive import FILE --branch CODE`` and ``import-status ID --follow``.

The CLI acts as ``system:cli`` over the named branch and its sub-branches. ``import``
checks and stages the file and prints the counts; ``--commit`` queues the commit job (the
worker runs it; with maker-checker on, it waits for approval), ``--here`` commits in
this process instead; ``--follow`` shows a progress bar until the batch is done.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bankcrm.context import Scope, bind_scope

T = TypeVar("T")
GROUP = "customer-archive"
FINAL = ("committed", "failed", "rejected", "discarded", "awaiting_approval", "validated")


def _group(root: click.Group) -> click.Group:
    existing = root.commands.get(GROUP)
    if isinstance(existing, click.Group):
        return existing

    @root.group(GROUP)
    def customer_archive() -> None:
        """Customer archive: imports."""

    return customer_archive


def _run(branch_code: str | None, work: Callable[[Any], Awaitable[T]]) -> T:
    async def main() -> T:
        from bankcrm import branches
        from bankcrm.plugin_api import kernel_session

        async with kernel_session():
            tree = await branches.snapshot()
            if branch_code is None:
                ids = frozenset(tree.nodes)
            elif branch_code in tree.by_code:
                ids = tree.subtree(tree.by_code[branch_code])
            else:
                raise click.BadParameter(
                    f"no branch with code {branch_code!r}", param_hint="--branch"
                )
            scope = Scope(actor="system:cli", branch_ids=ids, is_superuser=True)
            with bind_scope(scope):
                return await work(tree)

    return asyncio.run(main())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _summary(batch: Any) -> str:
    return (
        f"batch {batch.id}: {batch.status}; rows {batch.total_rows}, valid {batch.valid_rows},"
        f" invalid {batch.invalid_rows}, duplicates in file {batch.duplicate_rows},"
        f" already existing {batch.existing_rows}, committed {batch.committed_rows}"
    )


async def _follow(batch_id: int) -> Any:
    from bankcrm_customer_archive.importing import service

    batch = await service.get_batch(batch_id)
    shown = 0
    with click.progressbar(
        length=max(batch.progress.total, batch.valid_rows, 1),
        label=f"batch {batch_id}",
        show_pos=True,
    ) as bar:
        while True:
            batch = await service.get_batch(batch_id)
            if batch.progress.total and bar.length != batch.progress.total:
                bar.length = batch.progress.total
            done = batch.progress.done
            if done > shown:
                bar.update(done - shown)
                shown = done
            if batch.status in FINAL:
                break
            await asyncio.sleep(0.5)
    return batch


def register_import_cli(root: click.Group) -> None:
    group = _group(root)

    @group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--branch", "branch_code", required=True, help="Target branch code, e.g. BJ.")
    @click.option("--kind", type=click.Choice(["customer", "holding"]), default="customer")
    @click.option("--source", default="", help="Saved mapping of this source (e.g. 核心系统导出).")
    @click.option("--mapping", default="", help='Explicit mapping as JSON {"header": "field"}.')
    @click.option("--commit", is_flag=True, help="Queue the commit job after staging.")
    @click.option("--here", is_flag=True, help="Commit in this process (no worker needed).")
    @click.option("--follow", is_flag=True, help="Show the commit's progress until done.")
    def import_file(
        file: Path,
        branch_code: str,
        kind: str,
        source: str,
        mapping: str,
        commit: bool,
        here: bool,
        follow: bool,
    ) -> None:
        """Check and stage FILE (.csv or .xlsx) as an import batch of BRANCH."""
        from bankcrm.web.problems import Problem
        from bankcrm.web.upload import StoredUpload
        from bankcrm_customer_archive.importing import commit as commit_module
        from bankcrm_customer_archive.importing import service

        size = file.stat().st_size
        sha256 = _sha256(file)

        async def work(tree: Any) -> Any:
            fields = {"kind": kind, "branch_id": str(tree.by_code[branch_code])}
            if source:
                fields["source"] = source
            if mapping:
                fields["mapping"] = mapping
            stored = StoredUpload(file, file.name, size, sha256, fields)
            batch = await service.upload(stored)
            click.echo(_summary(batch))
            if not (commit or here):
                return batch
            batch = await service.request_commit(batch.id)
            if here and batch.status == "queued":
                task = asyncio.create_task(commit_module.commit_batch(batch.id))
                if follow:
                    await _follow(batch.id)
                await task
                return await service.get_batch(batch.id)
            if follow:
                return await _follow(batch.id)
            return batch

        try:
            batch = _run(branch_code, work)
        except Problem as exc:
            raise click.ClickException(exc.detail) from None
        click.echo(_summary(batch))
        if batch.status == "failed":
            raise click.ClickException(batch.error)

    @group.command("import-status")
    @click.argument("batch_id", type=int)
    @click.option("--follow", is_flag=True, help="Show a progress bar until the batch is done.")
    @click.option("--json", "as_json", is_flag=True, help="Print the batch as JSON.")
    def import_status(batch_id: int, follow: bool, as_json: bool) -> None:
        """Status, counts and progress of an import batch."""
        import msgspec

        from bankcrm.web.problems import Problem
        from bankcrm_customer_archive.importing import service

        async def work(_: Any) -> Any:
            return await (_follow(batch_id) if follow else service.get_batch(batch_id))

        try:
            batch = _run(None, work)
        except Problem as exc:
            raise click.ClickException(exc.detail) from None
        if as_json:
            click.echo(json.dumps(msgspec.to_builtins(batch), ensure_ascii=False, default=str))
        else:
            click.echo(_summary(batch))
