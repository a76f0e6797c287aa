"""Parsing uploaded files where a hostile file cannot take the server down.

A 4.9 KB workbook with one cell at ``XFD1000000`` made the native xlsx reader ask for
500 GB and abort the whole web process. Two defences, both for every plugin:

* :func:`check_zip`: before anything is decompressed, the archive's member count, declared
  uncompressed size and compression ratio are bounded (zip bombs), and plugins bound the
  sheet's rows × columns from the sheet XML itself (see the archive's reader);
* :func:`isolated`: the parser runs in a child process with an address-space and CPU limit
  and sends its items back over a pipe. Whatever the parser does — a ``MemoryError``, an
  abort in native code, a segfault — the child dies and the caller gets a
  :class:`~bankcrm.web.problems.Problem` (422) naming the problem; the server keeps
  answering.

Settings (environment): ``BANKCRM_UPLOAD_MEMORY_MB`` (address space of a parsing child,
default 3072), ``BANKCRM_UPLOAD_CPU_SECONDS`` (default 900),
``BANKCRM_UPLOAD_MAX_UNCOMPRESSED_MB`` (default 2048), ``BANKCRM_UPLOAD_MAX_RATIO``
(default 200).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bankcrm.web.problems import FieldError, Problem

MAX_ZIP_MEMBERS = 10_000


@dataclass(frozen=True)
class ParseLimits:
    memory_bytes: int
    cpu_seconds: int
    max_uncompressed_bytes: int
    max_ratio: int

    @classmethod
    def from_environment(cls) -> ParseLimits:
        def number(name: str, default: int) -> int:
            try:
                return max(1, int(os.environ.get(name, default)))
            except ValueError:
                return default

        return cls(
            memory_bytes=number("BANKCRM_UPLOAD_MEMORY_MB", 3072) << 20,
            cpu_seconds=number("BANKCRM_UPLOAD_CPU_SECONDS", 900),
            max_uncompressed_bytes=number("BANKCRM_UPLOAD_MAX_UNCOMPRESSED_MB", 2048) << 20,
            max_ratio=number("BANKCRM_UPLOAD_MAX_RATIO", 200),
        )


def _refuse(message: str, code: str = "bad_file") -> Problem:
    return Problem(422, message, [FieldError("body.file", message)], code)


def check_zip(path: Path, limits: ParseLimits | None = None) -> None:
    """Refuse a zip-based file (xlsx, docx) whose decompression would be a bomb.

    Only the central directory is read: member count, each member's declared size and
    compression ratio, and the total. (A member that lies about its size is caught by the
    reader's own bounded reads and, in the end, by the child's memory limit.)
    """
    limits = limits or ParseLimits.from_environment()
    try:
        with zipfile.ZipFile(path) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _refuse(f"the file is damaged or truncated: {exc}", "damaged_workbook") from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise _refuse(f"the archive has {len(members):,} members: not a plausible document")
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > (1 << 20) and ratio > limits.max_ratio:
            raise _refuse(
                f"{member.filename} expands {ratio:,.0f} times ({member.file_size:,} bytes):"
                " the file is a decompression bomb or damaged",
                "zip_bomb",
            )
    if total > limits.max_uncompressed_bytes:
        raise _refuse(
            f"the file expands to {total:,} bytes, more than the"
            f" {limits.max_uncompressed_bytes:,} allowed",
            "zip_bomb",
        )


_PROBLEM = "problem"
_ITEM = "item"
_DONE = "done"


def _child(
    sender: Connection, limits: ParseLimits, produce: Callable[..., Iterator[Any]], args: tuple
) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
    try:
        for item in produce(*args):
            sender.send((_ITEM, item))
        sender.send((_DONE, None))
    except Problem as problem:
        sender.send((_PROBLEM, (problem.status, problem.detail, problem.code)))
    except MemoryError:
        sender.send((_PROBLEM, (422, _MEMORY_MESSAGE, "file_too_complex")))
    finally:
        sender.close()


_MEMORY_MESSAGE = (
    "the file needs more memory to read than an upload may use: it declares far more rows or"
    " columns than it holds, or is damaged"
)


def _context() -> Any:
    # The web server runs threads and an event loop: a plain fork could copy a held lock.
    return multiprocessing.get_context("forkserver")


def isolated(
    produce: Callable[..., Iterator[Any]],
    *args: Any,
    limits: ParseLimits | None = None,
) -> Iterator[Any]:
    """The items of ``produce(*args)``, computed in a limited child process.

    ``produce`` must be a module-level function (it is imported in the child) and its
    items picklable. A :class:`Problem` raised in the child is raised here; a child that
    dies is a 422 naming how. Closing the iterator early stops the child.
    """
    limits = limits or ParseLimits.from_environment()
    context = _context()
    # The fork server imports the parser's module once; each child is then a fork of it
    # instead of a fresh interpreter importing the platform (a second per upload).
    context.set_forkserver_preload(["bankcrm.uploads", produce.__module__])
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, limits, produce, args), daemon=True)
    child.start()
    sender.close()
    finished = False
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                child.join(5)
                raise _died(child.exitcode) from None
            if kind == _ITEM:
                yield payload
            elif kind == _PROBLEM:
                status, detail, code = payload
                raise Problem(status, detail, [FieldError("body.file", detail)], code)
            else:
                finished = True
                return
    finally:
        receiver.close()
        if not finished and child.is_alive():
            child.kill()
        child.join(5)


def _died(exitcode: int | None) -> Problem:
    if exitcode is not None and exitcode < 0:
        how = signal.Signals(-exitcode).name
    else:
        how = f"exit status {exitcode}"
    if exitcode == -signal.SIGXCPU:
        detail = "reading the file took longer than an upload may: it is damaged or hostile"
    else:
        detail = f"{_MEMORY_MESSAGE} (the reader stopped: {how})"
    return Problem(422, detail, [FieldError("body.file", detail)], "file_too_complex")


__all__ = ["ParseLimits", "check_zip", "isolated"]
