"""The kernel and the SDK name no plugin: no import of a plugin's package, and no plugin
name in their code (docstrings aside), tests included, so that they run, and a new
plugin is added, without editing them."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import bankcrm
import bankcrm_sdk
from bankcrm.plugins import ENTRY_POINT_GROUP

KERNEL_PACKAGES = {"bankcrm", "bankcrm_sdk"}
SOURCES = [Path(bankcrm.__file__).parent, Path(bankcrm_sdk.__file__).parent]


def python_files() -> Iterator[Path]:
    for root in SOURCES:
        yield from sorted(root.rglob("*.py"))


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def code_strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """String constants but docstrings (and other bare string statements)."""
    documentation = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in documentation
        ):
            yield node.lineno, node.value


def naming(name: str) -> re.Pattern[str]:
    """How code names a plugin: the name alone or as the head of a dotted permission or
    event (``service.ticket.read``), a table prefix (``service_ticket``), a URL segment
    (``/api/v1/service/``) — not the English word in a sentence (``a service the answer
    needs``) nor the tail of a module path (``bankcrm.organisation.service``)."""
    return re.compile(rf"(?:^|(?<=[^\w.-])){re.escape(name)}(?:$|(?=[._/:]))")


def installed_plugins() -> dict[str, str]:
    """Entry-point name -> top-level package of every installed plugin."""
    return {
        ep.name: ep.value.partition(":")[0].split(".")[0]
        for ep in entry_points(group=ENTRY_POINT_GROUP)
    }


def test_the_kernel_and_the_sdk_import_no_plugin() -> None:
    plugins = installed_plugins()
    found = []
    for path in python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, module in imported_modules(tree):
            top = module.split(".")[0]
            plugin_package = top.startswith("bankcrm_") and top not in KERNEL_PACKAGES
            if plugin_package or top in plugins.values():
                found.append(f"{path}:{line} imports {module}")
    assert found == []


def test_the_kernel_and_the_sdk_name_no_installed_plugin_in_code() -> None:
    names = {name for pair in installed_plugins().items() for name in pair}
    names -= KERNEL_PACKAGES
    patterns = {name: naming(name) for name in names}
    found = []
    for path in python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, text in code_strings(tree):
            named = [name for name, pattern in patterns.items() if pattern.search(text)]
            if named:
                found.append(f"{path}:{line} names {', '.join(named)}: {text[:60]!r}")
    assert found == []


def test_the_guard_sees_an_import_and_a_name() -> None:
    tree = ast.parse(
        '"""Docs may name loans_account."""\n'
        "import bankcrm_loans.services\n"
        "from bankcrm_loans import api\n"
        "TABLE = 'loans_account'\n"
    )
    assert [module for _, module in imported_modules(tree)] == [
        "bankcrm_loans.services",
        "bankcrm_loans",
    ]
    assert [text for _, text in code_strings(tree)] == ["loans_account"]


def test_a_plugin_named_by_a_common_word_is_found_only_where_code_names_it() -> None:
    """A plugin may be called by an English word (the built-in ``service``): the check
    must still find it where code names it, and not where the word is only a word."""
    word = naming("loans")
    named = ["loans", "loans.account.read", "loans_account", "/api/v1/loans/accounts",
             "plugin loans:"]  # fmt: skip
    prose = ["The loans the answer needs are unavailable.", "bankcrm.banking.loans",
             "loansharks.py", "car_loans_desk", "micro-loans"]  # fmt: skip
    assert [text for text in named if word.search(text)] == named
    assert [text for text in prose if word.search(text)] == []
