"""What customers read and see: their card as text and picture, their code's QR, their rewards."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.loyalty.codes import format_code
from kartu.loyalty.links import whatsapp_chat_link
from kartu.loyalty.points import PERMILLE
from kartu.loyalty.staff import Role
from kartu.loyalty.why import Reason, Why
from kartu.media.card_image import CardPicture, render_card
from kartu.media.qr import render_qr
from kartu.presenters.callbacks import DataAction, DataStep, MissingStamp, SurveyAnswer, SurveyReason
from kartu.presenters.common import confirm_or_cancel
from kartu.presenters.format import (
    HTML,
    N_,
    date_text,
    day_text,
    html,
    join_html,
    money_text,
    multiplier_text,
    number_text,
    plain,
    stamps_text,
    time_text,
)
from kartu.presenters.menus import PAGES
from kartu.presenters.screens import Action, Screen
from kartu.services.bonuses import POINTS, Bonus
from kartu.services.customers import InviteResult, JoinResult, LeavePreview, ReceiptClaim
from kartu.services.views import CardView, NextLevel, RewardView

REASON_LABELS = {
    "wait": N_("⏱ Waited too long"),
    "quality": N_("☕ Quality"),
    "staff": N_("🙋 Service"),
    "price": N_("💸 Price"),
    "other": N_("💬 Something else"),
}


def points_text(count: int) -> HTML:
    return html(ngettext("{count} point", "{count} points", count), count=count)


def progress_line(card: CardView) -> HTML:
    """``7/10 — 3 more for 1 free drink``."""
    return html(
        _("{stamps}/{required} — {missing} more for {reward}"),
        stamps=card.stamps,
        required=card.stamps_required,
        missing=card.stamps_to_reward,
        reward=card.reward_name,
    )


def _tier_template(card: CardView) -> str:
    """``🏅 Gold · 1.5× points`` (the multiplier only in a shop running points, and above 1×)."""
    if card.points is not None and card.tier_multiplier > PERMILLE:
        return _("🏅 {tier} · {multiplier}× points")
    return "🏅 {tier}"


def tier_line(card: CardView) -> HTML:
    return html(_tier_template(card), tier=card.tier, multiplier=multiplier_text(card.tier_multiplier))


def next_level_line(level: NextLevel) -> HTML:
    if level.basis == "spend":
        return html(
            _("Spend {missing} more to reach {level}"), missing=money_text(level.missing), level=level.name
        )
    return html(
        ngettext(
            "{missing} more visit to reach {level}", "{missing} more visits to reach {level}", level.missing
        ),
        missing=level.missing,
        level=level.name,
    )


def card_caption(card: CardView, locale: str) -> HTML:
    lines = [html("<b>{shop}</b>", shop=card.merchant_name)]
    if card.tier:
        lines.append(tier_line(card))
    if card.next_level is not None:
        lines.append(next_level_line(card.next_level))
    if card.runs_stamps:
        lines.append(progress_line(card))
    if card.points is not None:
        lines.append(html(_("⭐ {points} · /rewards"), points=points_text(card.points)))
    if card.runs_stamps and card.stamps_expire_at is not None:
        lines.append(
            html(
                _("Your stamps expire on {date} unless you visit again."),
                date=date_text(card.stamps_expire_at, card.timezone, locale),
            )
        )
    if card.open_rewards:
        lines.append(
            html(
                ngettext(
                    "🎁 You have {count} reward to use: /rewards",
                    "🎁 You have {count} rewards to use: /rewards",
                    card.open_rewards,
                ),
                count=card.open_rewards,
            )
        )
    return join_html("\n", lines)


@dataclass(frozen=True)
class CardPhoto:
    """A card picture to send, and what identifies it (equal pictures share one upload)."""

    file: BufferedInputFile
    key: CardPicture


async def card_photo(card: CardView, celebrate: bool = False) -> CardPhoto:
    progress = plain(_("{stamps} of {required} stamps"), stamps=card.stamps, required=card.stamps_required)
    picture = CardPicture(
        shop_name=card.merchant_name,
        stamps=card.stamps,
        stamps_required=card.stamps_required,
        reward_line=plain(_("Reward: {reward}"), reward=card.reward_name),
        progress_line=plain("🎉 {progress} 🎉", progress=progress) if celebrate else progress,
        rewards_line=plain(
            ngettext("🎁 {count} reward waiting", "🎁 {count} rewards waiting", card.open_rewards),
            count=card.open_rewards,
        )
        if card.open_rewards
        else "",
        tier_line=plain(
            _tier_template(card), tier=card.tier, multiplier=multiplier_text(card.tier_multiplier)
        )
        if card.tier
        else "",
    )
    png = await asyncio.to_thread(render_card, picture)
    return CardPhoto(BufferedInputFile(png, filename="card.png"), picture)


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
                reward=reward.name,
                code=format_code(reward.code),
                date=date_text(reward.expires_at, reward.timezone, locale),
            )
        )
    return join_html("\n\n", lines)


def invite_welcome(invite: InviteResult) -> HTML:
    """A new owner or staff member opened their invite."""
    if invite.role == Role.OWNER:
        text = _(
            "Welcome, owner of <b>{shop}</b>! Use /link for your customers' join link and QR, /staff to invite your team and /program to set up your card."
        )
    elif invite.role == Role.MANAGER:
        text = _(
            "You now manage <b>{shop}</b>. /staff invites your outlet's team, /stats shows its figures; send a customer's code to give stamps."
        )
    else:
        text = _(
            "You are now staff at <b>{shop}</b>. Send a customer's code to give stamps. /help shows how."
        )
    parts = [html(text, shop=invite.merchant_name)]
    if invite.still_acting_for:
        parts.append(
            html(
                _("You still act for <b>{shop}</b>. Send /shop to switch between your shops."),
                shop=invite.still_acting_for,
            )
        )
    return join_html("\n\n", parts)


def stranger_greeting(telegram_id: int) -> HTML:
    """/start without a shop to join: how to join, and the id an operator would ask for."""
    return join_html(
        "\n\n",
        [
            html(_("Hello! I keep your loyalty cards. Open your shop's link or scan its QR code to join.")),
            html(
                _(
                    "Setting up a shop? Your Telegram user id is <code>{id}</code>: the operator needs it for `kartu merchant create`."
                ),
                id=str(telegram_id),
            ),
        ],
    )


def bonus_text(amount: int, unit: str) -> HTML:
    return points_text(amount) if unit == POINTS else stamps_text(amount)


def welcome_bonus_line(bonus: Bonus) -> HTML:
    return html(
        _("🎁 A welcome gift: {bonus} are already on your card."), bonus=bonus_text(bonus.amount, bonus.unit)
    )


def referral_promise_line(invited_by: str | None, bonus: Bonus, hold_days: int) -> HTML:
    if not hold_days:
        return html(
            _("🤝 {name} invited you: after your first purchase you both get {bonus}."),
            name=invited_by or "—",
            bonus=bonus_text(bonus.amount, bonus.unit),
        )
    return html(
        ngettext(
            "🤝 {name} invited you: a day after your first purchase you both get {bonus}.",
            "🤝 {name} invited you: {count} days after your first purchase you both get {bonus}.",
            hold_days,
        ),
        name=invited_by or "—",
        bonus=bonus_text(bonus.amount, bonus.unit),
        count=hold_days,
    )


def join_welcome(joined: JoinResult) -> HTML:
    card = joined.card
    greeting = (
        _("Welcome to <b>{shop}</b>, {first_name}! Your stamp card is ready.")
        if joined.newly_joined
        else _("Welcome back to <b>{shop}</b>, {first_name}!")
    )
    return join_html(
        "\n\n",
        [
            html(greeting, shop=card.merchant_name, first_name=joined.first_name),
            *(
                [html(_("You will get reminders and offers again. Send /stop to turn them off."))]
                if joined.opted_in_again
                else []
            ),
            html(
                _("Show your code <code>{code}</code> when you pay: each purchase earns a stamp. {progress}"),
                code=format_code(card.personal_code),
                progress=progress_line(card),
            ),
            *([welcome_bonus_line(joined.welcome_bonus)] if joined.welcome_bonus else []),
            *(
                [referral_promise_line(joined.invited_by, joined.referral_bonus, joined.referral_hold_days)]
                if joined.referral_bonus
                else []
            ),
            html(_("Tap a button below, or send /help.")),
        ],
    )


def code_text(card: CardView) -> HTML:
    return join_html(
        "\n",
        [
            html(
                _("Your code at <b>{shop}</b>: <code>{code}</code>"),
                shop=card.merchant_name,
                code=format_code(card.personal_code),
            ),
            html(_("Show this QR code or tell the code to staff when you pay.")),
        ],
    )


def opted_out_text(shop: str | None) -> HTML:
    if shop is None:
        return html(_("You have not joined a shop yet. Open your shop's link or scan its QR code to join."))
    return html(
        _(
            "Done: no more reminders, surveys or offers from {shop}. You still get messages about your own purchases. "
            "Send /start to turn them back on."
        ),
        shop=shop,
    )


def comment_question(survey_id: int, low: bool) -> tuple[str, InlineKeyboardMarkup]:
    """After a rating: ask for a comment (with reasons to pick, after a low one)."""
    buttons = InlineKeyboardBuilder()
    if low:
        for reason, label in REASON_LABELS.items():
            buttons.button(text=_(label), callback_data=SurveyReason(survey_id=survey_id, reason=reason))
    buttons.button(text=_("No comment"), callback_data=SurveyAnswer(survey_id=survey_id, rating=0))
    buttons.adjust(2)
    if low:
        return _(
            "We are sorry it was not great. What went wrong? Your message goes straight to the team."
        ), buttons.as_markup()
    return _(
        "Thanks! Anything you would like to tell us? Send a message, or tap No comment."
    ), buttons.as_markup()


def reason_followup(survey_id: int) -> tuple[str, InlineKeyboardMarkup]:
    buttons = InlineKeyboardBuilder()
    buttons.button(text=_("No comment"), callback_data=SurveyAnswer(survey_id=survey_id, rating=0))
    return _(
        "Thank you. Anything else the team should know? Send a message, or tap No comment."
    ), buttons.as_markup()


def leave_question(preview: LeavePreview) -> Screen:
    what = join_html(
        " ",
        [
            html(ngettext("Your {count} stamp", "Your {count} stamps", preview.stamps), count=preview.stamps),
            html(
                ngettext("and {count} unused reward", "and {count} unused rewards", preview.open_rewards),
                count=preview.open_rewards,
            ),
        ],
    )
    text = html(
        _(
            "Leave <b>{shop}</b>? {what} there will be gone, and the shop will no longer see you as a member or message you. "
            "Other shops are not affected."
        ),
        shop=preview.merchant_name,
        what=what,
    )
    return confirm_or_cancel(
        text,
        DataAction(action=DataStep.LEAVE, merchant_id=preview.merchant_id).pack(),
        DataAction(action=DataStep.KEEP).pack(),
    )


def forget_question() -> Screen:
    text = html(
        _(
            "Erase your personal data? Your name, username, language, code and comments are removed, every card closes "
            "(stamps and rewards are gone) and shops no longer see you. The shops keep anonymous records of past purchases "
            "so their books add up. This cannot be undone."
        )
    )
    return confirm_or_cancel(
        text, DataAction(action=DataStep.FORGET).pack(), DataAction(action=DataStep.KEEP).pack()
    )


def receipt_claimed(claim: ReceiptClaim) -> HTML:
    """The customer opened a receipt's link first: the welcome if new to the shop, and the sale on
    the card (the card itself follows, as after any purchase)."""
    credited = html(
        _("🧾 Your receipt from <b>{shop}</b> is on your card."), shop=claim.joined.card.merchant_name
    )
    if not claim.joined.newly_joined:
        return credited
    return join_html("\n\n", [join_welcome(claim.joined), credited])


def whatsapp_link_offer(code: str, number: str) -> Screen:
    """The code a Telegram customer types on WhatsApp to carry the same card there too."""
    shown = format_code(code)
    text = html(
        _(
            "Your code to add WhatsApp: <code>{code}</code>\n\nSend <code>LINK {code}</code> to Kartu on WhatsApp "
            "within 10 minutes (the button below types it for you). Your cards and code will be there too; "
            "news keeps coming here."
        ),
        code=shown,
    )
    return Screen(text, (Action(_("💬 Open WhatsApp"), url=whatsapp_chat_link(number, "LINK " + shown)),))


def whatsapp_off() -> HTML:
    return html(_("This Kartu is not connected to WhatsApp."))


def with_missing_stamp(markup: InlineKeyboardMarkup | None, stamps: bool) -> InlineKeyboardMarkup | None:
    """/card's buttons, and 🧾 Missing a stamp? where the shop runs stamps."""
    if not stamps:
        return markup
    asking = InlineKeyboardButton(text=_("🧾 Missing a stamp?"), callback_data=MissingStamp().pack())
    return InlineKeyboardMarkup(inline_keyboard=[*(markup.inline_keyboard if markup else []), [asking]])


def missing_day_question(days: tuple[date, ...], locale: str) -> tuple[HTML, InlineKeyboardMarkup]:
    """Which visit is missing its stamp: today, yesterday, or a day of the week before."""
    builder = InlineKeyboardBuilder()
    for days_ago, day in enumerate(days):
        label = {0: _("Today"), 1: _("Yesterday")}.get(days_ago) or day_text(day, locale)
        builder.button(text=label, callback_data=MissingStamp(days_ago=days_ago))
    builder.adjust(2)
    return html(
        _("🧾 Which visit is missing its stamp? Staff check it against the receipt.")
    ), builder.as_markup()


def receipt_photo_question(day: date, locale: str) -> HTML:
    return html(
        _("Send a photo of the receipt of {day} (📎 → Photo). /cancel stops."), day=day_text(day, locale)
    )


def with_card_app(markup: InlineKeyboardMarkup | None, locale: str) -> InlineKeyboardMarkup | None:
    """/card's buttons, and 📱 Open my card where Kartu's Mini App pages are served."""
    page = PAGES.get("card")
    if not page:
        return markup
    opening = InlineKeyboardButton(
        text=_("📱 Open my card"),
        web_app=WebAppInfo(url=plain("{page}?lang={locale}", page=page, locale=locale)),
    )
    return InlineKeyboardMarkup(inline_keyboard=[*(markup.inline_keyboard if markup else []), [opening]])


def why_text(why: Why, locale: str) -> HTML:
    """**Why?**: the purchase a card's news told of, and all it changed, with the rule."""
    lines = [
        html(
            _("<b>Why your card changed</b>: a purchase at {shop} on {when}, confirmed by {who}.")
            if why.staff
            else _("<b>Why your card changed</b>: a purchase at {shop} on {when}, from the till."),
            shop=why.shop,
            when=plain(
                "{day} {time}",
                day=date_text(why.at, why.timezone, locale),
                time=time_text(why.at, why.timezone),
            ),
            who=why.staff or "",
        )
    ]
    for because in why.reasons:
        match because.reason:
            case Reason.STAMPS:
                line = html(
                    ngettext(
                        "• +{count} stamp: {per} for each purchase.",
                        "• +{count} stamps: {per} for each purchase.",
                        because.count,
                    ),
                    count=because.count,
                    per=why.stamps_per_purchase,
                )
            case Reason.POINTS:
                line = html(
                    _(
                        "• +{points} points on {amount} (1 point for every {per}; a level or membership may add more)."
                    ),
                    points=number_text(because.count),
                    amount=money_text(because.amount or 0),
                    per=money_text(why.rupiah_per_point),
                )
            case Reason.REWARD:
                line = html(
                    ngettext(
                        "• 🎁 {count} full card became a reward.",
                        "• 🎁 {count} full cards became rewards.",
                        because.count,
                    ),
                    count=because.count,
                )
            case Reason.SPIN:
                line = html(_("• 🎡 {count} spin of the wheel (/spin)."), count=because.count)
            case Reason.VOUCHER:
                line = html(_("• 🤝 {count} partner voucher."), count=because.count)
            case Reason.GIFT:
                line = html(
                    _("• 💚 The shop gave {amount} to its cause."), amount=money_text(because.amount or 0)
                )
            case Reason.REFUND:
                line = html(_("• ↩️ The purchase was refunded since: what it added came off."))
        lines.append(line)
    return join_html("\n", lines)
