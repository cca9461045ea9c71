"""What paid membership looks like: /member for customers (the offer, their period, join or cancel
the renewal), /membership for owners, the payment's welcome, reminders and /paysupport."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.loyalty.points import PERMILLE
from kartu.presenters.callbacks import MemberAction, MemberStep
from kartu.presenters.common import confirm_cancel
from kartu.presenters.format import HTML, N_, date_text, html, join_html, multiplier_text, plain
from kartu.presenters.guided import Guided, Step
from kartu.services.delivery import MembershipNotice
from kartu.services.membership import MemberView, OfferForm, OfferView, OwnerMembership, Paid


def _perks(offer: OfferView) -> list[HTML]:
    lines = [
        html(_("⭐ {stars} Stars every 30 days, renewed by Telegram until you cancel."), stars=offer.stars)
    ]
    if offer.multiplier_permille > PERMILLE:
        lines.append(
            html(
                _("• {multiplier}× points on every purchase"),
                multiplier=multiplier_text(offer.multiplier_permille),
            )
        )
    if offer.item_name:
        lines.append(html(_("• a free {item} every period"), item=offer.item_name))
    return lines


def member_text(view: MemberView, locale: str) -> tuple[HTML, InlineKeyboardMarkup | None]:
    offer = view.offer
    builder = InlineKeyboardBuilder()
    if view.member_until is not None:
        lines = [
            html(
                _("💎 You are a member until {date}."),
                date=date_text(view.member_until, view.timezone, locale),
            )
        ]
        if view.renews:
            lines.append(
                html(_("It renews by itself. Cancel any time: the perks last to the end of the period."))
            )
            builder.button(text=_("Cancel the renewal"), callback_data=MemberAction(action=MemberStep.CANCEL))
        else:
            lines.append(html(_("It will not renew.")))
        if offer is not None:
            lines = [
                html("💎 <b>{name}</b> — {shop}", name=offer.name, shop=offer.merchant_name),
                *lines,
                *_perks(offer)[1:],
            ]
        return join_html("\n", lines), builder.as_markup() if view.renews else None
    if offer is None:
        return html(_("This shop offers no paid membership.")), None
    builder.button(
        text=plain(_("💎 Join for {stars} ⭐"), stars=offer.stars),
        callback_data=MemberAction(action=MemberStep.JOIN),
    )
    lines = [html("💎 <b>{name}</b> — {shop}", name=offer.name, shop=offer.merchant_name), *_perks(offer)]
    lines.append(html(_("Payments and refunds: /paysupport")))
    return join_html("\n", lines), builder.as_markup()


def pay_button(link: str, stars: int) -> tuple[HTML, InlineKeyboardMarkup]:
    button = InlineKeyboardButton(text=plain(_("⭐ Pay {stars} Stars"), stars=stars), url=link)
    return html(
        _("Tap to pay in Telegram Stars. Your membership starts as soon as the payment is done.")
    ), InlineKeyboardMarkup(inline_keyboard=[[button]])


def cancel_question(until_text: str) -> tuple[HTML, InlineKeyboardMarkup]:
    return html(_("Cancel the renewal? You stay a member until {date}."), date=until_text), confirm_cancel(
        MemberAction(action=MemberStep.CANCEL_CONFIRMED).pack(), MemberAction(action=MemberStep.SHOW).pack()
    )


def paid_text(paid: Paid, locale: str) -> HTML:
    date = date_text(paid.until, paid.timezone, locale)
    if paid.renewal:
        return html(
            _("💎 Your <b>{name}</b> membership at <b>{shop}</b> renewed: until {date}."),
            name=paid.name,
            shop=paid.merchant_name,
            date=date,
        )
    return html(
        _("💎 Welcome to <b>{name}</b> at <b>{shop}</b>! Your perks last until {date}."),
        name=paid.name,
        shop=paid.merchant_name,
        date=date,
    )


def membership_notice(notice: MembershipNotice) -> HTML:
    date = date_text(notice.until, notice.timezone, notice.language)
    if notice.ending:
        return html(
            _(
                "💎 Your <b>{name}</b> membership at <b>{shop}</b> ends on {date}. Join again any time with /member."
            ),
            name=notice.name,
            shop=notice.merchant_name,
            date=date,
        )
    if notice.refunded:
        return html(
            _("Your <b>{name}</b> payment at <b>{shop}</b> was refunded; the perks have stopped."),
            name=notice.name,
            shop=notice.merchant_name,
        )
    return html(
        _("Your <b>{name}</b> membership at <b>{shop}</b> has ended. Join again any time with /member."),
        name=notice.name,
        shop=notice.merchant_name,
    )


def owner_membership_text(view: OwnerMembership) -> tuple[HTML, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✏️ Set the offer"), callback_data=MemberAction(action=MemberStep.SET))
    if view.offer is None:
        text = html(
            _(
                "No paid membership is offered. Set one: a name, Stars per 30 days, a points multiplier and a free reward each period."
            )
        )
        return text, builder.as_markup()
    builder.button(text=_("⏹ Stop offering it"), callback_data=MemberAction(action=MemberStep.WITHDRAW))
    builder.adjust(1)
    lines = [
        html("💎 <b>{name}</b>", name=view.offer.name),
        *_perks(view.offer),
        html(
            _("Members now: {members}. Stars this month: {stars}."),
            members=view.members,
            stars=view.stars_this_month,
        ),
        html(_("To refund a member's last payment: /refund CODE.")),
    ]
    return join_html("\n", lines), builder.as_markup()


def offer_form(form: OfferForm) -> Guided:
    """The membership offer's form: a name, Stars per 30 days, a points multiplier (where the shop
    runs points), a free reward each period (from the catalogue, may be left out)."""
    return Guided(
        N_("💎 Paid membership"),
        (
            Step(
                "name", N_("Name"), N_("What is the membership called? Like Gold Club (up to 32 characters).")
            ),
            Step(
                "stars",
                N_("Stars per 30 days"),
                N_("How many Telegram Stars every 30 days? From 1 to 10.000, like 100."),
            ),
            Step(
                "multiplier",
                N_("Points for members"),
                N_("Members earn how many times the points? Like 1,5, or Skip for the usual."),
                optional=True,
                when=lambda _answers: form.runs_points,
            ),
            Step(
                "item",
                N_("Free reward each period"),
                N_("A reward of your catalogue each period? Tap it or send its name, or Skip."),
                tuple((name, name) for name in form.items[:8]),
                optional=True,
                when=lambda _answers: bool(form.items),
            ),
        ),
    )


def offer_field_text(field: str, value: object) -> str:
    match field:
        case "stars":
            return plain(_("{stars} Stars"), stars=int(str(value)))
        case "multiplier":
            return plain("{multiplier}×", multiplier=multiplier_text(int(str(value))))
    return str(value) if value else _("—")


def pay_support(shop: str) -> HTML:
    return html(
        _(
            "<b>Payments at {shop}</b>\nMemberships are paid in Telegram Stars, every 30 days until you cancel (/member → Cancel the renewal). For a problem with a payment or to ask for a refund, ask at the counter or contact the shop's owner: refunds are made in Stars by the shop (Telegram's own support cannot make them)."
        ),
        shop=shop,
    )
