"""Personal data: masking, encryption at rest and keyed hashes for lookup.

ID numbers are stored encrypted (AES-GCM, key derived from ``BANKCRM_SECRET_KEY``) and
found through an HMAC of their normalised value, so equality search works without the
database ever holding them in clear. Phones, account and card numbers are masked in every
response unless the actor holds ``<plugin>.pii.reveal`` and gives a reason (audited).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bankcrm.settings import get_settings

_NONCE_BYTES = 12


@cache
def _keys(secret: bytes) -> tuple[bytes, bytes]:
    encryption = hashlib.sha256(b"bankcrm/pii/encrypt\x00" + secret).digest()
    lookup = hashlib.sha256(b"bankcrm/pii/lookup\x00" + secret).digest()
    return encryption, lookup


def _secret() -> bytes:
    return get_settings().secret_key


def normalise(value: str) -> str:
    return "".join(value.split()).upper()


def encrypt(value: str) -> str:
    key, _ = _keys(_secret())
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), b"bankcrm-pii")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    key, _ = _keys(_secret())
    raw = base64.urlsafe_b64decode(token.encode())
    return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], b"bankcrm-pii").decode()


def lookup_hash(value: str) -> str:
    _, key = _keys(_secret())
    return hmac.new(key, normalise(value).encode(), hashlib.sha256).hexdigest()


def mask(value: str | None, keep_start: int = 3, keep_end: int = 4) -> str | None:
    """``13812345678`` -> ``138****5678``; short values are masked entirely."""
    if value is None:
        return None
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    # Not value[-keep_end:]: with keep_end=0 that slice is the whole value.
    hidden_until = len(value) - keep_end
    return value[:keep_start] + "*" * (hidden_until - keep_start) + value[hidden_until:]


def mask_id_number(value: str | None) -> str | None:
    """Resident ID ``110105194912310021`` -> ``110***********0021``."""
    return mask(value, 3, 4)


def mask_account(value: str | None) -> str | None:
    return mask(value, 4, 4)


def mask_name(value: str | None) -> str | None:
    """``王秀英`` -> ``王**``: used in logs, never in screens staff work with."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)
