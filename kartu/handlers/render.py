"""Turning service views into translated text, pictures and keyboards."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from kartu.loyalty.codes import format_code
from kartu.media.card_image import CardPicture, render_card
from kartu.media.qr import render_qr
from kartu.services.views import CardView, RewardView


def N_(message: str) -> str:
    """Marks a message for the catalogs without translating it yet (gettext's ``N_``)."""
    return message


REASON_LABELS = {
    "wait": N_("⏱ Waited too long"),
    "quality": N_("☕ Quality"),
    "staff": N_("🙋 Service"),
    "price": N_("💸 Price"),
    "other": N_("💬 Something else"),
}


class HTML(str):
    """Text that is valid Telegram HTML. Only `html` and `join_html` make it, from a trusted
    template, so every reply's markup comes from the code and the catalogs, never from a person."""


def i18n_locale() -> str:
    i18n = I18n.get_current(no_error=True)
    return i18n.current_locale if i18n is not None else "en"


def number_text(value: int) -> str:
    """``1234`` as the reader writes it: "1.234" in Indonesian, "1,234" in English."""
    return format_decimal(value, locale=i18n_locale())


def decimal_text(value: float) -> str:
    """One decimal: "4,5" in Indonesian, "4.5" in English."""
    return format_decimal(value, format="#,##0.0", locale=i18n_locale())


def percent_text(value: float | None) -> str:
    return "–" if value is None else format_percent(value, locale=i18n_locale())


def money_text(value: int) -> str:
    """Rupiah as on a receipt: "Rp 125.000" (Indonesian) or "Rp 125,000" (English)."""
    return "Rp " + format_decimal(value, locale=i18n_locale())


def stamps_text(count: int) -> HTML:
    return html(ngettext("{count} stamp", "{count} stamps", count), count=count)


def purchases_text(count: int) -> HTML:
    return html(ngettext("{count} purchase", "{count} purchases", count), count=count)


def _fragment(value: object) -> object:
    if isinstance(value, HTML):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return number_text(value)  # grouped in the reader's locale; a number cannot carry markup
    return escape("—" if value is None else str(value))


def html(template: str, /, **values: object) -> HTML:
    """Fill a template (a translated message with its tags): each value is escaped unless it
    is `HTML` already, so a ``<`` in a name or a reward can never become markup."""
    return HTML(template.format(**{key: _fragment(value) for key, value in values.items()}))


def join_html(separator: str, parts: Iterable[object]) -> HTML:
    """Join message parts; parts that are not `HTML` are escaped."""
    return HTML(separator.join(str(_fragment(part)) for part in parts))


def plain(template: str, /, **values: object) -> str:
    """Fill a template for plain text: button labels and pop-up alerts (Telegram parses no markup there)."""
    return template.format(**{key: number_text(value) if isinstance(value, int) and not isinstance(value, bool) else value
                              for key, value in values.items()})


def date_text(moment: datetime, timezone: str, locale: str) -> str:
    return format_date(moment.astimezone(ZoneInfo(timezone)), format="d MMM yyyy", locale=locale)


def time_text(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def progress_line(card: CardView) -> HTML:
    """``7/10 — 3 more for 1 free drink``."""
    return html(
        _("{stamps}/{required} — {missing} more for {reward}"),
        stamps=card.stamps, required=card.stamps_required, missing=card.stamps_to_reward, reward=card.reward_name,
    )


def card_caption(card: CardView, locale: str) -> HTML:
    lines = [html("<b>{shop}</b>", shop=card.merchant_name), progress_line(card)]
    if card.stamps_expire_at is not None:
        lines.append(html(_("Your stamps expire on {date} unless you visit again."), date=date_text(card.stamps_expire_at, card.timezone, locale)))
    if card.open_rewards:
        lines.append(html(ngettext("🎁 You have {count} reward to use: /rewards", "🎁 You have {count} rewards to use: /rewards",
                                   card.open_rewards), count=card.open_rewards))
    return join_html("\n", lines)


async def card_photo(card: CardView, celebrate: bool = False) -> BufferedInputFile:
    progress = plain(_("{stamps} of {required} stamps"), stamps=card.stamps, required=card.stamps_required)
    picture = CardPicture(
        shop_name=card.merchant_name,
        stamps=card.stamps,
        stamps_required=card.stamps_required,
        reward_line=plain(_("Reward: {reward}"), reward=card.reward_name),
        progress_line=plain("🎉 {progress} 🎉", progress=progress) if celebrate else progress,
        rewards_line=plain(ngettext("🎁 {count} reward waiting", "🎁 {count} rewards waiting", card.open_rewards), count=card.open_rewards)
        if card.open_rewards else "",
    )
    png = await asyncio.to_thread(render_card, picture)
    return BufferedInputFile(png, filename="card.png")


async def qr_photo(code: str, shop: str) -> BufferedInputFile:
    png = await asyncio.to_thread(render_qr, format_code(code), format_code(code), shop)
    return BufferedInputFile(png, filename="code.png")


def reward_lines(rewards: list[RewardView], locale: str) -> HTML:
    if not rewards:
        return html(_("You have no rewards to use yet. Every full card earns one."))
    lines = [html(_("<b>Your rewards</b> — show the code to staff:"))]
    for reward in rewards:
        lines.append(
            html(
                _("🎁 {reward}\nCode: <code>{code}</code> · valid until {date}"),
                reward=reward.name, code=format_code(reward.code), date=date_text(reward.expires_at, reward.timezone, locale),
            )
        )
    return join_html("\n\n", lines)


def confirm_cancel(confirm: str, cancel: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Confirm"), callback_data=confirm)
    builder.button(text=_("✖️ Cancel"), callback_data=cancel)
    return builder.as_markup()
