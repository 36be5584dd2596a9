"""Short result codes: the first 40 bits of a result's UUID in Crockford base32 (8 characters).

The code is printed in the visible label and the metadata, so anyone pictured can name the photo
on the public removal-request page without an account. No Django import (the labelling uses it)."""

from __future__ import annotations

import uuid

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(ALPHABET)}
_DECODE.update({"O": 0, "I": 1, "L": 1})  # Crockford: read-alike letters
LENGTH = 8


def result_code(public_id) -> str:
    """'7KQ3M0ZD' for a result UUID (its top 40 bits)."""
    n = uuid.UUID(str(public_id)).int >> (128 - 5 * LENGTH)
    return "".join(ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def normalise(code: str) -> str | None:
    """The canonical code for what a person typed ('7kq3-m0zd', 'LoveLoveShot 7KQ3M0ZD'), or None."""
    text = (code or "").upper().replace("-", "").replace(" ", "")
    for prefix in ("LOVELOVESHOT", "LLS"):
        if text.startswith(prefix) and len(text) > LENGTH:
            text = text[len(prefix):]
    text = text.lstrip(":#")
    if len(text) != LENGTH or any(c not in _DECODE for c in text):
        return None
    return "".join(ALPHABET[_DECODE[c]] for c in text)


def uuid_prefix(code: str) -> str | None:
    """The hyphenated UUID prefix ('xxxxxxxx-xx') a canonical code stands for, or None."""
    canonical = normalise(code)
    if canonical is None:
        return None
    n = 0
    for c in canonical:
        n = (n << 5) | _DECODE[c]
    h = f"{n:010x}"
    return f"{h[:8]}-{h[8:]}"
