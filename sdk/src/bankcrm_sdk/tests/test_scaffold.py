"""The plugin template and ``bankcrm plugin new`` without installing anything (the run
that installs a new plugin and its tests is ``tests/test_plugin_scaffold.py``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from bankcrm_sdk import scaffold
from bankcrm_sdk.scaffold import PluginSpec, ScaffoldError

ROOT = scaffold.find_workspace(Path(__file__).resolve())


def spec(**overrides: object) -> PluginSpec:
    values: dict[str, object] = {"name": "loyalty", "title": "积分", "title_en": "Loyalty"}
    values.update(overrides)
    return PluginSpec(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Loyalty"}, "lower-case"),
        ({"name": "2fa"}, "lower-case"),
        ({"name": "loyalty__points"}, "single underscores"),
        ({"name": "loyalty-points"}, "lower-case"),
        ({"name": "a" * 25}, "longer than 24"),
        ({"name": "import"}, "Python keyword"),
        ({"name": "auth"}, "used by the kernel"),
        ({"name": "bankcrm"}, "used by the kernel"),
        ({"name": "installed_one"}, "already installed"),
        ({"entity": "Lead"}, "entity 'Lead'"),
        ({"entity": "sheep", "entities": "sheep"}, "must differ"),
        ({"title": ""}, "--title"),
        ({"title_en": 'say "hi"'}, "--title-en"),
        ({"entity_zh": "@@name@@"}, "--entity-title"),
        ({"requires": ("missing",)}, "no such plugin"),
    ],
)
def test_names_and_titles_the_template_cannot_take_are_refused(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ScaffoldError, match=message):
        scaffold.check_spec(spec(**overrides), {"installed_one": object()})


@pytest.mark.parametrize(
    ("word", "expected"),
    [("lead", "leads"), ("opportunity", "opportunities"), ("day", "days"),
     ("campaign", "campaigns"), ("address", "addresses"), ("batch", "batches")],
)  # fmt: skip
def test_plural(word: str, expected: str) -> None:
    assert scaffold.plural(word) == expected


def test_every_placeholder_of_the_template_is_filled() -> None:
    values = scaffold.context(
        spec(entity="care_task"), [], standalone=True, tests_path="src/bankcrm_loyalty/tests"
    )
    tree = scaffold.render_tree(values)
    assert "src/bankcrm_loyalty/tests/test_care_tasks.py" in tree
    assert "src/bankcrm_loyalty/piccolo_migrations/__init__.py" in tree
    leftovers = {path for path, text in tree.items() if "@@" in text or "@@" in path}
    assert leftovers == set()
    pyproject = tomllib.loads(tree["pyproject.toml"])
    assert pyproject["project"]["entry-points"]["bankcrm.plugins"] == {
        "loyalty": "bankcrm_loyalty.plugin"
    }
    assert pyproject["project"]["dependencies"] == ["bankcrm"]
    assert pyproject["tool"]["pytest"]["ini_options"]["asyncio_mode"] == "auto"
    for path, text in tree.items():
        if path.endswith(".py"):
            compile(text, path, "exec")  # raises on a template that renders broken Python


def test_a_required_plugin_is_declared_in_all_three_places() -> None:
    loans = scaffold.Requirement("loans", "bankcrm-loans", "bankcrm_loans.piccolo_app")
    calendar = scaffold.Requirement("holidays", "acme-holidays", None)
    values = scaffold.context(
        spec(requires=("loans", "holidays")),
        [loans, calendar],
        standalone=False,
        tests_path="plugins/loyalty/src/bankcrm_loyalty/tests",
    )
    tree = scaffold.render_tree(values)
    pyproject = tomllib.loads(tree["pyproject.toml"])
    assert pyproject["project"]["dependencies"] == [
        "bankcrm",
        "bankcrm-loans",
        "acme-holidays",
    ]
    assert "pytest" not in pyproject["tool"]  # the workspace root configures pytest
    assert '    requires=("loans", "holidays"),\n' in tree["src/bankcrm_loyalty/manifest.py"]
    app = tree["src/bankcrm_loyalty/piccolo_app.py"]
    expected = ["bankcrm.piccolo_app", "bankcrm_loans.piccolo_app"]
    assert "".join(f'        "{name}",\n' for name in expected) + "    ]," in app


def test_an_unknown_placeholder_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"\['nope'\]"):
        scaffold.render("x = @@nope@@", {"name": "loyalty"}, "t.py")


def test_first_party_imports_are_sorted_whatever_the_name() -> None:
    text = "from bankcrm_sdk.world import World\nfrom bankcrm_alpha.demo import seed\n\nx = 1\n"
    assert scaffold.sort_first_party(text).splitlines()[:2] == [
        "from bankcrm_alpha.demo import seed",
        "from bankcrm_sdk.world import World",
    ]
    kept = "from bankcrm.plugin_api import (\n    hookimpl,\n)\nfrom bankcrm_a import b\n"
    assert scaffold.sort_first_party(kept) == kept


@pytest.mark.skipif(ROOT is None, reason="the SDK is installed outside the workspace")
def test_the_workspace_gets_exactly_the_two_entries_uv_needs(tmp_path: Path) -> None:
    assert ROOT is not None
    pyproject = tmp_path / "pyproject.toml"
    original = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject.write_text(original, encoding="utf-8")

    assert scaffold.add_workspace_member(pyproject, "bankcrm-loyalty") is True
    updated = pyproject.read_text(encoding="utf-8")
    document = tomllib.loads(updated)
    assert "bankcrm-loyalty" in document["project"]["dependencies"]
    assert document["tool"]["uv"]["sources"]["bankcrm-loyalty"] == {"workspace": True}
    added = set(updated.splitlines()) - set(original.splitlines())
    assert added == {'    "bankcrm-loyalty",', "bankcrm-loyalty = { workspace = true }"}
    assert len(updated.splitlines()) == len(original.splitlines()) + 2

    assert scaffold.add_workspace_member(pyproject, "bankcrm-loyalty") is False
    assert pyproject.read_text(encoding="utf-8") == updated


def test_a_refused_name_writes_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        scaffold.plugin_group, ["new", "Bad-Name", "--directory", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert "lower-case letters" in result.output
    assert not (tmp_path / "out").exists()


def test_a_directory_in_use_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(
        scaffold.plugin_group, ["new", "loyalty", "--directory", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert "is not empty" in result.output
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_outside_the_workspace_a_standalone_plugin_is_written(tmp_path: Path) -> None:
    target = tmp_path / "loyalty"
    created = scaffold.create_plugin(spec(), directory=target, start=tmp_path)
    assert created.workspace is None
    assert not created.registered
    migrations = list((target / "src/bankcrm_loyalty/piccolo_migrations").glob("loyalty_*.py"))
    assert len(migrations) == 1
    text = migrations[0].read_text(encoding="utf-8")
    assert 'tablename="loyalty_item"' in text
    assert 'app_name="loyalty"' in text
    pyproject = tomllib.loads((target / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["dependency-groups"]["dev"] == ["bankcrm-sdk"]


EXAMPLE = ROOT / "examples" / "branch_notes" if ROOT else None
REGENERATE = (
    "rm -rf examples/branch_notes && uv run bankcrm plugin new branch_notes"
    " --directory examples/branch_notes --title 网点便签 --title-en 'Branch notes'"
    " --entity note --entity-title 便签"
)


@pytest.mark.skipif(EXAMPLE is None, reason="the SDK is installed outside the workspace")
def test_the_example_plugin_is_what_the_template_writes_today() -> None:
    """CI tests the example as a third party's wheel: it must be the template's output, or
    that run proves nothing about the template."""
    assert EXAMPLE is not None
    example = PluginSpec(
        name="branch_notes",
        title="网点便签",
        title_en="Branch notes",
        entity="note",
        entity_zh="便签",
    )
    tests_path = "src/bankcrm_branch_notes/tests"
    expected = scaffold.render_tree(
        scaffold.context(example, [], standalone=True, tests_path=tests_path)
    )
    actual = {}
    for path in EXAMPLE.rglob("*"):
        relative = path.relative_to(EXAMPLE)
        if not path.is_file() or any(p.startswith((".", "__pycache__")) for p in relative.parts):
            continue
        if relative.parent.name == "piccolo_migrations" and relative.name != "__init__.py":
            continue  # written by Piccolo, checked by the example's test_migrations.py
        actual[relative.as_posix()] = path.read_text(encoding="utf-8")
    assert actual == expected, f"the template changed; regenerate the example: {REGENERATE}"
