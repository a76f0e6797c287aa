"""``bankcrm plugin new NAME``: write a complete plugin from the SDK's template.

The template (``bankcrm_sdk/template``) is the flat anatomy of a plugin: manifest, thin
``plugin.py``, a branch-scoped table, its migration, routes, an admin screen, a scheduled
job, permissions with role grants, demo data and tests that use the SDK. Files are
rendered with ``@@key@@`` placeholders (no template engine: ``{{`` and ``$`` occur in the
generated Python and SQL). The migration is then written by Piccolo's own auto-migration
from the generated tables, so it is exactly what ``piccolo migrations new --auto`` writes.

Inside the bankcrm workspace the plugin goes to ``plugins/<name>`` and is added to the
root ``pyproject.toml`` (the root's dependencies and ``[tool.uv.sources]``: the two
entries uv needs to install a member; ruff, mypy and pytest find it by pattern).
Elsewhere it is a standalone distribution with its own pytest settings, as a third
party's plugin is.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import keyword
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import click

ENTRY_POINT_GROUP = "bankcrm.plugins"
NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
MAX_NAME = 24
"""Table, index and constraint names are ``<name>_<entity>_...``; PostgreSQL cuts
identifiers at 63 bytes."""
MAX_ENTITY = 20
RESERVED = frozenset(
    {
        "admin",
        "api",
        "api_clients",
        "audit",
        "auth",
        "bankcrm",
        "branches",
        "calendar",
        "healthz",
        "kernel",
        "kpis",
        "metrics",
        "notifications",
        "plugins",
        "readyz",
        "schema",
        "sdk",
        "static",
        "users",
    }
)
"""Names the kernel uses itself: URL prefixes under ``/api/v1``, its table prefix."""
PLACEHOLDER = re.compile(r"@@(\w+)@@")
FIRST_PARTY_IMPORT = re.compile(r"from bankcrm\w*(\.\w+)* import [^(]+$")
TEMPLATE_SUFFIX = ".tmpl"


class ScaffoldError(click.ClickException):
    """A plugin that cannot be written as asked; nothing was written."""


@dataclass(frozen=True)
class PluginSpec:
    name: str
    title: str
    title_en: str
    entity: str = "item"
    entities: str = ""
    """Plural of ``entity`` (URL segment, function names); derived when empty."""
    entity_zh: str = "条目"
    requires: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        return f"bankcrm_{self.name}"

    @property
    def distribution(self) -> str:
        return f"bankcrm-{self.name.replace('_', '-')}"

    @property
    def plural(self) -> str:
        return self.entities or plural(self.entity)


def plural(word: str) -> str:
    """English plural of a snake_case noun: enough for URL segments and function names
    (``--plural`` overrides it)."""
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def _words(identifier: str) -> str:
    return identifier.replace("_", " ")


def _camel(identifier: str) -> str:
    return "".join(part.capitalize() for part in identifier.split("_"))


def check_identifier(value: str, what: str, longest: int) -> None:
    if not NAME.fullmatch(value):
        raise ScaffoldError(
            f"{what} {value!r}: use lower-case letters, digits and single underscores, "
            "starting with a letter (e.g. 'loyalty' or 'branch_notes')"
        )
    if len(value) > longest:
        raise ScaffoldError(f"{what} {value!r} is longer than {longest} characters")
    if keyword.iskeyword(value):
        raise ScaffoldError(f"{what} {value!r} is a Python keyword")


def installed_plugins() -> dict[str, Any]:
    """Entry points of the installed plugins, by plugin name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def check_spec(spec: PluginSpec, installed: Mapping[str, Any]) -> None:
    check_identifier(spec.name, "plugin name", MAX_NAME)
    check_identifier(spec.entity, "entity", MAX_ENTITY)
    check_identifier(spec.plural, "plural", MAX_ENTITY + 2)
    if spec.plural == spec.entity:
        raise ScaffoldError(f"the plural of {spec.entity!r} must differ from it (--plural)")
    if spec.name in RESERVED:
        raise ScaffoldError(f"{spec.name!r} is used by the kernel itself; choose another name")
    if spec.name in installed:
        raise ScaffoldError(f"a plugin named {spec.name!r} is already installed")
    titles = {"--title": spec.title, "--title-en": spec.title_en, "--entity-title": spec.entity_zh}
    for what, text in titles.items():
        if not text.strip() or any(c in text for c in '"\\@\n\r') or len(text) > 60:
            raise ScaffoldError(f"{what} must be 1 to 60 characters without quotes or @")
    for required in spec.requires:
        if required not in installed:
            raise ScaffoldError(f"--requires {required!r}: no such plugin is installed")


# --- rendering ----------------------------------------------------------------------------


@dataclass
class Requirement:
    """A plugin the new one requires: its distribution and its Piccolo app."""

    name: str
    distribution: str
    piccolo_app: str | None


def requirement_of(entry_point: Any) -> Requirement:
    module = entry_point.load()
    manifest = module.MANIFEST
    return Requirement(manifest.name, entry_point.dist.name, manifest.piccolo_app)


def context(
    spec: PluginSpec, requirements: list[Requirement], *, standalone: bool, tests_path: str
) -> dict[str, str]:
    dependencies = ["bankcrm", *(r.distribution for r in requirements)]
    migration_apps = ["bankcrm.piccolo_app"]
    migration_apps += [r.piccolo_app for r in requirements if r.piccolo_app]
    names = [f'"{r.name}"' for r in requirements]
    # A one-element tuple needs its comma; a longer one must not end in one (ruff would
    # then spread it over lines).
    requires = f"{names[0]}," if len(names) == 1 else ", ".join(names)
    standalone_config = ""
    if standalone:
        standalone_config = (files("bankcrm_sdk") / "template" / "standalone.toml.tmpl").read_text(
            encoding="utf-8"
        )
    entities = spec.plural
    return {
        "name": spec.name,
        "package": spec.package,
        "dist": spec.distribution,
        "title": spec.title,
        "title_en": spec.title_en,
        "entity": spec.entity,
        "Entity": _camel(spec.entity),
        "ENTITY": spec.entity.upper(),
        "entity_en": _words(spec.entity),
        "entity_zh": spec.entity_zh,
        "entities": entities,
        "entities_en": _words(entities),
        "Entities_en": _words(entities).capitalize(),
        "entities_path": entities.replace("_", "-"),
        "table": f"{spec.name}_{spec.entity}",
        "requires": f"({requires})",
        "dependencies": "".join(f'    "{d}",\n' for d in dependencies),
        "migration_dependencies": "".join(f'        "{a}",\n' for a in migration_apps),
        "standalone_config": standalone_config.rstrip("\n"),
        "tests_path": tests_path,
    }


def render(text: str, values: Mapping[str, str], where: str) -> str:
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(text)} - set(values))
    if unknown:
        raise RuntimeError(f"template {where} uses unknown placeholders {unknown}")
    return sort_first_party(PLACEHOLDER.sub(lambda m: values[m.group(1)], text))


def sort_first_party(text: str) -> str:
    """Sort each run of one-line ``from bankcrm…`` imports by module, as isort does: where
    ``bankcrm_<name>`` goes among ``bankcrm_sdk`` and the rest depends on the name."""
    lines = text.split("\n")
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and FIRST_PARTY_IMPORT.match(lines[end]):
            end += 1
        if end - start > 1:
            lines[start:end] = sorted(lines[start:end], key=lambda line: line.split()[1])
        start = end + 1
    return "\n".join(lines)


def _template_files(root: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from _template_files(entry, relative + "/")
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            yield relative[: -len(TEMPLATE_SUFFIX)], entry


def render_tree(values: Mapping[str, str]) -> dict[str, str]:
    """Relative path -> content of every file of the new plugin but its migration."""
    rendered = {}
    for relative, entry in _template_files(files("bankcrm_sdk") / "template"):
        if relative == "standalone.toml":
            continue  # spliced into pyproject.toml
        target = relative.replace("package/", f"src/{values['package']}/", 1)
        rendered[render(target, values, relative)] = render(
            entry.read_text(encoding="utf-8"), values, relative
        )
    return rendered


def write_migration(directory: Path, spec: PluginSpec) -> Path:
    """The first migration, written by Piccolo's auto-migration from the new tables."""
    import black
    from piccolo.apps.migrations.commands.new import AutoMigrationManager, render_template

    source = str(directory / "src")
    sys.path.insert(0, source)
    try:
        app_config = importlib.import_module(f"{spec.package}.piccolo_app").APP_CONFIG
        # Piccolo prints a summary of the changes; the command reports what it wrote.
        with contextlib.redirect_stdout(io.StringIO()):
            manager = AutoMigrationManager()
            groups = asyncio.run(manager.get_alter_statements(app_config=app_config))
    finally:
        sys.path.remove(source)
        for module in [m for m in sys.modules if m.split(".")[0] == spec.package]:
            del sys.modules[module]
    now = datetime.now()
    migration_id = now.strftime("%Y-%m-%dT%H:%M:%S:%f")
    text = render_template(
        migration_id=migration_id,
        auto=True,
        alter_statements=[s for g in groups for s in g.statements],
        extra_imports=sorted({i for g in groups for i in g.extra_imports}, key=repr),
        extra_definitions=sorted({d for g in groups for d in g.extra_definitions}),
        app_name=spec.name,
        description=f"{spec.title_en}: the {_words(spec.entity)} table",
    )
    cleaned = migration_id.replace(":", "_").replace("-", "_").lower()
    path = directory / "src" / spec.package / "piccolo_migrations" / f"{spec.name}_{cleaned}.py"
    path.write_text(black.format_str(text, mode=black.FileMode(line_length=82)), encoding="utf-8")
    return path


# --- the workspace ------------------------------------------------------------------------


def find_workspace(start: Path) -> Path | None:
    """The bankcrm workspace root at or above ``start``: a ``pyproject.toml`` whose uv
    workspace has ``plugins/*`` among its members."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if not candidate.is_file():
            continue
        try:
            document = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError:
            continue
        members = document.get("tool", {}).get("uv", {}).get("workspace", {}).get("members", [])
        if "plugins/*" in members:
            return directory
    return None


def _table_span(lines: list[str], header: str) -> tuple[int, int]:
    """Lines [start, end) of the TOML table ``header`` (its header line excluded)."""
    try:
        start = lines.index(header) + 1
    except ValueError:
        raise ScaffoldError(f"pyproject.toml has no {header} table") from None
    end = start
    while end < len(lines) and not lines[end].startswith("["):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def add_workspace_member(pyproject: Path, distribution: str) -> bool:
    """Add ``distribution`` to the root's dependencies and ``[tool.uv.sources]``; False if
    both were there already. A line edit (no TOML writer is installed) that keeps
    comments and layout, verified by parsing the result."""
    text = pyproject.read_text(encoding="utf-8")
    document = tomllib.loads(text)
    project = document.get("project", {})
    sources = document.get("tool", {}).get("uv", {}).get("sources", {})
    names = [re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0] for d in project.get("dependencies", [])]
    depends = distribution in names
    lines = text.splitlines()
    if distribution not in sources:
        _, end = _table_span(lines, "[tool.uv.sources]")
        lines.insert(end, f"{distribution} = {{ workspace = true }}")
    if not depends:
        start, end = _table_span(lines, "[project]")
        opening = next(
            (i for i in range(start, end) if re.match(r"dependencies\s*=\s*\[", lines[i])), None
        )
        if opening is None:
            raise ScaffoldError("pyproject.toml: [project] has no dependencies = [...] list")
        closing = next((i for i in range(opening, end) if lines[i].rstrip().endswith("]")), None)
        if closing is None or closing == opening:
            raise ScaffoldError("pyproject.toml: write [project] dependencies one per line")
        lines.insert(closing, f'    "{distribution}",')
    if depends and distribution in sources:
        return False
    updated = "\n".join(lines) + "\n"
    check = tomllib.loads(updated)
    assert distribution in check["tool"]["uv"]["sources"]
    assert distribution in check["project"]["dependencies"]
    pyproject.write_text(updated, encoding="utf-8")
    return True


# --- the command --------------------------------------------------------------------------


@dataclass
class Created:
    directory: Path
    files: list[Path] = field(default_factory=list)
    workspace: Path | None = None
    registered: bool = False


def create_plugin(
    spec: PluginSpec,
    *,
    directory: Path | None = None,
    start: Path | None = None,
    register: bool = True,
) -> Created:
    """Write the plugin ``spec`` describes; see the module docstring for where."""
    installed = installed_plugins()
    check_spec(spec, installed)
    workspace = find_workspace((start or Path.cwd()).resolve())
    if directory is None:
        directory = (workspace / "plugins" / spec.name) if workspace else Path(spec.name)
    directory = directory.resolve()
    in_workspace = workspace is not None and directory.parent == workspace / "plugins"
    if directory.exists() and any(directory.iterdir()):
        raise ScaffoldError(f"{directory} exists and is not empty")
    requirements = [requirement_of(installed[name]) for name in spec.requires]
    tests_path = f"src/{spec.package}/tests"
    if in_workspace:
        tests_path = f"plugins/{spec.name}/{tests_path}"
    values = context(spec, requirements, standalone=not in_workspace, tests_path=tests_path)
    created = Created(directory, workspace=workspace if in_workspace else None)
    for relative, content in render_tree(values).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        created.files.append(path)
    created.files.append(write_migration(directory, spec))
    if in_workspace and register and workspace is not None:
        created.registered = add_workspace_member(workspace / "pyproject.toml", spec.distribution)
    return created


@click.group("plugin")
def plugin_group() -> None:
    """Write a new plugin, check a plugin (from the bankcrm SDK)."""


@plugin_group.command("new")
@click.argument("name")
@click.option("--title", help="Chinese title (menus, the plugin list); default: NAME.")
@click.option("--title-en", help="English title; default: NAME in words.")
@click.option("--entity", default="item", show_default=True, help="What the table holds.")
@click.option("--plural", default="", help="Plural of --entity, if not the usual English one.")
@click.option("--entity-title", default="条目", show_default=True, help="--entity in Chinese.")
@click.option("--requires", multiple=True, help="An installed plugin this one needs.")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write it; default: plugins/NAME in the workspace, else ./NAME.",
)
@click.option(
    "--no-register",
    is_flag=True,
    help="In the workspace, leave the root pyproject.toml unchanged.",
)
def new_command(
    name: str,
    title: str | None,
    title_en: str | None,
    entity: str,
    plural: str,
    entity_title: str,
    requires: tuple[str, ...],
    directory: Path | None,
    no_register: bool,
) -> None:
    """Write a complete plugin NAME that installs and passes its tests and the SDK's
    conformance check as it is."""
    spec = PluginSpec(
        name=name,
        title=title or name,
        title_en=title_en or _words(name).capitalize(),
        entity=entity,
        entities=plural,
        entity_zh=entity_title,
        requires=tuple(requires),
    )
    created = create_plugin(spec, directory=directory, register=not no_register)
    click.echo(f"wrote {len(created.files)} files under {created.directory}")
    if created.workspace is not None:
        if created.registered:
            click.echo(f"added {spec.distribution} to {created.workspace / 'pyproject.toml'}")
        tests = f"plugins/{name}/src/{spec.package}/tests"
        click.echo(f"next: uv lock && uv sync, then uv run pytest {tests}")
    else:
        click.echo(
            f"next: pip install -e {created.directory} bankcrm-sdk, then pytest in "
            f"{created.directory} (with BANKCRM_DATABASE_URL pointing at PostgreSQL)"
        )


@plugin_group.command("check")
@click.argument("names", nargs=-1)
def check_command(names: tuple[str, ...]) -> None:
    """Run the SDK's conformance check on the installed plugins NAMES (default: all)."""
    from bankcrm.runtime import load_registry
    from bankcrm.settings import get_settings
    from bankcrm_sdk.conformance import check_plugin

    registry = load_registry(get_settings())
    unknown = sorted(set(names) - set(registry.records))
    if unknown:
        raise click.ClickException(f"not installed: {', '.join(unknown)}")
    chosen = names or tuple(registry.records)
    problems = [problem for name in chosen for problem in check_plugin(registry, name)]
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)
    click.echo(f"conformant: {', '.join(chosen) or 'no plugins'}")
