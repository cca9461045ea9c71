"""Staff at the counter: stamp purchases and redeem rewards, each behind a Confirm button."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.handlers.callbacks import ClaimAction, PurchaseAction, RedeemAction
from kartu.handlers.render import HTML, card_caption, card_photo, confirm_cancel, date_text, html, join_html, progress_line, time_text
from kartu.loyalty.codes import format_code, normalize_code
from kartu.services.container import Services
from kartu.services.views import ClaimView, PurchasePromptView, PurchaseResult, RedeemPromptView, RedeemResult

log = logging.getLogger(__name__)


async def _show_prompt(message: Message, prompt: PurchasePromptView | RedeemPromptView, i18n: KartuI18n) -> None:
    if isinstance(prompt, RedeemPromptView):
        text = html(
            _("Redeem <b>{reward}</b> for {first_name}? Valid until {date}."),
            reward=prompt.reward_name, first_name=prompt.customer_first_name,
            date=date_text(prompt.expires_at, prompt.timezone, i18n.current_locale),
        )
        markup = confirm_cancel(RedeemAction(action="ok", reward_id=prompt.reward_id).pack(),
                                RedeemAction(action="no", reward_id=prompt.reward_id).pack())
    else:
        text = html(
            _("{first_name} has {stamps}/{required} stamps.\nAdd {count} stamp(s) for {purchases} purchase(s)?"),
            first_name=prompt.customer_first_name, stamps=prompt.stamps, required=prompt.stamps_required,
            count=prompt.stamps_to_add, purchases=prompt.purchases,
        )
        markup = confirm_cancel(PurchaseAction(action="ok", prompt_id=prompt.prompt_id).pack(),
                                PurchaseAction(action="no", prompt_id=prompt.prompt_id).pack())
    await message.answer(text, reply_markup=markup)


async def stamp_command(message: Message, command: CommandObject, services: Services, i18n: KartuI18n) -> None:
    parts = (command.args or "").split()
    if not parts:
        await message.answer(_("Send it like this: /stamp CODE or /stamp CODE 2 for two purchases."))
        return
    # "K7Q2 9XHM 2": the code may be split by a space; the last short number is the count.
    count = parts.pop() if len(parts) > 1 and parts[-1].isdigit() and len(parts[-1]) <= 3 else None
    prompt = await services.counter.open_purchase(message.from_user.id, "".join(parts), count)  # type: ignore[union-attr]
    await _show_prompt(message, prompt, i18n)


async def redeem_command(message: Message, command: CommandObject, services: Services, i18n: KartuI18n) -> None:
    if not command.args:
        await message.answer(_("Send it like this: /redeem REWARD-CODE"))
        return
    prompt = await services.counter.open_redeem(message.from_user.id, command.args)  # type: ignore[union-attr]
    await _show_prompt(message, prompt, i18n)


async def bare_code(message: Message, services: Services, i18n: KartuI18n) -> None:
    prompt = await services.counter.open_code(message.from_user.id, message.text or "")  # type: ignore[union-attr]
    await _show_prompt(message, prompt, i18n)


async def _tell_customer(bot: Bot, services: Services, chat_id: int, photo: BufferedInputFile | None, texts: list[str]) -> None:
    """Best effort, straight after the staff's tap: a customer who blocked the bot is marked
    unreachable, and no failure here undoes the confirmation."""
    try:
        if photo is not None:
            await bot.send_photo(chat_id, photo, caption=texts.pop(0))
        for text in texts:
            await bot.send_message(chat_id, text)
    except TelegramForbiddenError:
        await services.delivery.blocked(chat_id)
    except TelegramAPIError as error:
        log.warning("could not notify customer %s: %s", chat_id, error)


async def _notify_purchase(bot: Bot, services: Services, i18n: KartuI18n, result: PurchaseResult) -> None:
    customer = result.customer
    with i18n.use_locale(customer.language):
        caption = join_html("\n", [html(_("✅ +{count} stamp(s)!"), count=result.stamps_added), card_caption(result.card, customer.language)])
        photo = await card_photo(result.card)
        reward_messages = [
            html(
                _("🎉 Your card is full! You earned <b>{reward}</b>.\nShow this code to staff: <code>{code}</code>\nValid until {date}."),
                reward=reward.name, code=format_code(reward.code), date=date_text(reward.expires_at, reward.timezone, customer.language),
            )
            for reward in result.new_rewards
        ]
    await _tell_customer(bot, services, customer.telegram_id, photo, [caption, *reward_messages])


async def purchase_decision(query: CallbackQuery, callback_data: PurchaseAction, services: Services, bot: Bot, i18n: KartuI18n) -> None:
    staff_id = query.from_user.id
    if callback_data.action != "ok":
        await services.counter.cancel_purchase(staff_id, callback_data.prompt_id)
        await query.answer(_("Cancelled."))
        if isinstance(query.message, Message):
            await query.message.edit_text(_("✖️ Cancelled. Nothing was added."))
        return
    result = await services.counter.confirm_purchase(staff_id, callback_data.prompt_id)
    summary = html(
        _("✅ Confirmed: {first_name} got {count} stamp(s) and now has {progress}"),
        first_name=result.customer_first_name, count=result.stamps_added, progress=progress_line(result.card),
    )
    if result.new_rewards:
        summary = join_html("\n", [summary, html(_("🎉 Card full: {count} reward(s) issued."), count=len(result.new_rewards))])
    await query.answer(_("Confirmed."))
    if isinstance(query.message, Message):
        await query.message.edit_text(summary)
    await _notify_purchase(bot, services, i18n, result)


async def _notify_redeem(bot: Bot, services: Services, i18n: KartuI18n, result: RedeemResult) -> None:
    with i18n.use_locale(result.customer.language):
        text = html(_("🎁 Enjoy your <b>{reward}</b> at {shop}! Thanks for coming back."), reward=result.reward_name, shop=result.merchant_name)
    await _tell_customer(bot, services, result.customer.telegram_id, None, [text])


async def redeem_decision(query: CallbackQuery, callback_data: RedeemAction, services: Services, bot: Bot, i18n: KartuI18n) -> None:
    if callback_data.action != "ok":
        await query.answer(_("Cancelled."))
        if isinstance(query.message, Message):
            await query.message.edit_text(_("✖️ Cancelled. The reward is still available."))
        return
    result = await services.counter.confirm_redeem(query.from_user.id, callback_data.reward_id)
    await query.answer(_("Redeemed."))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            html(_("✅ Redeemed: {reward} for {first_name}."), reward=result.reward_name, first_name=result.customer_first_name)
        )
    await _notify_redeem(bot, services, i18n, result)


def claim_request(claim: ClaimView) -> tuple[HTML, InlineKeyboardMarkup]:
    """What staff see when a customer says they bought something (in the current locale)."""
    amount = html(_(" ({amount})"), amount=claim.amount) if claim.amount else html("")
    text = html(
        _("🧾 <b>{first_name}</b> says they bought something{amount} at {time}.\nCard: {stamps}/{required}. Approve?"),
        first_name=claim.customer_first_name, amount=amount, time=time_text(claim.created_at, claim.card.timezone),
        stamps=claim.card.stamps, required=claim.card.stamps_required,
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Approve"), callback_data=ClaimAction(action="ok", claim_id=claim.claim_id))
    builder.button(text=_("✖️ Reject"), callback_data=ClaimAction(action="no", claim_id=claim.claim_id))
    return text, builder.as_markup()


async def claim_decision(query: CallbackQuery, callback_data: ClaimAction, services: Services, bot: Bot, i18n: KartuI18n) -> None:
    decision = await services.claims.decide(query.from_user.id, callback_data.claim_id, callback_data.action == "ok")
    await query.answer(_("Approved.") if decision.approved else _("Rejected."))
    for notice in decision.notices:  # every staff member's copy shows who decided
        with i18n.use_locale(notice.language):
            text = html(_("✅ Approved by {name}.") if decision.approved else _("✖️ Rejected by {name}."), name=decision.decided_by)
        try:
            await bot.edit_message_text(text=text, chat_id=notice.chat_id, message_id=notice.message_id)
        except TelegramAPIError as error:
            log.info("could not update claim notice in %s: %s", notice.chat_id, error)
    if decision.purchase is not None:
        await _notify_purchase(bot, services, i18n, decision.purchase)
        return
    with i18n.use_locale(decision.customer.language):
        text = _("Staff could not confirm your purchase. Please ask at the counter.")
    await _tell_customer(bot, services, decision.customer.telegram_id, None, [text])


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
    return staff
