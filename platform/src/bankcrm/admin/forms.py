"""Workflow forms for what is no row edit (lock a user, approve a merge, reveal with a
reason, reassign work), served as piccolo-admin's UI asks for them: the list, the grouped
list, one form, its JSON schema, a submission; in the UI's language, to those holding each
form's permission where its plugin is enabled for them.

Plugins declare forms with ``register_admin_forms``
(:class:`~bankcrm.plugin_api.AdminForm`). A submission runs the form's action, which
applies the same service and audit as the REST API; its refusal is a problem document like
any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic

from bankcrm.admin.exchange import SAFE_METHODS, Request, read_form, send_json
from bankcrm.admin.language import ui_language
from bankcrm.context import Scope as ActorScope
from bankcrm.plugin_api import AdminForm, Label
from bankcrm.web.problems import FieldError, Problem


class FormDeclarationError(ValueError):
    """A form that cannot be served as declared; the admin refuses to start."""


@dataclass(frozen=True)
class PluginForm:
    plugin: str
    form: AdminForm


def text(label: Label, language: str) -> str:
    return label.en if language == "en" else label.zh


def summary(form: AdminForm, language: str) -> dict[str, Any]:
    """What piccolo-admin lists for a form (``FormConfigResponseModel``)."""
    return {
        "name": text(form.title, language),
        "slug": form.slug,
        "description": text(form.description, language),
    }


def schema(form: AdminForm, language: str) -> dict[str, Any]:
    answer = form.model.model_json_schema()
    for name, spec in answer.get("properties", {}).items():
        spec["title"] = text(form.fields[name], language)
    answer["title"] = text(form.title, language)
    return answer


def parse(form: AdminForm, data: Any) -> pydantic.BaseModel:
    try:
        return form.model.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = [
            FieldError(
                "body." + ".".join(str(p) for p in e["loc"]) if e["loc"] else "body", e["msg"]
            )
            for e in exc.errors()
        ]
        raise Problem(
            422, "; ".join(f"{e.field}: {e.message}" for e in errors), errors, "invalid"
        ) from exc


def collect_forms(
    answers: Iterable[tuple[str, Sequence[AdminForm] | None]], permissions: Iterable[str]
) -> list[PluginForm]:
    """Every plugin's forms, checked: unique slugs, a label for every field, a declared
    permission."""
    declared = set(permissions)
    forms: dict[str, PluginForm] = {}
    for plugin, declared_forms in answers:
        for form in declared_forms or ():
            where = f"{plugin}: admin form {form.slug!r}"
            if form.slug in forms:
                other = forms[form.slug].plugin
                raise FormDeclarationError(f"{where}: the slug is taken by {other}")
            if form.permission not in declared:
                raise FormDeclarationError(
                    f"{where}: permission {form.permission!r} is not declared"
                )
            unlabelled = sorted(set(form.model.model_fields) - set(form.fields))
            if unlabelled:
                raise FormDeclarationError(f"{where}: fields without a label: {unlabelled}")
            unknown = sorted(set(form.fields) - set(form.model.model_fields))
            if unknown:
                raise FormDeclarationError(f"{where}: labels of fields it has not: {unknown}")
            forms[form.slug] = PluginForm(plugin, form)
    return list(forms.values())


EnabledBranches = Callable[[str], Awaitable[frozenset[int] | None]]


class Forms:
    def __init__(self, forms: Sequence[PluginForm], enabled: EnabledBranches) -> None:
        self.forms = {declared.form.slug: declared for declared in forms}
        self.enabled = enabled

    async def usable(self, actor: ActorScope) -> dict[str, AdminForm]:
        usable = {}
        enabled: dict[str, frozenset[int] | None] = {}
        for slug, declared in self.forms.items():
            if not actor.has(declared.form.permission):
                continue
            if declared.plugin not in enabled:
                enabled[declared.plugin] = await self.enabled(declared.plugin)
            where = enabled[declared.plugin]
            if where is None or where & actor.branch_ids:
                usable[slug] = declared.form
        return usable

    async def serve(self, request: Request, actor: ActorScope, rest: str) -> None:
        """``rest``: the path under ``forms/``."""
        language = ui_language(request.connection)
        usable = await self.usable(actor)
        method = request.method
        slug, _, sub = rest.strip("/").partition("/")
        if method in SAFE_METHODS and rest == "":
            await send_json(request.send, 200, [summary(f, language) for f in usable.values()])
            return
        if method in SAFE_METHODS and rest == "grouped/":
            grouped: dict[str, list[dict[str, Any]]] = {}
            for each in usable.values():
                grouped.setdefault(text(each.group, language), []).append(summary(each, language))
            await send_json(request.send, 200, {"grouped": grouped, "ungrouped": []})
            return
        form = usable.get(slug)
        if form is None:
            raise Problem(404, "no such form", code="not_found")
        if method in SAFE_METHODS and sub == "":
            await send_json(request.send, 200, summary(form, language))
        elif method in SAFE_METHODS and sub == "schema":
            await send_json(request.send, 200, schema(form, language))
        elif method == "POST" and sub == "":
            message = await form.action(parse(form, await read_form(request)))
            await send_json(request.send, 200, {"custom_form_success": message})
        else:
            raise Problem(404, "no such form endpoint", code="not_found")
