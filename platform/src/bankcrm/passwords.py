"""The password policy, applied wherever a password is set (REST, admin, CLI, demo).

Length and character classes, not the username, not one of the 20,000 passwords guessing
attacks try first (Django's list, shipped in ``bankcrm/data``; see its NOTICE), and not
the current nor one of the last :func:`history_size` passwords. Passwords are compared in
Unicode normal form C, so the same password typed on two keyboards is the same password.
"""

from __future__ import annotations

import functools
import gzip
import hmac
import os
import re
import unicodedata
from pathlib import Path

from piccolo.apps.user.tables import BaseUser

MIN_LENGTH = 12
MAX_LENGTH = 128
DEFAULT_HISTORY = 5
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"


def normalised(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def history_size() -> int:
    """How many earlier passwords may not be reused (``BANKCRM_PASSWORD_HISTORY``)."""
    try:
        return max(0, int(os.environ.get("BANKCRM_PASSWORD_HISTORY", DEFAULT_HISTORY)))
    except ValueError:
        return DEFAULT_HISTORY


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def problems(password: str, username: str = "") -> list[str]:
    """What is wrong with ``password`` as a new password (empty: acceptable)."""
    password = normalised(password)
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        found.append(f"must be at most {MAX_LENGTH} characters long")
    classes = [r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"]
    if sum(bool(re.search(c, password)) for c in classes) < 3:
        found.append("must mix at least three of: lower case, upper case, digits, symbols")
    if username and username.lower() in password.lower():
        found.append("must not contain the username")
    if password.lower() in common_passwords():
        found.append("is one of the most common passwords; choose another")
    return found


def hash_password(password: str) -> str:
    return str(BaseUser.hash_password(normalised(password)))


def verify(password: str, stored: str) -> bool:
    """Whether ``password`` matches the stored PBKDF2 hash (constant-time compare)."""
    try:
        _, iterations, salt, _ = BaseUser.split_stored_password(stored)
        candidate = BaseUser.hash_password(normalised(password), salt, int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, stored)


def reused(password: str, earlier: list[str]) -> bool:
    """Whether ``password`` is one of the ``earlier`` hashes (current one first)."""
    return any(verify(password, stored) for stored in earlier)
