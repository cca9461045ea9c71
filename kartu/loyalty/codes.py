"""Customer and reward codes: short, typed by hand, read aloud, never ambiguous.

Codes use Crockford's base32 alphabet (digits and letters without I, L, O and U), so a
code survives being read across a counter: the look-alikes people type (O for 0, I or L
for 1) are mapped back, and case, dashes and spaces do not matter.
"""

from __future__ import annotations

import re
import secrets
from enum import Enum

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PERSONAL_CODE_LENGTH = 8
REWARD_CODE_LENGTH = 10
BITS_PER_CHAR = 5
REWARD_CODE_BITS = REWARD_CODE_LENGTH * BITS_PER_CHAR

_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_DATE_OR_AMOUNT = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,3}(?:[.,]\d{3})+")
# Anything longer than this is surely not a code and is not looked at further.
MAX_CODE_INPUT = 40


class CodeKind(Enum):
    PERSONAL = "personal"
    REWARD = "reward"


def _random_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_personal_code() -> str:
    """A fresh customer code (40 bits), canonical (undashed) form."""
    return _random_code(PERSONAL_CODE_LENGTH)


def new_reward_code() -> str:
    """A fresh one-time reward code (50 bits of entropy), canonical form."""
    return _random_code(REWARD_CODE_LENGTH)


def new_prompt_token() -> str:
    """What a Confirm button carries: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def anonymous_code() -> str:
    """What replaces an erased person's code: unique, and never what `normalize_code` yields
    (it has a dash), so nobody can type it."""
    return "-" + secrets.token_hex(6)


def normalize_code(text: str | None) -> str | None:
    """Canonical form of a typed code, or ``None`` when it cannot be one of ours."""
    if not text or len(text) > MAX_CODE_INPUT:
        return None
    compact = _SEPARATORS.sub("", text.strip().upper()).translate(_LOOKALIKES)
    if len(compact) not in (PERSONAL_CODE_LENGTH, REWARD_CODE_LENGTH):
        return None
    if any(char not in ALPHABET for char in compact):
        return None
    return compact


_AS_SHOWN = re.compile(r"[0-9A-Za-z]{4,5}-?[0-9A-Za-z]{4,5}")


def looks_like_typed_code(text: str | None) -> bool:
    """Text that is most likely a code someone typed rather than words: it reads as a code and
    is written as one (no spaces, like "WPQB-RVCZ") or has a digit ("K7Q2 9XHM"). "Another one"
    and "Kopi susu" also normalise to codes, but are words."""
    stripped = (text or "").strip()
    if _DATE_OR_AMOUNT.fullmatch(stripped):  # 31-12-2026 and 10.000.000 are answers, not codes
        return False
    return normalize_code(stripped) is not None and (
        bool(_AS_SHOWN.fullmatch(stripped)) or any(c.isdigit() for c in stripped)
    )


def code_kind(canonical: str) -> CodeKind:
    """Which kind of code a canonical code is; the two kinds differ in length."""
    return CodeKind.PERSONAL if len(canonical) == PERSONAL_CODE_LENGTH else CodeKind.REWARD


def format_code(canonical: str) -> str:
    """Human form: ``K7Q29XHM`` -> ``K7Q2-9XHM``; reward codes in two groups of five."""
    half = len(canonical) // 2
    return f"{canonical[:half]}-{canonical[half:]}"
