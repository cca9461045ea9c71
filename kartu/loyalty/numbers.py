"""Numbers people type, parsed in one place: ASCII digits only (``str.isdigit`` also accepts
``²``, ``①`` and Arabic-Indic digits, which ``int`` then refuses), bounded length and range."""

from __future__ import annotations

import re

from kartu.loyalty.codes import normalize_code

_WHOLE = re.compile(r"[0-9]{1,12}")
# Rupiah as people write it: 25000, 25.000 or 25,000 (no cents).
_AMOUNT = re.compile(r"[0-9]{1,3}(?:([.,])[0-9]{3}(?:\1[0-9]{3})*)?|[0-9]{1,12}")
MAX_AMOUNT = 100_000_000  # Rp 100 juta: more is a typo, not a coffee


def parse_whole_number(text: str | None, minimum: int, maximum: int) -> int | None:
    """The whole number in ``text`` if it is one within ``[minimum, maximum]``, else ``None``."""
    text = (text or "").strip()
    if not _WHOLE.fullmatch(text):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def parse_amount(text: str | None) -> int | None:
    """A purchase amount in rupiah, 1 to `MAX_AMOUNT`; ``None`` when it is not one."""
    text = (text or "").strip()
    if not _AMOUNT.fullmatch(text):
        return None
    value = int(text.replace(".", "").replace(",", ""))
    return value if 1 <= value <= MAX_AMOUNT else None


def format_amount(value: int) -> str:
    """``25000`` -> ``"25.000"`` (Indonesian grouping, as on receipts)."""
    return f"{value:,}".replace(",", ".")


def split_stamp_arguments(parts: list[str]) -> tuple[str, str | None]:
    """``/stamp K7Q2 9XHM 2``: the code (possibly split by a space) and the purchase count.
    The last word is the count whenever the words before it already make a code, so that
    ``/stamp CODE 999999``, ``-1`` or ``1.5`` are told the count is wrong, not the code."""
    if len(parts) > 1 and normalize_code("".join(parts[:-1])) is not None:
        return "".join(parts[:-1]), parts[-1]
    return "".join(parts), None
