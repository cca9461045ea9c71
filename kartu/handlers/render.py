"""Turning service views into translated text, pictures and keyboards."""

from __future__ import annotations

import asyncio
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date

from kartu.loyalty.codes import format_code
from kartu.media.card_image import CardPicture, render_card
from kartu.media.qr import render_qr
from kartu.services.views import CardView, RewardView



def N_(message: str) -> str:
    """Marks a message for the catalogs without translating it yet (gettext's ``N_``)."""
    return message


MENU_CARD = N_("🎟 My card")
MENU_CODE = N_("🔑 My code")
MENU_REWARDS = N_("🎁 Rewards")
MENU_HELP = N_("❓ Help")
MENU_CLAIM = N_("🧾 I bought something")
REASON_LABELS = {
    "wait": N_("⏱ Waited too long"),
    "quality": N_("☕ Quality"),
    "staff": N_("🙋 Service"),
    "price": N_("💸 Price"),
    "other": N_("💬 Something else"),
}


def menu_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_(MENU_CARD)), KeyboardButton(text=_(MENU_CODE))],
            [KeyboardButton(text=_(MENU_REWARDS)), KeyboardButton(text=_(MENU_HELP))],
            [KeyboardButton(text=_(MENU_CLAIM))],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def name(text: str | None) -> str:
    """A user-supplied name, safe inside HTML replies."""
    return escape(text or "—")


def date_text(moment: datetime, timezone: str, locale: str) -> str:
    return format_date(moment.astimezone(ZoneInfo(timezone)), format="d MMM yyyy", locale=locale)


def time_text(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def progress_line(card: CardView) -> str:
    """``7/10 — 3 more for 1 free drink``."""
    return _("{stamps}/{required} — {missing} more for {reward}").format(
        stamps=card.stamps, required=card.stamps_required, missing=card.stamps_to_reward, reward=card.reward_name
    )


def card_caption(card: CardView, locale: str) -> str:
    lines = [f"<b>{name(card.merchant_name)}</b>", escape(progress_line(card))]
    if card.stamps_expire_at is not None:
        lines.append(_("Your stamps expire on {date} unless you visit again.").format(date=date_text(card.stamps_expire_at, card.timezone, locale)))
    if card.open_rewards:
        lines.append(_("🎁 You have {count} reward(s) to use: /rewards").format(count=card.open_rewards))
    return "\n".join(lines)


async def card_photo(card: CardView) -> BufferedInputFile:
    picture = CardPicture(
        shop_name=card.merchant_name,
        stamps=card.stamps,
        stamps_required=card.stamps_required,
        reward_line=_("Reward: {reward}").format(reward=card.reward_name),
        progress_line=_("{stamps} of {required} stamps").format(stamps=card.stamps, required=card.stamps_required),
    )
    png = await asyncio.to_thread(render_card, picture)
    return BufferedInputFile(png, filename="card.png")


async def qr_photo(code: str) -> BufferedInputFile:
    png = await asyncio.to_thread(render_qr, format_code(code))
    return BufferedInputFile(png, filename="code.png")


def reward_lines(rewards: list[RewardView], locale: str) -> str:
    if not rewards:
        return _("You have no rewards to use yet. Every full card earns one.")
    lines = [_("<b>Your rewards</b> — show the code to staff:")]
    for reward in rewards:
        lines.append(
            _("🎁 {reward}\nCode: <code>{code}</code> · valid until {date}").format(
                reward=name(reward.name), code=format_code(reward.code), date=date_text(reward.expires_at, reward.timezone, locale)
            )
        )
    return "\n\n".join(lines)


def confirm_cancel(confirm: str, cancel: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Confirm"), callback_data=confirm)
    builder.button(text=_("✖️ Cancel"), callback_data=cancel)
    return builder.as_markup()
