"""Customers' screens on a messenger where commands are typed words (WhatsApp): joining with
consent, the menu as a list, the language question. What they share with Telegram (the card, the
code, rewards, leaving and forgetting) comes from presenters/customer.py unchanged."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from kartu.loyalty.language import SUPPORTED_LANGUAGES
from kartu.presenters.common import LANGUAGE_NAMES
from kartu.presenters.format import HTML, N_, html
from kartu.presenters.menus import MENU_CARD, MENU_CODE, MENU_REWARDS
from kartu.presenters.screens import Action, Screen

JOIN, DECLINE, MENU, LANGUAGE = "wa:join:", "wa:no:", "wa:menu:", "wa:lang:"
MENU_LANGUAGE = N_("🌐 Language")
MENU_MY_DATA = N_("📄 My data")
MENU_LEAVE = N_("🚪 Leave the shop")
MENU_FORGET = N_("🗑 Erase my data")
MENU_STOP = N_("🔕 No more offers")
MENU_ROWS = (
    ("card", MENU_CARD),
    ("code", MENU_CODE),
    ("rewards", MENU_REWARDS),
    ("stop", MENU_STOP),
    ("lang", MENU_LANGUAGE),
    ("mydata", MENU_MY_DATA),
    ("leave", MENU_LEAVE),
    ("forget", MENU_FORGET),
)


def consent_question(shop: str, slug: str, language: str) -> Screen:
    """The first message: the shop's card, and consent to its messages, asked before anything is
    kept (no consent, no card and no messages)."""
    text = html(
        _(
            "<b>{shop}</b> keeps your loyalty card here on WhatsApp: your stamps and rewards, and now and then "
            "the shop's news. Join, and agree to get these messages? You can send STOP or FORGET any time."
        ),
        shop=shop,
    )
    joining = Action(_("✅ Yes, join"), data=JOIN + slug + ":" + language)
    return Screen(text, (joining, Action(_("No, thanks"), data=DECLINE + language)))


def consent_declined() -> HTML:
    return html(
        _(
            "All right: you did not join, and you will get no messages. Scan the QR code at the counter again "
            "any time to join."
        )
    )


def how_to_join() -> HTML:
    return html(
        _(
            "Hello! To get a shop's loyalty card here, scan the QR code at its counter, or send JOIN and the "
            "shop's code, like <code>JOIN kopi-senja</code>."
        )
    )


def linked(first_name: str) -> HTML:
    return html(
        _(
            "Linked, {first_name}: your cards and code from Telegram are here too. Send CARD or CODE to see them."
        ),
        first_name=first_name,
    )


def unknown_shop(code: str) -> HTML:
    return html(
        _("I do not know a shop with the code <b>{code}</b>. Please check the code on the shop's poster."),
        code=code,
    )


def menu_screen() -> Screen:
    return Screen(
        html(_("What would you like to see? Open the menu, or send a word like CARD, CODE or REWARDS.")),
        tuple(Action(_(label), data=MENU + command) for command, label in MENU_ROWS),
        choose=_("Menu"),
    )


def language_question() -> Screen:
    return Screen(
        html(_("Choose your language:")),
        tuple(Action(LANGUAGE_NAMES[code], data=LANGUAGE + code) for code in SUPPORTED_LANGUAGES),
    )


def my_data_caption() -> HTML:
    return html(
        _(
            "Everything Kartu keeps about you. Send LEAVE to leave a shop, or FORGET to erase your personal data."
        )
    )
