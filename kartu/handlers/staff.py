"""Staff at the counter: stamp purchases and redeem rewards, each behind a Confirm button."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from kartu.bot.i18n import KartuI18n
from kartu.handlers.callbacks import ClaimAction, PurchaseAction, RedeemAction, ShopChoice
from kartu.handlers.common import best_effort
from kartu.handlers.filters import MenuButton
from kartu.handlers.menus import publish_menu
from kartu.loyalty.codes import normalize_code
from kartu.loyalty.numbers import split_stamp_arguments
from kartu.presenters.common import confirm_cancel
from kartu.presenters.customer import progress_line
from kartu.presenters.format import date_text, html, join_html, plain, purchases_text, stamps_text
from kartu.presenters.menus import MENU_DUTY, MENU_SHOP
from kartu.presenters.staff import shops_text, with_shop
from kartu.services.container import Services
from kartu.services.counter import PURCHASE, REDEEM
from kartu.services.views import PurchasePromptView, RedeemPromptView

if TYPE_CHECKING:  # the dispatcher renders notices from handlers: imported for types only
    from kartu.scheduler.dispatcher import OutboxDispatcher

log = logging.getLogger(__name__)


async def show_prompt(message: Message, prompt: PurchasePromptView | RedeemPromptView, i18n: KartuI18n) -> None:
    if isinstance(prompt, RedeemPromptView):
        text = html(
            _("Redeem <b>{reward}</b> for {first_name}? Valid until {date}."),
            reward=prompt.reward_name, first_name=prompt.customer_first_name,
            date=date_text(prompt.expires_at, prompt.timezone, i18n.current_locale),
        )
        markup = confirm_cancel(RedeemAction(action="ok", token=prompt.token).pack(),
                                RedeemAction(action="no", token=prompt.token).pack())
    else:
        handle = plain(" @{username}", username=prompt.customer_username) if prompt.customer_username else ""
        visit = (plain(_("last visit {date}"), date=date_text(prompt.last_visit, prompt.timezone, i18n.current_locale))
                 if prompt.last_visit else _("first visit"))
        lines = [
            html("👤 <b>{first_name}</b>{handle} · {visit}", first_name=prompt.customer_first_name, handle=handle, visit=visit),
            html(_("{first_name} has {stamps}/{required} stamps."), first_name=prompt.customer_first_name, stamps=prompt.stamps,
                 required=prompt.stamps_required),
            html(_("Add {stamps} for {purchases}?"), stamps=stamps_text(prompt.stamps_to_add), purchases=purchases_text(prompt.purchases)),
        ]
        if prompt.open_rewards:
            lines.append(html(ngettext("🎁 {first_name} has {count} reward waiting: ask for the reward code to redeem it.",
                                       "🎁 {first_name} has {count} rewards waiting: ask for the reward code to redeem them.", prompt.open_rewards),
                              first_name=prompt.customer_first_name, count=prompt.open_rewards))
        text = join_html("\n", lines)
        markup = confirm_cancel(PurchaseAction(action="ok", token=prompt.token).pack(),
                                PurchaseAction(action="no", token=prompt.token).pack())
    await message.answer(with_shop(prompt, text), reply_markup=markup)


async def stamp_command(message: Message, command: CommandObject, services: Services, i18n: KartuI18n) -> None:
    parts = (command.args or "").split()
    if not parts:
        await message.answer(_("Send it like this: /stamp CODE or /stamp CODE 2 for two purchases."))
        return
    code, count = split_stamp_arguments(parts)
    prompt = await services.counter.open_purchase(message.from_user.id, code, count)  # type: ignore[union-attr]
    await show_prompt(message, prompt, i18n)


async def redeem_command(message: Message, command: CommandObject, services: Services, i18n: KartuI18n) -> None:
    if not command.args:
        await message.answer(_("Send it like this: /redeem REWARD-CODE"))
        return
    prompt = await services.counter.open_redeem(message.from_user.id, command.args)  # type: ignore[union-attr]
    await show_prompt(message, prompt, i18n)


async def bare_code(message: Message, services: Services, i18n: KartuI18n) -> None:
    prompt = await services.counter.open_code(message.from_user.id, message.text or "")  # type: ignore[union-attr]
    await show_prompt(message, prompt, i18n)


async def _tell_customer(bot: Bot, services: Services, chat_id: int, texts: list[str]) -> None:
    """Best effort, for news that carries no result (a rejected claim)."""
    try:
        for text in texts:
            await bot.send_message(chat_id, text)
    except TelegramForbiddenError:
        await services.delivery.blocked(chat_id)
    except TelegramAPIError as error:
        log.warning("could not notify customer %s: %s", chat_id, error)


async def purchase_decision(query: CallbackQuery, callback_data: PurchaseAction, services: Services, courier: OutboxDispatcher) -> None:
    staff_id = query.from_user.id
    if callback_data.action != "ok":
        await services.counter.cancel_prompt(staff_id, callback_data.token, PURCHASE)
        await best_effort(query.answer(_("Cancelled.")))
        if isinstance(query.message, Message):
            await best_effort(query.message.edit_text(_("✖️ Cancelled. Nothing was added.")))
        return
    result = await services.counter.confirm_purchase(staff_id, callback_data.token)
    summary = html(
        _("✅ Confirmed: {first_name} got {stamps} and now has {progress}"),
        first_name=result.customer_first_name, stamps=stamps_text(result.stamps_added), progress=progress_line(result.card),
    )
    if result.new_rewards:
        summary = join_html("\n", [summary, html(ngettext("🎉 Card full: {count} reward issued.", "🎉 Card full: {count} rewards issued.",
                                                          len(result.new_rewards)), count=len(result.new_rewards))])
    await best_effort(query.answer(_("Confirmed.")))
    await courier.deliver_now(result.news)
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_text(summary))


async def redeem_decision(query: CallbackQuery, callback_data: RedeemAction, services: Services, courier: OutboxDispatcher) -> None:
    if callback_data.action != "ok":
        await services.counter.cancel_prompt(query.from_user.id, callback_data.token, REDEEM)
        await best_effort(query.answer(_("Cancelled.")))
        if isinstance(query.message, Message):
            await best_effort(query.message.edit_text(_("✖️ Cancelled. The reward is still available.")))
        return
    result = await services.counter.confirm_redeem(query.from_user.id, callback_data.token)
    await best_effort(query.answer(_("Redeemed.")))
    await courier.deliver_now(result.news)
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_text(
            html(_("✅ Redeemed: {reward} for {first_name}."), reward=result.reward_name, first_name=result.customer_first_name)
        ))


async def claim_decision(
    query: CallbackQuery, callback_data: ClaimAction, services: Services, bot: Bot, i18n: KartuI18n, courier: OutboxDispatcher
) -> None:
    decision = await services.claims.decide(query.from_user.id, callback_data.claim_id, callback_data.action == "ok")
    await best_effort(query.answer(_("Approved.") if decision.approved else _("Rejected.")))
    for notice in decision.notices:  # every staff member's copy shows who decided
        with i18n.use_locale(notice.language):
            text = html(
                _("✅ {customer}'s purchase approved by {name}.") if decision.approved else _("✖️ {customer}'s claim rejected by {name}."),
                customer=decision.customer_first_name, name=decision.decided_by,
            )
        try:
            await bot.edit_message_text(text=text, chat_id=notice.chat_id, message_id=notice.message_id)
        except TelegramAPIError as error:
            log.info("could not update claim notice in %s: %s", notice.chat_id, error)
    if decision.purchase is not None:
        await courier.deliver_now(decision.purchase.news)
        return
    with i18n.use_locale(decision.customer.language):
        text = _("Staff could not confirm your purchase. Please ask at the counter.")
    await _tell_customer(bot, services, decision.customer.telegram_id, [text])


async def show_shops(message: Message, services: Services) -> None:
    text, markup = shops_text(await services.merchants.workplaces(message.from_user.id))  # type: ignore[union-attr]
    await message.answer(text, reply_markup=markup)


async def choose_shop(query: CallbackQuery, callback_data: ShopChoice, services: Services, bot: Bot) -> None:
    shop = await services.merchants.act_for(query.from_user.id, callback_data.merchant_id)
    await best_effort(query.answer(plain(_("Now acting for {shop}."), shop=shop)))
    await publish_menu(bot, query.from_user.id, await services.merchants.menu(query.from_user.id))  # owner here, staff there
    if isinstance(query.message, Message):
        text, markup = shops_text(await services.merchants.workplaces(query.from_user.id))
        if query.message.html_text != text:
            await best_effort(query.message.edit_text(text, reply_markup=markup))


async def toggle_duty(message: Message, services: Services) -> None:
    on_duty = await services.claims.toggle_duty(message.from_user.id)  # type: ignore[union-attr]
    await message.answer(
        _("You are on duty: customers' purchase claims come to you.") if on_duty
        else _("You are off duty: claims go to the staff on duty (or to everyone when nobody is).")
    )


def router() -> Router:
    staff = Router(name="staff")
    staff.message.register(stamp_command, Command("stamp"))
    staff.message.register(redeem_command, Command("redeem"))
    staff.message.register(bare_code, F.text.func(normalize_code))
    staff.callback_query.register(purchase_decision, PurchaseAction.filter())
    staff.callback_query.register(redeem_decision, RedeemAction.filter())
    staff.callback_query.register(claim_decision, ClaimAction.filter())
    staff.message.register(toggle_duty, Command("duty"))
    staff.message.register(toggle_duty, MenuButton(MENU_DUTY))
    staff.message.register(show_shops, Command("shop", "shops"))
    staff.message.register(show_shops, MenuButton(MENU_SHOP))
    staff.callback_query.register(choose_shop, ShopChoice.filter())
    return staff
