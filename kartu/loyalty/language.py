"""Which language a person is answered in."""

from __future__ import annotations

SUPPORTED_LANGUAGES = ("id", "en")


def resolve_language(chosen: str | None, telegram_language: str | None, default: str) -> str:
    """The person's own choice (/lang) wins; else Telegram's language; else the default."""
    if chosen in SUPPORTED_LANGUAGES:
        return chosen
    code = (telegram_language or "").lower()
    if code.startswith("id") or code.startswith("in"):
        return "id"
    if code.startswith("en"):
        return "en"
    return default
