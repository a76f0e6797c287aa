"""Forms for what is no row edit (lock, unlock, reset a password), served as
piccolo-admin's UI asks for them: the list, the grouped list, one form, its JSON schema,
a submission; in the UI's language, to those holding each form's permission.

A submission runs the form's action, which applies the same service and audit as the REST
API; its refusal is a problem document like any other.
"""

from __future__ import annotations

from collections.abc import Sequence

from bankcrm.admin.exchange import SAFE_METHODS, Request, read_form, send_json
from bankcrm.admin.language import text, ui_language
from bankcrm.context import Scope as ActorScope
from bankcrm.users.admin_forms import FORMS_GROUP, AdminForm
from bankcrm.web.problems import Problem


class Forms:
    def __init__(self, forms: Sequence[AdminForm]) -> None:
        self.forms = {form.slug: form for form in forms}

    async def serve(self, request: Request, actor: ActorScope, rest: str) -> None:
        """``rest``: the path under ``forms/``."""
        language = ui_language(request.connection)
        usable = {slug: f for slug, f in self.forms.items() if actor.has(f.permission)}
        method = request.method
        slug, _, sub = rest.strip("/").partition("/")
        if method in SAFE_METHODS and rest == "":
            await send_json(request.send, 200, [f.summary(language) for f in usable.values()])
            return
        if method in SAFE_METHODS and rest == "grouped/":
            summaries = [f.summary(language) for f in usable.values()]
            grouped = {text(FORMS_GROUP, language): summaries} if summaries else {}
            await send_json(request.send, 200, {"grouped": grouped, "ungrouped": []})
            return
        form = usable.get(slug)
        if form is None:
            raise Problem(404, "no such form", code="not_found")
        if method in SAFE_METHODS and sub == "":
            await send_json(request.send, 200, form.summary(language))
        elif method in SAFE_METHODS and sub == "schema":
            await send_json(request.send, 200, form.schema(language))
        elif method == "POST" and sub == "":
            message = await form.action(form.parse(await read_form(request)))
            await send_json(request.send, 200, {"custom_form_success": message})
        else:
            raise Problem(404, "no such form endpoint", code="not_found")
