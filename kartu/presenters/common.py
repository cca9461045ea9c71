"""Buttons every audience shares."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _


def confirm_cancel(confirm: str, cancel: str) -> InlineKeyboardMarkup:
    """Confirm and Cancel side by side (built directly: shown on every purchase at the counter,
    where the keyboard builder's checks and copies cost more than the rest of the prompt)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("✅ Confirm"), callback_data=confirm),
                InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=cancel),
            ]
        ]
    )


LANGUAGE_NAMES = {"id": "🇮🇩 Bahasa Indonesia", "en": "🇬🇧 English"}
