"""Checks that a plugin follows the one-name rule, declares its dependencies
consistently in its distribution, its manifest and its migrations, imports only the
kernel's public surface, and that its own modules form no import cycle and use none of
each other's private names.

``check_plugin(registry, name)`` returns a list of problems (empty when conformant);
the SDK's own tests run it over every installed plugin.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import itertools
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import grimp
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bankcrm import hookdoc
from bankcrm.plugin_api import PUBLIC_MODULES
from bankcrm.plugins import ENTRY_POINT_GROUP, PluginRegistry

KERNEL_PACKAGE = "bankcrm"


def _plugin_distributions() -> dict[str, str]:
    return {
        ep.name: canonicalize_name(ep.dist.name)
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None
    }


def _requirements(distribution_name: str) -> set[str]:
    try:
        requires = distribution(distribution_name).requires or []
    except PackageNotFoundError:
        return set()
    return {canonicalize_name(Requirement(r).name) for r in requires}


def check_plugin(registry: PluginRegistry, name: str) -> list[str]:
    problems: list[str] = []
    record = registry.records[name]
    manifest = record.manifest
    if manifest is None:
        return [f"{name}: no manifest ({record.reason})"]
    distributions = _plugin_distributions()
    own = distributions.get(name)
    if own is not None:
        declared = _requirements(own)
        if "bankcrm" not in declared:
            problems.append(f"{name}: {own} does not depend on the kernel distribution bankcrm")
        for required in manifest.requires:
            wanted = distributions.get(required)
            if wanted is not None and wanted not in declared:
                problems.append(
                    f"{name}: manifest requires {required!r} but {own} does not depend on {wanted}"
                )
    if manifest.piccolo_app:
        app_config: Any = importlib.import_module(manifest.piccolo_app).APP_CONFIG
        if app_config.app_name != name:
            problems.append(f"{name}: Piccolo app is named {app_config.app_name!r}")
        dependencies = set(app_config.migration_dependencies)
        if "bankcrm.piccolo_app" not in dependencies:
            problems.append(f"{name}: migrations must depend on 'bankcrm.piccolo_app'")
        for required in manifest.requires:
            other = registry.records.get(required)
            other_app = other.manifest.piccolo_app if other and other.manifest else None
            if other_app and other_app not in dependencies:
                problems.append(
                    f"{name}: manifest requires {required!r} but its migrations do not depend "
                    f"on {other_app!r}"
                )
        for table in app_config.table_classes:
            if not table._meta.tablename.startswith(f"{name}_"):
                problems.append(f"{name}: table {table._meta.tablename!r} lacks prefix {name}_")
    for plugin_name, specs in registry.call_each("register_permissions"):
        if plugin_name != name:
            continue
        for spec in specs or []:
            if not spec.name.startswith(f"{name}."):
                problems.append(f"{name}: permission {spec.name!r} outside namespace {name}.*")
    for plugin_name, handlers in registry.call_each("register_routes"):
        if plugin_name != name:
            continue
        problems.extend(_route_problems(name, handlers or []))
    package = getattr(record.module, "__name__", "").split(".")[0]
    root = _package_directory(package)
    if root is not None:
        problems.extend(f"{name}: {p}" for p in import_problems(package, root))
        others = {
            getattr(other.module, "__name__", "").split(".")[0]
            for other_name, other in registry.records.items()
            if other_name != name and other.module is not None
        }
        problems.extend(
            f"{name}: {p}" for p in plugin_import_problems(package, root, others - {package})
        )
        problems.extend(f"{name}: {p}" for p in internal_import_problems(package, root))
        for module in published_hookspecs(registry, package):
            problems.extend(f"{name}: {p}" for p in published_hook_problems(module, root))
    return problems


def published_hookspecs(registry: PluginRegistry, package: str) -> list[ModuleType]:
    """The hookspec modules of ``package`` that its plugin added (``add_hookspecs``)."""
    modules: dict[str, ModuleType] = {}
    for caller in vars(registry.pm.hook).values():
        spec = getattr(caller, "spec", None)
        namespace = getattr(spec, "namespace", None)
        if isinstance(namespace, ModuleType) and namespace.__name__.split(".")[0] == package:
            modules[namespace.__name__] = namespace
    return [modules[key] for key in sorted(modules)]


def published_hook_problems(module: ModuleType, root: Path) -> list[str]:
    """A published hook is held to the kernel's standard: a contract, types, a generated
    reference kept current, and a test named ``test_hook_<hook>…`` in the package's tests
    (as datasette's ``test_plugin_hooks_have_tests``)."""
    problems = []
    tested = _test_names(root)
    for hook, function in hookdoc.hook_functions(module):
        if len(inspect.getdoc(function) or "") < 40:
            problems.append(f"hook {hook} has no documented contract")
        signature = inspect.signature(function)  # type: ignore[arg-type]
        untyped = [p.name for p in signature.parameters.values() if p.annotation is p.empty]
        if untyped or signature.return_annotation is signature.empty:
            problems.append(f"hook {hook} is not fully typed")
        if not any(t == f"test_hook_{hook}" or t.startswith(f"test_hook_{hook}_") for t in tested):
            problems.append(f"hook {hook} has no test named test_hook_{hook} or test_hook_{hook}_*")
    reference = hookdoc.reference_path(module)
    if not reference.exists() or reference.read_text(encoding="utf-8") != hookdoc.render(module):
        problems.append(
            f"{reference.relative_to(root.parent)} is missing or stale: run"
            f" `uv run python -m bankcrm.hookdoc {module.__name__} > {reference}`"
        )
    return problems


def _test_names(root: Path) -> set[str]:
    names: set[str] = set()
    for path in root.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names.update(
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")
        )
    return names


def _package_directory(package: str) -> Path | None:
    spec = importlib.util.find_spec(package) if package else None
    if spec is None or not spec.submodule_search_locations:
        return None  # a plugin object without files (a test's temporary plugin)
    return Path(next(iter(spec.submodule_search_locations)))


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _is_test(path: Path) -> bool:
    return "tests" in path.parts or path.name.startswith("test_") or path.name == "conftest.py"


def _file_imports(root: Path) -> Iterator[tuple[str, bool, str, list[str]]]:
    """(``file:line``, whether the file is a test, module, names) for each absolute import
    in the files under ``root``: each file read and parsed once for every check."""
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root.parent)
        test = _is_test(path.relative_to(root))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for module, names in _imports(node):
                yield f"{where}:{getattr(node, 'lineno', 0)}", test, module, names


def import_problems(package: str, root: Path) -> list[str]:
    """Imports in the files of ``package`` (at ``root``) that reach past another package's
    public surface: a private (``_name``) module or name of any other package, or a kernel
    module outside :data:`bankcrm.plugin_api.PUBLIC_MODULES` (tests may use the rest of
    the kernel, not its private parts)."""
    problems = []
    for line, test, module, names in _file_imports(root):
        if module.split(".")[0] != package:
            problems.extend(_import_problems(line, module, names, test))
    return problems


PLUGIN_PUBLIC_MODULES = ("services", "events")
"""What one plugin may import of another: its ``services`` facade and its ``events``.
Everything else in a plugin package may change shape between releases."""


def plugin_import_problems(package: str, root: Path, others: set[str]) -> list[str]:
    """Imports in the non-test files of ``package`` that reach into one of the ``others``
    (other plugins' packages) past :data:`PLUGIN_PUBLIC_MODULES`."""
    problems: list[str] = []
    for line, test, module, names in _file_imports(root):
        parts = module.split(".")
        if test or parts[0] not in others:
            continue
        targets = (
            [".".join(parts[:2])]
            if len(parts) > 1
            else [f"{module}.{name}" for name in names] or [module]
        )
        problems.extend(
            f"{line} imports {target!r}: another plugin is used only through its"
            f" {' and '.join(PLUGIN_PUBLIC_MODULES)} modules"
            for target in targets
            if target.partition(".")[2] not in PLUGIN_PUBLIC_MODULES
        )
    return problems


def _imports(node: ast.AST) -> list[tuple[str, list[str]]]:
    if isinstance(node, ast.Import):
        return [(alias.name, []) for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [(node.module, [alias.name for alias in node.names])]
    return []


def _import_problems(line: str, module: str, names: list[str], test: bool) -> list[str]:
    problems = []
    if any(_private(part) for part in module.split(".")):
        problems.append(f"{line} imports the private module {module!r}")
    problems.extend(
        f"{line} imports the private name {name!r} from {module!r}"
        for name in names
        if _private(name)
    )
    if test or module.split(".")[0] != KERNEL_PACKAGE:
        return problems
    if module == KERNEL_PACKAGE:
        targets = [f"{KERNEL_PACKAGE}.{name}" for name in names]
    else:
        targets = [module]
    problems.extend(
        f"{line} imports {target!r}, which is not public: use bankcrm.plugin_api or a module"
        " in bankcrm.plugin_api.PUBLIC_MODULES"
        for target in targets
        if target not in PUBLIC_MODULES
    )
    return problems


def _route_problems(name: str, handlers: list[Any]) -> list[str]:
    from litestar import Litestar

    problems = []
    app = Litestar(route_handlers=handlers, openapi_config=None)  # the plugin's routes only
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            opt = handler.opt
            if opt.get("public") or _generated_options(handler):
                continue
            permission = opt.get("permission")
            if not permission:
                problems.append(f"{name}: {route.path} declares no permission")
            elif permission != "authenticated" and not permission.startswith(f"{name}."):
                problems.append(f"{name}: {route.path} uses permission {permission!r}")
    return problems


def _generated_options(handler: Any) -> bool:
    """Litestar adds an OPTIONS handler to every path; a plugin cannot give it an ``opt``
    (the central guard answers it 403 like any route without a permission)."""
    return bool(handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler")


def internal_import_problems(package: str, root: Path) -> list[str]:
    """Between the modules of ``package`` (at ``root``): each import cycle, and each use of
    another module's private (``_name``) names, by import or by attribute
    (``module._name``). Imports inside functions and under ``TYPE_CHECKING`` count: a cycle
    hidden in a function is still a cycle. Tests and migrations are left out (tests are
    white-box tests of the code beside them; nothing imports either)."""
    return import_cycles(package) + private_name_uses(package, root)


def _checked(module: str) -> bool:
    parts = module.split(".")
    return not any(
        part in ("tests", "piccolo_migrations", "conftest") or part.startswith("test_")
        for part in parts
    )


def import_cycles(package: str) -> list[str]:
    """One line per strongly connected group of modules of ``package``, naming the shortest
    cycle through its first module with the line of each import in it."""
    graph = grimp.build_graph(package, cache_dir=None)
    modules = sorted(m for m in graph.modules if _checked(m))
    imports = {
        m: sorted(i for i in graph.find_modules_directly_imported_by(m) if _checked(i) and i != m)
        for m in modules
    }
    problems = []
    for group in _strongly_connected(modules, imports):
        if len(group) < 2:
            continue
        start = group[0]
        # The shortest way back to ``start`` from the modules it imports inside the group.
        chains = [
            graph.find_shortest_chain(importer=first, imported=start)
            for first in imports[start]
            if first in group
        ]
        chain = min((c for c in chains if c), key=len)
        cycle = [start, *chain]
        steps = []
        for importer, imported in itertools.pairwise(cycle):
            details = graph.get_import_details(importer=importer, imported=imported)
            line = details[0]["line_number"] if details else 0
            steps.append(f"{_short(importer, package)}:{line} -> {_short(imported, package)}")
        members = ", ".join(_short(m, package) for m in group)
        problems.append(f"import cycle among {members}: {'; '.join(steps)}")
    return problems


def _short(module: str, package: str) -> str:
    return module.removeprefix(f"{package}.")


def _strongly_connected(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a deep package must not hit the recursion limit);
    each group sorted, groups in order of their first module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(edges[successor])))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(sorted(group))
    return sorted(groups)


def private_name_uses(package: str, root: Path) -> list[str]:
    """Uses, in one module of ``package``, of a private name of another of its modules:
    ``from package.mod import _name`` or ``mod._name`` after importing ``mod``."""
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent)
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        importer = ".".join(parts)
        if not _checked(importer):
            continue
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        aliases: dict[str, str] = {}
        found: list[tuple[int, str]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == package and alias.asname:
                        aliases[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(node, importer, is_package)
                if source.split(".")[0] != package:
                    continue
                for alias in node.names:
                    if _private(alias.name) and source != importer:
                        found.append(
                            (
                                node.lineno,
                                f"{relative}:{node.lineno} imports the private name"
                                f" {alias.name!r} from {source!r}",
                            )
                        )
                    elif _is_module(f"{source}.{alias.name}", root, package):
                        aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _private(node.attr)
                and aliases[node.value.id] != importer
            ):
                found.append(
                    (
                        node.lineno,
                        f"{relative}:{node.lineno} uses the private name {node.attr!r} of"
                        f" {aliases[node.value.id]!r}",
                    )
                )
        problems.extend(message for _, message in sorted(found))
    return problems


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_module(dotted: str, root: Path, package: str) -> bool:
    path = root.joinpath(*dotted.split(".")[1:]) if dotted != package else root
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
