"""The language the admin UI shows, which the server learns from a cookie.

piccolo-admin keeps the chosen language in the browser; when the UI loads a translation
the gate sets :data:`LANGUAGE_COOKIE`, so titles, labels and messages it writes itself
match. Chinese unless the user switched to another language (English).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from bankcrm.admin.exchange import Captured, cookie_header
from bankcrm.plugin_api import Label

LANGUAGE_COOKIE = "bankcrm_admin_lang"
"""Set when the UI loads a translation: the server learns the language it shows."""


def ui_language(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """``zh`` unless the admin UI was switched to another language (English)."""
    chosen = connection.cookies.get(LANGUAGE_COOKIE, "")
    return "en" if chosen and not chosen.lower().startswith("zh") else "zh"


def text(label: Label, language: str) -> str:
    return label.en if language == "en" else label.zh


def remembered(
    captured: Captured, code: str, *, mount_path: str, secure: bool
) -> list[tuple[bytes, bytes]]:
    """The cookie to send with a translation the UI loaded (none if it failed)."""
    if captured.status != 200:
        return []
    return [
        cookie_header(
            LANGUAGE_COOKIE, code, path=mount_path, max_age=365 * 24 * 3600, secure=secure
        )
    ]
