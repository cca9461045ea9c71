"""Buttons every audience shares."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from kartu.loyalty.staff import Role
from kartu.presenters.format import HTML, N_
from kartu.presenters.screens import Action, Screen

# Said when handling failed on Kartu's side (any messenger); the error is logged, never shown.
APOLOGY = N_("Sorry, something went wrong on our side. Please try again in a moment.")


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


def confirm_or_cancel(text: HTML, confirm: str, cancel: str) -> Screen:
    """A question answered by Confirm or Cancel: side by side on Telegram, two buttons on WhatsApp."""
    return Screen(text, (Action(_("✅ Confirm"), confirm), Action(_("✖️ Cancel"), cancel)), columns=2)


LANGUAGE_NAMES = {"id": "🇮🇩 Bahasa Indonesia", "en": "🇬🇧 English"}


def role_name(role: str) -> str:
    """A team member's role, in the reader's language."""
    return {Role.OWNER: _("owner"), Role.MANAGER: _("manager")}.get(Role(role), _("staff"))
