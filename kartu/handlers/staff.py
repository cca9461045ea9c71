"""Staff at the counter: stamp purchases and redeem rewards, each behind a Confirm button.

One handler per button action (aiogram's ``CallbackData.filter(F.action == ...)``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from kartu.bot.miniapp import read_scan
from kartu.handlers.common import best_effort
from kartu.handlers.filters import MenuButton, OnLoop
from kartu.handlers.menus import publish_menu
from kartu.handlers.states import AmountForm
from kartu.loyalty.codes import normalize_code
from kartu.loyalty.errors import AmountNeeded
from kartu.loyalty.numbers import split_stamp_arguments
from kartu.presenters.callbacks import ClaimAction, Decision, PurchaseAction, RedeemAction, ShopChoice
from kartu.presenters.format import plain
from kartu.presenters.menus import MENU_DUTY, MENU_SHOP
from kartu.presenters.points import amount_question, sale_prompt_text
from kartu.presenters.staff import (
    claim_decided,
    duty_text,
    missing_stamp_refused,
    prompt_text,
    purchase_confirmed,
    redeem_confirmed,
    shops_text,
)
from kartu.services.container import Services
from kartu.services.counter import PURCHASE, REDEEM, PurchasePromptView, RedeemPromptView, SalePromptView

if TYPE_CHECKING:  # the courier is built with the app; imported for types only
    from kartu.scheduler.dispatcher import OutboxDispatcher

log = logging.getLogger(__name__)


async def show_prompt(
    message: Message, prompt: PurchasePromptView | RedeemPromptView | SalePromptView, i18n: KartuI18n
) -> None:
    if isinstance(prompt, SalePromptView):
        text, markup = sale_prompt_text(prompt, i18n.current_locale)
    else:
        text, markup = prompt_text(prompt, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def ask_amount(message: Message, state: FSMContext, needed: AmountNeeded) -> None:
    """The code is known; the amount comes next (kept with the code in the staff member's form)."""
    await state.set_state(AmountForm.amount)
    await state.set_data({"code": needed.code})
    await message.answer(amount_question(needed.customer_first_name))


async def show_or_ask(
    message: Message,
    opening: Awaitable[PurchasePromptView | RedeemPromptView],
    i18n: KartuI18n,
    state: FSMContext,
) -> None:
    """The prompt a code opens, or, in a shop running points, the question how much was spent."""
    try:
        prompt = await opening
    except AmountNeeded as needed:
        await ask_amount(message, state, needed)
        return
    await show_prompt(message, prompt, i18n)


async def stamp_command(
    message: Message,
    command: CommandObject,
    event_from_user: User,
    services: Services,
    i18n: KartuI18n,
    state: FSMContext,
) -> None:
    parts = (command.args or "").split()
    if not parts:
        await message.answer(_("Send it like this: /stamp CODE or /stamp CODE 2 for two purchases."))
        return
    code, count = split_stamp_arguments(parts)
    await show_or_ask(message, services.counter.open_purchase(event_from_user.id, code, count), i18n, state)


async def redeem_command(
    message: Message, command: CommandObject, event_from_user: User, services: Services, i18n: KartuI18n
) -> None:
    if not command.args:
        await message.answer(_("Send it like this: /redeem REWARD-CODE"))
        return
    await show_prompt(message, await services.counter.open_redeem(event_from_user.id, command.args), i18n)


async def bare_code(
    message: Message, event_from_user: User, services: Services, i18n: KartuI18n, state: FSMContext
) -> None:
    await show_or_ask(
        message, services.counter.open_code(event_from_user.id, message.text or ""), i18n, state
    )


async def scanned(
    message: Message, event_from_user: User, services: Services, i18n: KartuI18n, state: FSMContext
) -> None:
    """What the 📷 Scan page read, and in a points shop the amount typed on its keypad: the prompt
    opens exactly as if the code (and amount) were typed, with every rule and throttle."""
    scan = read_scan(message.web_app_data.data if message.web_app_data else "")
    services.health.metrics.miniapp.labels("scan" if scan else "not a code").inc()
    if scan is None:
        await message.answer(
            _(
                "That QR code is not a Kartu code. Ask the customer to open their code (/code) and scan it again."
            )
        )
        return
    if scan.amount is not None:
        prompt = await services.counter.open_sale(event_from_user.id, scan.code, str(scan.amount))
        await show_prompt(message, prompt, i18n)
        return
    await show_or_ask(message, services.counter.open_code(event_from_user.id, scan.code), i18n, state)


async def _edit_prompt(query: CallbackQuery, text: str) -> None:
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_text(text))


async def confirm_purchase(
    query: CallbackQuery, callback_data: PurchaseAction, services: Services, courier: OutboxDispatcher
) -> None:
    result = await services.counter.confirm_purchase(query.from_user.id, callback_data.token)
    await best_effort(query.answer(_("Confirmed.")))
    await courier.deliver_taken(result.taken, result.notices)
    await _edit_prompt(query, purchase_confirmed(result))


async def cancel_purchase(query: CallbackQuery, callback_data: PurchaseAction, services: Services) -> None:
    await services.counter.cancel_prompt(query.from_user.id, callback_data.token, PURCHASE)
    await best_effort(query.answer(_("Cancelled.")))
    await _edit_prompt(query, _("✖️ Cancelled. Nothing was added."))


async def confirm_redeem(
    query: CallbackQuery, callback_data: RedeemAction, services: Services, courier: OutboxDispatcher
) -> None:
    result = await services.counter.confirm_redeem(query.from_user.id, callback_data.token)
    await best_effort(query.answer(_("Redeemed.")))
    await courier.deliver_now(result.news)
    await _edit_prompt(query, redeem_confirmed(result))


async def cancel_redeem(query: CallbackQuery, callback_data: RedeemAction, services: Services) -> None:
    await services.counter.cancel_prompt(query.from_user.id, callback_data.token, REDEEM)
    await best_effort(query.answer(_("Cancelled.")))
    await _edit_prompt(query, _("✖️ Cancelled. The reward is still available."))


async def _decide_claim(
    query: CallbackQuery,
    claim_id: int,
    approve: bool,
    services: Services,
    bot: Bot,
    i18n: KartuI18n,
    courier: OutboxDispatcher,
    refusal: str | None,
) -> None:
    decision = await services.claims.decide(query.from_user.id, claim_id, approve, refusal)
    await best_effort(query.answer(_("Approved.") if decision.approved else _("Rejected.")))
    for notice in decision.notices:  # every staff member's copy shows who decided
        with i18n.use_locale(notice.language):
            text = claim_decided(decision)
        try:
            await bot.edit_message_text(text=text, chat_id=notice.chat_id, message_id=notice.message_id)
        except TelegramAPIError as error:
            log.info("could not update claim notice in %s: %s", notice.chat_id, error)
    if decision.purchase is not None:
        await courier.deliver_taken(decision.purchase.taken, decision.purchase.notices)
        return
    customer = decision.customer.telegram_id
    if customer is None:  # claims are made in Telegram's chat only
        return
    with i18n.use_locale(decision.customer.language):
        told: str = (
            missing_stamp_refused(decision, i18n.current_locale)
            if decision.visit_day
            else _("Staff could not confirm your purchase. Please ask at the counter.")
        )
    try:  # best effort: a rejection carries no result
        await bot.send_message(customer, told)
    except TelegramForbiddenError:
        await services.delivery.blocked(customer)
    except TelegramAPIError as error:
        log.warning("could not notify customer %s: %s", customer, error)


async def approve_claim(
    query: CallbackQuery,
    callback_data: ClaimAction,
    services: Services,
    bot: Bot,
    i18n: KartuI18n,
    courier: OutboxDispatcher,
) -> None:
    await _decide_claim(query, callback_data.claim_id, True, services, bot, i18n, courier, None)


async def reject_claim(
    query: CallbackQuery,
    callback_data: ClaimAction,
    services: Services,
    bot: Bot,
    i18n: KartuI18n,
    courier: OutboxDispatcher,
) -> None:
    await _decide_claim(query, callback_data.claim_id, False, services, bot, i18n, courier, callback_data.why)


async def show_shops(message: Message, event_from_user: User, services: Services) -> None:
    text, markup = shops_text(await services.merchants.workplaces(event_from_user.id))
    await message.answer(text, reply_markup=markup)


async def choose_shop(query: CallbackQuery, callback_data: ShopChoice, services: Services, bot: Bot) -> None:
    shop = await services.merchants.act_for(
        query.from_user.id, callback_data.merchant_id, callback_data.outlet_id
    )
    await best_effort(query.answer(plain(_("Now acting for {shop}."), shop=shop)))
    await publish_menu(
        bot, query.from_user.id, await services.merchants.menu(query.from_user.id)
    )  # owner here, staff there
    if isinstance(query.message, Message):
        text, markup = shops_text(await services.merchants.workplaces(query.from_user.id))
        if query.message.html_text != text:
            await best_effort(query.message.edit_text(text, reply_markup=markup))


async def toggle_duty(message: Message, event_from_user: User, services: Services) -> None:
    await message.answer(duty_text(await services.claims.toggle_duty(event_from_user.id)))


def router() -> Router:
    staff = Router(name="staff")
    staff.message.register(stamp_command, Command("stamp"))
    staff.message.register(redeem_command, Command("redeem"))
    staff.message.register(bare_code, OnLoop(F.text.func(normalize_code)))
    staff.message.register(scanned, OnLoop(F.web_app_data))
    staff.callback_query.register(confirm_purchase, PurchaseAction.filter(F.action == Decision.CONFIRM))
    staff.callback_query.register(cancel_purchase, PurchaseAction.filter(F.action == Decision.CANCEL))
    staff.callback_query.register(confirm_redeem, RedeemAction.filter(F.action == Decision.CONFIRM))
    staff.callback_query.register(cancel_redeem, RedeemAction.filter(F.action == Decision.CANCEL))
    staff.callback_query.register(approve_claim, ClaimAction.filter(F.action == Decision.CONFIRM))
    staff.callback_query.register(reject_claim, ClaimAction.filter(F.action == Decision.CANCEL))
    staff.message.register(toggle_duty, Command("duty"))
    staff.message.register(toggle_duty, MenuButton(MENU_DUTY))
    staff.message.register(show_shops, Command("shop", "shops"))
    staff.message.register(show_shops, MenuButton(MENU_SHOP))
    staff.callback_query.register(choose_shop, ShopChoice.filter())
    return staff
