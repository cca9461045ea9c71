"""A screen as presenters make it for any messenger: text (Kartu's HTML, made by `html()`, which
every messenger renders in its own markup), what can be tapped, and how. Telegram's renderer is
here (inline keyboards); WhatsApp's is channels/whatsapp/screens.py."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from kartu.presenters.format import HTML, plain

CHOICES_MAX = 10  # the most choices a screen offers: every messenger can list them (WhatsApp: 10)


@dataclass(frozen=True)
class Action:
    """Something to tap: a reply (``data``: packed callback data, a server-side row's token in it)
    or a web address (``url``); ``detail`` is what a list row shows under its label."""

    label: str
    data: str | None = None
    url: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Screen:
    text: HTML
    actions: tuple[Action, ...] = ()
    columns: int = 1  # Telegram: buttons a row
    choose: str | None = None  # the button that opens the list where a messenger lists the actions
    # It may take the place of the screen it was opened from (Telegram edits that message in place);
    # a messenger that cannot edit (WhatsApp) sends it as a new message.
    replaces: bool = False


def telegram(screen: Screen) -> tuple[HTML, InlineKeyboardMarkup | None]:
    """The text as it is (Telegram HTML) and the actions as an inline keyboard."""
    buttons = [
        InlineKeyboardButton(text=_label(action), url=action.url)
        if action.url
        else InlineKeyboardButton(text=_label(action), callback_data=action.data)
        for action in screen.actions
    ]
    if not buttons:
        return screen.text, None
    rows = [buttons[start : start + screen.columns] for start in range(0, len(buttons), screen.columns)]
    return screen.text, InlineKeyboardMarkup(inline_keyboard=rows)


def _label(action: Action) -> str:
    return (
        plain("{label} · {detail}", label=action.label, detail=action.detail)
        if action.detail
        else action.label
    )
