"""Text that staff will read: no control characters, no bidirectional overrides, NFC.

The body gate applies these rules to every string of every JSON body; code that takes text
by another road (a spreadsheet cell, a form field of an upload) applies them itself.
"""

from __future__ import annotations

import re
import unicodedata

UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 controls except tab, line feed and carriage return; DEL and C1 controls; the bidi
embeddings, overrides and isolates that reorder what a reader sees (``abc\u202egnp.exe``
reads as ``abcexe.png``: "Trojan Source")."""

UNSAFE_MESSAGE = "contains a control or bidirectional-override character"


def has_unsafe_characters(text: str) -> bool:
    return UNSAFE_CHARACTERS.search(text) is not None


def normal_text(text: str) -> str:
    """``text`` in Unicode normal form C (one code point for ``é``, as staff type it)."""
    return unicodedata.normalize("NFC", text)
