"""``bankcrm plugin new`` in a copy of this workspace: the new plugin installs with
``uv sync``, and on the first run passes its own tests, the SDK's conformance check, the
generated isolation tests, ruff and mypy.

Like datasette's cookiecutter template and Odoo's scaffold, the template is tested by
using it. The copy's environment links packages from uv's cache, offline.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bankcrm_sdk.scaffold import find_workspace

ROOT = find_workspace(Path(__file__).resolve())
NAME = "care_desk"
PACKAGE = f"bankcrm_{NAME}"
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "var", "__pycache__", ".*_cache", ".hypothesis", ".benchmarks", "dist"
)


def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("uv is not on PATH, and CI must run this test")
        pytest.skip("uv is not on PATH")
    return found


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{output}"
    return output


@pytest.mark.skipif(ROOT is None, reason="runs from a checkout of the workspace")
def test_a_new_plugin_installs_and_passes_everything_on_the_first_run(tmp_path: Path) -> None:
    assert ROOT is not None
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT, workspace, ignore=NOT_COPIED)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(UV_PROJECT_ENVIRONMENT=str(tmp_path / "venv"), BANKCRM_DATA_DIR=str(tmp_path))

    command = [sys.executable, "-m", "bankcrm", "plugin", "new", NAME, "--title", "客户关怀",
               "--title-en", "Customer care", "--entity", "care_task",
               "--entity-title", "关怀任务"]  # fmt: skip
    output = run(command, workspace, env)
    assert f"added bankcrm-care-desk to {workspace / 'pyproject.toml'}" in output
    root = tomllib.loads((workspace / "pyproject.toml").read_text(encoding="utf-8"))
    assert root["tool"]["uv"]["sources"]["bankcrm-care-desk"] == {"workspace": True}

    tool = uv()
    run([tool, "sync", "--offline", "--quiet"], workspace, env)
    plugin = f"plugins/{NAME}"
    in_env = [tool, "run", "--offline", "--no-sync"]
    # mypy runs beside the tests: together they fit the two cores CI has.
    mypy = subprocess.Popen(
        [*in_env, "mypy", f"{plugin}/src"],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Only the new plugin loaded: the generated isolation tests then cover its table and
        # routes alone, and the run stays short.
        tests = run(
            [*in_env, "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
             plugin, "sdk/src/bankcrm_sdk/tests/test_conformance.py", "tests/test_isolation.py"],
            workspace,
            {**env, "BANKCRM_PLUGINS": NAME},
        )  # fmt: skip
    finally:
        mypy_output, _ = mypy.communicate(timeout=240)
    assert " failed" not in tests, tests
    assert " error" not in tests, tests
    generated = sum(
        text.count("\ndef test_") + text.count("\nasync def test_")
        for text in (p.read_text(encoding="utf-8") for p in (workspace / plugin).rglob("test_*.py"))
    )
    passed = re.search(r"(\d+) passed", tests)
    assert generated >= 10
    assert passed is not None, tests
    assert int(passed.group(1)) > generated, tests
    assert mypy.returncode == 0, mypy_output

    run([*in_env, "ruff", "check", plugin], workspace, env)
    run([*in_env, "ruff", "format", "--check", plugin], workspace, env)
    checked = run([*in_env, "bankcrm", "plugin", "check", NAME], workspace, env)
    assert f"conformant: {NAME}" in checked
