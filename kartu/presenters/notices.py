"""Proactive messages rendered for the outbox dispatcher, in the recipient's language."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace

from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.bot.i18n import KartuI18n
from kartu.loyalty.codes import format_code
from kartu.loyalty.feedback import RATINGS
from kartu.presenters.bonuses import bonus_notice
from kartu.presenters.callbacks import BroadcastAction, BroadcastStep, SurveyAnswer, WhyChange
from kartu.presenters.causes import cause_done_notice
from kartu.presenters.customer import REASON_LABELS, card_caption, card_photo, points_text
from kartu.presenters.format import HTML, date_text, html, join_html, money_text, plain, stamps_text
from kartu.presenters.membership import membership_notice
from kartu.presenters.partners import (
    partner_news_notice,
    partner_offer_notice,
    partner_voucher_notice,
    settlement_notice,
)
from kartu.presenters.points import earned_line, points_adjusted_notice, points_reminder_notice, return_button
from kartu.presenters.tiers import invite_label, tier_notice
from kartu.presenters.wheel import spin_earned_notice, spin_result_notice
from kartu.services.broadcasts import BroadcastProgress
from kartu.services.delivery import (
    BackupAlertNotice,
    BonusNotice,
    BroadcastNotice,
    CardUpdateNotice,
    CauseDoneNotice,
    CodeLockNotice,
    KindsNotice,
    LowRatingAlertNotice,
    MembershipNotice,
    Notice,
    PartnerNewsNotice,
    PartnerOfferNotice,
    PartnerVoucherNotice,
    PointsAdjustedNotice,
    PointsReminderNotice,
    RefundNotice,
    RefundToldNotice,
    RewardIssuedNotice,
    RewardRedeemedNotice,
    RewardReminderNotice,
    SettlementNotice,
    SpinEarnedNotice,
    SpinResultNotice,
    StampReminderNotice,
    SurveyNotice,
    TierNotice,
    WebhookAlertNotice,
)


def rating_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for rating in RATINGS:
        builder.button(
            text=plain("{rating} ⭐", rating=rating),
            callback_data=SurveyAnswer(survey_id=survey_id, rating=rating),
        )
    builder.adjust(5)
    return builder.as_markup()


@dataclass(frozen=True)
class Rendered:
    text: HTML
    markup: InlineKeyboardMarkup | None = None
    photo: str | BufferedInputFile | None = None
    photo_key: Hashable | None = None  # a picture Kartu drew: sent by file_id once uploaded
    invites: tuple[tuple[int, str], ...] = ()  # groups to invite to: a one-person link each, as a button
    removals: tuple[int, ...] = ()  # groups to take the recipient out of before sending
    venue: tuple[float, float, str, str] | None = (
        None  # "How to get there" after the text: lat, lon, name, address
    )


def broadcast_text(shop: str, text: str) -> HTML:
    """A broadcast as customers get it: the shop's name, then the owner's words (as plain text)."""
    return join_html("\n", [html("📣 <b>{shop}</b>", shop=shop), *([text] if text.strip() else [])])


async def render_notice(i18n: KartuI18n, notice: Notice) -> Rendered:
    """Text, buttons and photo of one proactive message."""
    if isinstance(notice, BroadcastNotice):
        return Rendered(broadcast_text(notice.merchant_name, notice.text), None, notice.photo_file_id)
    if isinstance(notice, CardUpdateNotice):
        with i18n.context(), i18n.use_locale(notice.language):
            if not notice.card.runs_stamps:  # points only: the news is the points
                return Rendered(
                    join_html(
                        "\n",
                        [
                            earned_line(notice.points_added, notice.amount),
                            *gift_lines(notice.gift),
                            card_caption(notice.card, notice.language),
                        ],
                    ),
                    why_button(notice.news_id),
                )
            return await _card_update(notice)
    if isinstance(notice, PartnerVoucherNotice):
        with i18n.context(), i18n.use_locale(notice.language):
            venue = None
            if notice.location is not None:
                venue = (*notice.location, notice.to_shop, notice.address or notice.to_shop)
            return Rendered(partner_voucher_notice(notice), venue=venue)
    if isinstance(notice, TierNotice):
        with i18n.context(), i18n.use_locale(notice.language):
            invites = tuple((chat, invite_label(title)) for chat, title in notice.invites)
            return Rendered(tier_notice(notice), invites=invites, removals=notice.removals)
    text, markup = _render_text(i18n, notice)
    return Rendered(text, markup)


def gift_lines(gift: tuple[str, int] | None) -> list[HTML]:
    """``💚 This purchase gave Rp 10.000 to Rumah Kucing.``"""
    if gift is None:
        return []
    return [
        html(
            _("💚 This purchase gave {amount} to {cause}. Thank you! /cause"),
            amount=money_text(gift[1]),
            cause=gift[0],
        )
    ]


async def _card_update(notice: CardUpdateNotice) -> Rendered:
    """The card after a purchase. The purchase that fills it shows it full, all stamps in, with
    🎉; the reward code follows in its own message and the fresh card is on /card."""
    added = html(
        ngettext("✅ +{count} stamp!", "✅ +{count} stamps!", notice.stamps_added), count=notice.stamps_added
    )
    if notice.points_added or notice.amount:
        added = join_html("\n", [added, earned_line(notice.points_added, notice.amount)])
    added = join_html("\n", [added, *gift_lines(notice.gift)])
    if not notice.cards_filled:
        photo = await card_photo(notice.card)
        return Rendered(
            join_html("\n", [added, card_caption(notice.card, notice.language)]),
            why_button(notice.news_id),
            photo.file,
            photo.key,
        )
    full = replace(notice.card, stamps=notice.card.stamps_required)
    caption = join_html(
        "\n",
        [
            added,
            html(_("🎉 <b>{shop}</b>: your card is full!"), shop=notice.card.merchant_name),
            html(
                ngettext(
                    "Your reward code comes next.",
                    "Your {count} reward codes come next.",
                    notice.cards_filled,
                ),
                count=notice.cards_filled,
            ),
        ],
    )
    photo = await card_photo(full, celebrate=True)
    return Rendered(caption, why_button(notice.news_id), photo.file, photo.key)


def why_button(news_id: int | None) -> InlineKeyboardMarkup | None:
    """❓ Why? under a card's news: what the purchase changed, and by which rule."""
    if news_id is None:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("❓ Why?"), callback_data=WhyChange(news_id=news_id).pack())]
        ]
    )


def render_progress(i18n: KartuI18n, progress: BroadcastProgress) -> Rendered:
    """The owner's one message that follows a broadcast, then sums it up."""
    with i18n.context(), i18n.use_locale(progress.language):
        return progress_text(progress)


def progress_text(progress: BroadcastProgress) -> Rendered:
    """`render_progress` in the current locale (also the message a broadcast starts with)."""
    counts = html(
        _("sent {sent} · failed {failed} · remaining {remaining}"),
        sent=progress.sent,
        failed=progress.failed,
        remaining=progress.remaining,
    )
    if progress.finished and progress.was_cancelled:
        return Rendered(
            html(
                _("📣 Broadcast cancelled: {counts}; {cancelled} not sent."),
                counts=counts,
                cancelled=progress.cancelled,
            )
        )
    if progress.finished:
        return Rendered(html(_("📣 Broadcast finished: {counts}."), counts=counts))
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⏹ Cancel broadcast"),
        callback_data=BroadcastAction(action=BroadcastStep.STOP, broadcast_id=progress.broadcast_id),
    )
    return Rendered(html(_("📣 Broadcast sending: {counts}"), counts=counts), builder.as_markup())


def _render_text(i18n: KartuI18n, notice: Notice) -> tuple[HTML, InlineKeyboardMarkup | None]:
    with i18n.context(), i18n.use_locale(notice.language):
        match notice:
            case StampReminderNotice():
                missing = max(notice.stamps_required - notice.stamps, 0)
                return html(
                    ngettext(
                        "⏳ Your {stamps} stamp at <b>{shop}</b> expires on {date} — {missing} more for {reward}. Hope to see you soon!",
                        "⏳ Your {stamps} stamps at <b>{shop}</b> expire on {date} — {missing} more for {reward}. Hope to see you soon!",
                        notice.stamps,
                    ),
                    stamps=notice.stamps,
                    shop=notice.merchant_name,
                    date=date_text(notice.expires_at, notice.timezone, notice.language),
                    missing=missing,
                    reward=notice.reward_name,
                ), None
            case RewardReminderNotice():
                return html(
                    _(
                        "⏳ Your reward <b>{reward}</b> at {shop} expires on {date}. Show this code to staff: <code>{code}</code>"
                    ),
                    reward=notice.reward_name,
                    shop=notice.merchant_name,
                    date=date_text(notice.expires_at, notice.timezone, notice.language),
                    code=format_code(notice.code),
                ), None
            case RewardIssuedNotice() if (
                notice.reward.points_price is not None or not notice.reward.from_card
            ):
                reward = notice.reward
                return html(
                    _(
                        "🎁 Your reward: <b>{reward}</b>\nShow this code to staff: <code>{code}</code>\nValid until {date}."
                    ),
                    reward=reward.name,
                    code=format_code(reward.code),
                    date=date_text(reward.expires_at, reward.timezone, notice.language),
                ), (
                    return_button(reward.reward_id, reward.points_price)
                    if reward.returnable_until and reward.points_price is not None
                    else None
                )
            case BonusNotice():
                return bonus_notice(notice), None
            case CauseDoneNotice():
                return cause_done_notice(notice), None
            case PartnerOfferNotice():
                return partner_offer_notice(notice)
            case PartnerNewsNotice():
                return partner_news_notice(notice), None
            case SettlementNotice():
                return settlement_notice(notice), None
            case MembershipNotice():
                return membership_notice(notice), None
            case SpinEarnedNotice():
                return spin_earned_notice(notice)
            case SpinResultNotice():
                return spin_result_notice(notice), None
            case PointsAdjustedNotice():
                return points_adjusted_notice(
                    notice.merchant_name, notice.delta, notice.note, notice.balance
                ), None
            case RefundNotice():
                return refund_notice(notice), None
            case RefundToldNotice():
                return refund_told_notice(notice), None
            case KindsNotice():
                return kinds_notice(notice), None
            case BackupAlertNotice():
                return html(
                    _(
                        "⚠️ Kartu could not take today's backup: {reason}\nCheck the disk and KARTU_BACKUP_DIR, then run <code>kartu backup</code>."
                    ),
                    reason=notice.reason,
                ), None
            case WebhookAlertNotice():
                return html(
                    _(
                        "⚠️ Kartu paused the webhook to {url}: it has failed for a day. Fix it, then resume it in /webhooks."
                    )
                    if notice.state == "paused"
                    else _(
                        "⚠️ Events for the webhook to {url} failed for three days and were given up. See /webhooks."
                    ),
                    url=notice.url,
                ), None
            case PointsReminderNotice():
                return points_reminder_notice(
                    notice.merchant_name, notice.lapsing, notice.timezone, notice.language
                )
            case RewardIssuedNotice():
                reward = notice.reward
                return html(
                    _(
                        "🎁 Your reward: <b>{reward}</b>\nShow this code to staff: <code>{code}</code>\nValid until {date}. Your next card has started."
                    ),
                    reward=reward.name,
                    code=format_code(reward.code),
                    date=date_text(reward.expires_at, reward.timezone, notice.language),
                ), None
            case RewardRedeemedNotice():
                return html(
                    _("🎁 Enjoy your <b>{reward}</b> at {shop}! Thanks for coming back."),
                    reward=notice.reward_name,
                    shop=notice.merchant_name,
                ), None
            case CodeLockNotice():
                return html(
                    _(
                        "🔒 {first_name} typed {misses} unknown codes in a row at {shop}, so code entry is locked for them. "
                        "If that was not a mistake, someone may be guessing codes. Open /staff to unlock."
                    ),
                    first_name=notice.staff_first_name,
                    misses=notice.misses,
                    shop=notice.merchant_name,
                ), None
            case SurveyNotice():
                return html(
                    _("How was your visit to <b>{shop}</b>? Tap a rating."), shop=notice.merchant_name
                ), rating_keyboard(notice.survey_id)
            case LowRatingAlertNotice():
                history = (
                    plain(
                        ngettext(
                            "{visits} visit since {date}", "{visits} visits since {date}", notice.visits
                        ),
                        visits=notice.visits,
                        date=date_text(notice.first_visit, notice.timezone, notice.language),
                    )
                    if notice.first_visit
                    else _("no visits recorded")
                )
                comment = notice.comment or _("(no comment)")
                if notice.reason in REASON_LABELS:
                    comment = plain(
                        "{reason} — {comment}", reason=_(REASON_LABELS[notice.reason]), comment=comment
                    )
                return html(
                    _(
                        "⚠️ <b>{first_name}</b> rated their visit to {shop} {rating}/5.\nHistory: {history}.\nComment: {comment}\nPlease make it right."
                    ),
                    first_name=notice.customer_first_name,
                    shop=notice.merchant_name,
                    rating=notice.rating,
                    history=history,
                    comment=comment,
                ), None
    raise TypeError(f"no renderer for {notice!r}")


def refund_notice(notice: RefundNotice) -> HTML:
    """A refunded purchase: what came off the card, then the card as it is now."""
    taken = [stamps_text(notice.stamps)] if notice.stamps else []
    if notice.points:
        taken.append(points_text(notice.points))
    lines = [
        html(
            _("↩️ <b>{shop}</b> refunded a purchase: {taken} came off your card."),
            shop=notice.merchant_name,
            taken=join_html(", ", taken),
        )
        if taken
        else html(_("↩️ <b>{shop}</b> refunded a purchase."), shop=notice.merchant_name)
    ]
    if notice.rewards:
        lines.append(
            html(
                ngettext(
                    "The reward it earned is no longer valid.",
                    "The {count} rewards it earned are no longer valid.",
                    notice.rewards,
                ),
                count=notice.rewards,
            )
        )
    if notice.spins:
        lines.append(html(_("The spin of the wheel it earned is gone.")))
    lines += [HTML(""), card_caption(notice.card, notice.language)]
    return join_html("\n", lines)


def refund_told_notice(notice: RefundToldNotice) -> HTML:
    """To an owner: a refund, and everything it took back from the customer's card."""
    taken = [stamps_text(notice.stamps)] if notice.stamps else []
    if notice.points:
        taken.append(points_text(notice.points))
    if notice.codes:
        taken.append(
            html(
                ngettext("reward {codes}", "rewards {codes}", len(notice.codes)),
                codes=join_html(
                    ", ", [html("<code>{code}</code>", code=format_code(code)) for code in notice.codes]
                ),
            )
        )
    if notice.spins:
        taken.append(html(_("a spin of the wheel")))
    if notice.cause:
        taken.append(html(_("{amount} given to the cause"), amount=money_text(notice.cause)))
    lines = [
        html(
            _("↩️ A purchase of {customer} at <b>{shop}</b> was refunded."),
            customer=notice.customer,
            shop=notice.merchant_name,
        )
    ]
    if taken:
        lines.append(html(_("Taken back: {taken}."), taken=join_html("; ", taken)))
    if notice.level is not None:
        lines.append(
            html(_("Their level went back to <b>{level}</b>."), level=notice.level)
            if notice.level
            else html(_("The level it had reached was taken back."))
        )
    return join_html("\n", lines)


def kinds_notice(notice: KindsNotice) -> HTML:
    """The shop stopped running what the customer holds: what became of it, then their card."""
    shop = notice.merchant_name
    match notice.what:
        case "converted":
            line = html(
                _(
                    "🔄 <b>{shop}</b> now gives points on what you spend: your {stamps} became {points}. See /rewards."
                ),
                shop=shop,
                stamps=stamps_text(notice.held),
                points=points_text(notice.held * notice.rate),
            )
        case "stamps_kept":
            line = html(
                _(
                    "🔄 <b>{shop}</b> now gives points on what you spend. Your {stamps} stay on your card: each purchase still adds a stamp until it is full."
                ),
                shop=shop,
                stamps=stamps_text(notice.held),
            )
        case _:
            line = html(
                _(
                    "🔄 <b>{shop}</b> now runs a stamp card. Your {points} stay usable in /rewards until they lapse."
                ),
                shop=shop,
                points=points_text(notice.held),
            )
    return join_html("\n", [line, HTML(""), card_caption(notice.card, notice.language)])
