"""Paid membership in Telegram Stars: /member (see it, join with a Stars invoice, cancel the
renewal), the pre-checkout check and the successful payment, /membership and /refund for owners,
/paysupport for everyone."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, LabeledPrice, Message, PreCheckoutQuery, User
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import best_effort
from kartu.handlers.filters import OnLoop
from kartu.handlers.guided import Screen, Spec, open_form, register
from kartu.loyalty.errors import PaymentMismatch
from kartu.loyalty.membership import CURRENCY, PERIOD, parse_offer_multiplier, parse_offer_name, parse_stars
from kartu.presenters.callbacks import MemberAction, MemberStep
from kartu.presenters.format import date_text, html
from kartu.presenters.guided import Guided
from kartu.presenters.membership import (
    cancel_question,
    member_text,
    offer_field_text,
    offer_form,
    owner_membership_text,
    paid_text,
    pay_button,
    pay_support,
)
from kartu.services.container import Services
from kartu.services.membership import StarsPayment

if TYPE_CHECKING:
    from kartu.scheduler.dispatcher import OutboxDispatcher

log = logging.getLogger(__name__)


async def show_member(message: Message, event_from_user: User, services: Services, i18n: KartuI18n) -> None:
    text, markup = member_text(
        await services.membership.for_customer(event_from_user.id), i18n.current_locale
    )
    await message.answer(text, reply_markup=markup)


async def member_action(
    query: CallbackQuery,
    callback_data: MemberAction,
    services: Services,
    state: FSMContext,
    bot: Bot,
    i18n: KartuI18n,
) -> None:
    user, step = query.from_user.id, callback_data.action
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    screen = query.message
    match step:
        case MemberStep.JOIN:
            invoice = await services.membership.invoice(user)
            try:
                link = await bot.create_invoice_link(
                    title=invoice.title,
                    description=invoice.description,
                    payload=invoice.payload,
                    currency=CURRENCY,
                    prices=[LabeledPrice(label=invoice.title, amount=invoice.stars)],
                    subscription_period=int(PERIOD.total_seconds()),
                )
            except TelegramAPIError as error:
                log.warning("could not make a Stars invoice for %s: %s", user, error)
                await query.answer(
                    _("Payments are not available right now. Please try again later."), show_alert=True
                )
                return
            await query.answer()
            text, button = pay_button(link, invoice.stars)
            await screen.answer(text, reply_markup=button)
        case MemberStep.CANCEL:
            until = (await services.membership.cancel(user))[1]
            view = await services.membership.for_customer(user)
            text, question = cancel_question(date_text(until, view.timezone, i18n.current_locale))
            await query.answer()
            await best_effort(screen.edit_text(text, reply_markup=question))
        case MemberStep.CANCEL_CONFIRMED:
            charge_id = (await services.membership.cancel(user))[0]
            try:
                await bot.edit_user_star_subscription(
                    user_id=user, telegram_payment_charge_id=charge_id, is_canceled=True
                )
            except TelegramAPIError as error:
                log.warning("could not cancel the subscription of %s: %s", user, error)
                await query.answer(_("That did not work. Please try again later."), show_alert=True)
                return
            await services.membership.cancelled(user)
            await query.answer(_("Cancelled. You stay a member to the end of the period."))
            text, markup = member_text(await services.membership.for_customer(user), i18n.current_locale)
            await best_effort(screen.edit_text(text, reply_markup=markup))
        case MemberStep.SHOW:
            text, markup = member_text(await services.membership.for_customer(user), i18n.current_locale)
            await query.answer()
            await best_effort(screen.edit_text(text, reply_markup=markup))
        case MemberStep.SET:
            await open_form(query, state, services, "offer")
        case MemberStep.WITHDRAW:
            text, markup = owner_membership_text(await services.membership.withdraw(user))
            await query.answer()
            await best_effort(screen.edit_text(text, reply_markup=markup))


async def check_checkout(query: PreCheckoutQuery, services: Services) -> None:
    """Answered within Telegram's 10 seconds: the offer the invoice named must still stand."""
    ok = await services.membership.check_checkout(
        query.from_user.id, query.invoice_payload, query.currency, query.total_amount
    )
    if ok:
        await query.answer(ok=True)
    else:
        await query.answer(
            ok=False, error_message=_("This offer has changed or ended. Please open /member again.")
        )


async def payment_done(
    message: Message,
    event_from_user: User,
    services: Services,
    i18n: KartuI18n,
    courier: OutboxDispatcher,
    bot: Bot,
) -> None:
    payment = message.successful_payment
    assert payment is not None
    ends = payment.subscription_expiration_date  # Unix time, as Telegram sends it
    recurring = payment.is_recurring
    try:
        paid = await services.membership.record_payment(
            event_from_user.id,
            StarsPayment(
                payment.invoice_payload,
                payment.currency,
                payment.total_amount,
                payment.telegram_payment_charge_id,
                datetime.fromtimestamp(ends, UTC) if isinstance(ends, int) else ends,
                renewal=bool(recurring and not payment.is_first_recurring) if recurring is not None else None,
                first_of_subscription=bool(payment.is_first_recurring),
            ),
        )
    except PaymentMismatch:
        # Paid, but not what the offer costs: nothing is granted and the Stars go back.
        log.warning("refunding %s: the payment does not match its offer", payment.telegram_payment_charge_id)
        try:
            await bot.refund_star_payment(
                user_id=event_from_user.id, telegram_payment_charge_id=payment.telegram_payment_charge_id
            )
        except TelegramAPIError as error:
            log.error("could not refund %s: %s", payment.telegram_payment_charge_id, error)
        await message.answer(
            _("This payment did not match the offer, so nothing was changed and your Stars were refunded.")
        )
        return
    await message.answer(paid_text(paid, i18n.current_locale))
    await courier.deliver_now(paid.news)


async def show_membership(
    message: Message, event_from_user: User, services: Services, state: FSMContext
) -> None:
    await state.clear()
    text, markup = owner_membership_text(await services.membership.overview(event_from_user.id))
    await message.answer(text, reply_markup=markup)


async def _offer_form(services: Services, owner: int, subject: int) -> Guided:
    return offer_form(await services.membership.offer_form(owner))


async def _offer_check(
    services: Services, owner: int, field: str, text: str, answers: Mapping[str, str], subject: int
) -> tuple[str, str]:
    value = await services.membership.check_offer_field(owner, field, text)
    return (str(value) if field == "item" and value else text), offer_field_text(field, value)


async def _offer_save(services: Services, owner: int, answers: Mapping[str, str], subject: int) -> Screen:
    view = await services.membership.offer(
        owner,
        parse_offer_name(answers["name"]),
        parse_stars(answers["stars"]),
        parse_offer_multiplier(answers.get("multiplier")),
        answers.get("item") or None,
    )
    return owner_membership_text(view)


async def _membership_screen(services: Services, owner: int, subject: int) -> Screen:
    return owner_membership_text(await services.membership.overview(owner))


register("offer", Spec(_offer_form, _offer_check, _offer_save, _membership_screen))


async def refund(
    message: Message, command: CommandObject, event_from_user: User, services: Services, bot: Bot
) -> None:
    if not command.args:
        await message.answer(_("Send it like this: /refund CODE (the member's personal code)."))
        return
    user_id, charge_id = await services.membership.refund(event_from_user.id, command.args)
    try:
        await bot.refund_star_payment(user_id=user_id, telegram_payment_charge_id=charge_id)
    except TelegramAPIError as error:
        log.warning("could not refund %s: %s", charge_id, error)
        await message.answer(
            _("Telegram did not make the refund. Nothing was changed; please try again later.")
        )
        return
    name = await services.membership.refunded(event_from_user.id, charge_id)
    await message.answer(html(_("Refunded {name}'s last payment. Their perks have stopped."), name=name))


async def paysupport(message: Message, event_from_user: User, services: Services) -> None:
    await message.answer(pay_support(await services.membership.shop_name(event_from_user.id) or "Kartu"))


def router() -> Router:
    membership = Router(name="membership")
    membership.message.register(show_member, Command("member"))
    membership.message.register(show_membership, Command("membership"))
    membership.message.register(refund, Command("refund"))
    membership.message.register(paysupport, Command("paysupport"))
    membership.callback_query.register(member_action, MemberAction.filter())
    membership.pre_checkout_query.register(check_checkout)
    membership.message.register(payment_done, OnLoop(F.successful_payment))
    return membership
