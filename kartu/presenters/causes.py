"""What giving to a cause looks like: the progress picture and its caption for customers, the owner's
/causes screen, a gift before and after its Confirm, and the message to those who gave."""

from __future__ import annotations

import asyncio
from datetime import date

from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date

from kartu.loyalty.causes import Asset, share
from kartu.media.cause_image import CausePicture, render_cause
from kartu.presenters.callbacks import (
    CauseAction,
    CauseStep,
    Decision,
    GiftDecision,
    GiveAction,
    GiveStep,
)
from kartu.presenters.common import confirm_cancel
from kartu.presenters.customer import points_text
from kartu.presenters.format import HTML, N_, date_text, html, join_html, money_text, plain, stamps_text
from kartu.presenters.guided import Guided, Step
from kartu.services.causes import CauseView, CustomerCause, GiftResult, OfferView, OwnerCause
from kartu.services.delivery import CauseDoneNotice


async def cause_photo(view: CauseView) -> BufferedInputFile:
    picture = CausePicture(
        name=view.name,
        shop_line=plain(_("{shop} gives"), shop=view.merchant_name),
        share=share(view.raised, view.target),
        amounts_line=plain(
            _("{raised} of {target}"), raised=money_text(view.raised), target=money_text(view.target)
        ),
        people_line=plain(
            join_plain(
                ngettext("{count} giver", "{count} givers", view.givers),
                ngettext("{days} day left", "{days} days left", view.days_left),
            ),
            count=view.givers,
            days=view.days_left,
        ),
    )
    png = await asyncio.to_thread(render_cause, picture)
    return BufferedInputFile(png, filename="cause.png")


def join_plain(*templates: str) -> str:
    return " · ".join(templates)


def _ways(view: CauseView) -> list[HTML]:
    """How the cause grows: the shop's share of purchases, and what customers' gifts are worth."""
    rules, lines = view.rules, []
    if rules.give and rules.per:
        lines.append(
            html(
                _("🛒 {shop} gives {give} for every {per} you spend."),
                shop=view.merchant_name,
                give=money_text(rules.give),
                per=money_text(rules.per),
            )
        )
    values = [
        (rules.point_value, _("⭐ a point")),
        (rules.stamp_value, _("🎟 a stamp")),
        (rules.reward_value, _("🎁 an unused reward")),
    ]
    for value, label in values:
        if value:
            lines.append(html(_("{what} you give is worth {value}."), what=label, value=money_text(value)))
    return lines


def customer_cause_text(view: CustomerCause, locale: str) -> tuple[HTML, InlineKeyboardMarkup | None]:
    cause = view.cause
    lines = [html("💚 <b>{name}</b>", name=cause.name)]
    if cause.description:
        lines.append(html("{text}", text=cause.description))
    lines += _ways(cause)
    lines.append(
        html(
            _("Until {date}. You gave {mine}."),
            date=date_text(cause.last_day, cause.timezone, locale),
            mine=money_text(view.mine),
        )
    )
    builder = InlineKeyboardBuilder()
    rules = cause.rules
    if rules.point_value and view.points > 0:
        builder.button(text=_("⭐ Give points"), callback_data=GiveAction(asset=GiveStep.POINTS))
    if rules.stamp_value and view.stamps > 0:
        builder.button(text=_("🎟 Give stamps"), callback_data=GiveAction(asset=GiveStep.STAMPS))
    if rules.reward_value and view.rewards:
        builder.button(text=_("🎁 Give a reward"), callback_data=GiveAction(asset=GiveStep.REWARDS))
    builder.adjust(1)
    markup = builder.as_markup() if builder.buttons else None
    return join_html("\n", lines), markup


def rewards_to_give(view: CustomerCause) -> tuple[HTML, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for reward_id, name in view.rewards:
        builder.button(text=name, callback_data=GiveAction(asset=GiveStep.REWARDS, reward_id=reward_id))
    builder.adjust(1)
    return html(
        _("Which reward do you give? Each is worth {value} to {cause}."),
        value=money_text(view.cause.rules.reward_value),
        cause=view.cause.name,
    ), builder.as_markup()


def units_question(view: CustomerCause, asset: str) -> HTML:
    if asset == Asset.POINTS:
        return html(
            _("How many points do you give? You have {held}; each is worth {value}."),
            held=view.points,
            value=money_text(view.cause.rules.point_value),
        )
    return html(
        _("How many stamps do you give? You have {held}; each is worth {value}."),
        held=view.stamps,
        value=money_text(view.cause.rules.stamp_value),
    )


def _what(asset: str, units: int, reward_name: str | None) -> HTML:
    if asset == Asset.POINTS:
        return points_text(units)
    if asset == Asset.STAMPS:
        return stamps_text(units)
    return html("{name}", name=reward_name or "")


def offer_text(offer: OfferView) -> tuple[HTML, InlineKeyboardMarkup]:
    return html(
        _("Give {what} to <b>{cause}</b>? That is {value}. It cannot be taken back."),
        what=_what(offer.asset, offer.units, offer.reward_name),
        cause=offer.cause_name,
        value=money_text(offer.rupiah),
    ), confirm_cancel(
        GiftDecision(action=Decision.CONFIRM, token=offer.token).pack(),
        GiftDecision(action=Decision.CANCEL, token=offer.token).pack(),
    )


def gift_text(result: GiftResult) -> HTML:
    return html(
        _("💚 Thank you! {value} for <b>{cause}</b>: {raised} of {target} raised so far."),
        value=money_text(result.rupiah),
        cause=result.cause.name,
        raised=money_text(result.cause.raised),
        target=money_text(result.cause.target),
    )


def cause_done_notice(notice: CauseDoneNotice) -> HTML:
    if notice.reached:
        template = _(
            "🎉 <b>{cause}</b> reached its target: {raised} raised with <b>{shop}</b>. You gave {mine}. Thank you!"
        )
    else:
        template = _(
            "💚 <b>{cause}</b> has ended: {raised} raised with <b>{shop}</b> of {target}. You gave {mine}. Thank you!"
        )
    return html(
        template,
        cause=notice.cause_name,
        raised=money_text(notice.raised),
        target=money_text(notice.target),
        shop=notice.merchant_name,
        mine=money_text(notice.mine),
    )


# --- owners --------------------------------------------------------------------------------------

OWNER_BUTTONS = (
    (CauseStep.DESCRIPTION, N_("✏️ Description")),
    (CauseStep.MATCH, N_("🛒 Shop's gift")),
    (CauseStep.POINT_VALUE, N_("⭐ Point value")),
    (CauseStep.STAMP_VALUE, N_("🎟 Stamp value")),
    (CauseStep.REWARD_VALUE, N_("🎁 Reward value")),
    (CauseStep.PAYOUT, N_("💸 Record a payout")),
    (CauseStep.END, N_("⏹ End now")),
)


def owner_cause_text(view: OwnerCause, locale: str) -> tuple[HTML, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    cause = view.cause
    if cause is None:
        builder.button(text=_("➕ Start a cause"), callback_data=CauseAction(action=CauseStep.START))
        text = html(
            _(
                "No cause is running. Start one: for every purchase your shop gives to it, and customers may give their points, stamps or rewards."
            )
        )
        if view.past:
            text = join_html(
                "\n", [text, html(_("Causes that ended: {count}. See /stats and /export."), count=view.past)]
            )
        return text, builder.as_markup()
    lines = [
        html("💚 <b>{name}</b>", name=cause.name),
        html(
            _("Raised (pledged): {raised} of {target} from {givers} people · paid to the cause: {paid}"),
            raised=money_text(cause.raised),
            target=money_text(cause.target),
            givers=cause.givers,
            paid=money_text(view.paid),
        ),
        html(
            _("Until {date} ({days} days left)."),
            date=date_text(cause.last_day, cause.timezone, locale),
            days=cause.days_left,
        ),
    ]
    if cause.description:
        lines.append(html("{text}", text=cause.description))
    ways = _ways(cause)
    lines += ways or [
        html(_("Nothing gives to it yet: set the shop's gift or what customers' gifts are worth."))
    ]
    for step, label in OWNER_BUTTONS:
        builder.button(text=_(label), callback_data=CauseAction(action=step))
    builder.adjust(1, 2, 2, 1, 1)
    return join_html("\n", lines), builder.as_markup()


def cause_question(step: CauseStep) -> HTML:
    match step:
        case CauseStep.DESCRIPTION:
            return html(
                _("Send a short description customers will read (up to 400 characters), or - for none.")
            )
        case CauseStep.MATCH:
            return html(
                _(
                    "What does the shop give? Like 10.000 per 100.000 (Rp 10.000 for every Rp 100.000 spent), or - for nothing."
                )
            )
        case CauseStep.POINT_VALUE | CauseStep.STAMP_VALUE | CauseStep.REWARD_VALUE:
            return html(_("How many rupiah is one worth to the cause? Like 100, or - to not accept them."))
    return html(_("Send the new value."))


CAUSE_FORM = Guided(
    N_("💚 New cause"),
    (
        Step("name", N_("Name"), N_("What is the cause called? Like Rumah Kucing (up to 48 characters).")),
        Step("target", N_("Target"), N_("How much should it raise, in rupiah? Like 5.000.000 or 5jt.")),
        Step("last_day", N_("Last day"), N_("Its last day? Like 31-12-2026 (within three years).")),
    ),
)
PAYOUT_FORM = Guided(
    N_("💸 A payout to the cause"),
    (
        Step("amount", N_("Amount"), N_("How much did you pass on to the cause? Like 500.000.")),
        Step("day", N_("Day"), N_("On which day? Like 24-11-2026, or Skip for today."), optional=True),
        Step("note", N_("Note"), N_("A note for your books? Like transfer BCA, or Skip."), optional=True),
    ),
)


def cause_field_text(value: object, locale: str) -> str:
    """How a guided form's summary shows one answer about a cause."""
    if isinstance(value, bool) or value is None:
        return _("—")
    if isinstance(value, int):
        return money_text(value)
    if isinstance(value, date):
        return format_date(value, format="d MMM yyyy", locale=locale)
    return str(value) or _("—")


def end_question(view: OwnerCause) -> tuple[HTML, InlineKeyboardMarkup]:
    name = view.cause.name if view.cause else ""
    return html(
        _("End <b>{name}</b> now? Everyone who gave is told what it raised."), name=name
    ), confirm_cancel(
        CauseAction(action=CauseStep.END_CONFIRMED).pack(),
        CauseAction(action=CauseStep.SHOW).pack(),
    )
