"""What customers read and see: their card as text and picture, their code's QR, their rewards."""

from __future__ import annotations

import asyncio

from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from kartu.loyalty.codes import format_code
from kartu.media.card_image import CardPicture, render_card
from kartu.media.qr import render_qr
from kartu.presenters.format import HTML, N_, date_text, html, join_html, plain
from kartu.services.views import CardView, RewardView

REASON_LABELS = {
    "wait": N_("⏱ Waited too long"),
    "quality": N_("☕ Quality"),
    "staff": N_("🙋 Service"),
    "price": N_("💸 Price"),
    "other": N_("💬 Something else"),
}


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
