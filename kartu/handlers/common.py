"""What every audience shares: help, language, polite refusals, and the last-resort replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.handlers.callbacks import LanguageChoice
from kartu.handlers.menus import keyboard_for, publish_menu
from kartu.handlers.render import html, plain
from kartu.loyalty import errors
from kartu.loyalty.language import SUPPORTED_LANGUAGES
from kartu.loyalty.numbers import format_amount
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile

log = logging.getLogger(__name__)
MAX_TEXT = 1000
LANGUAGE_NAMES = {"id": "🇮🇩 Bahasa Indonesia", "en": "🇬🇧 English"}


def explain(error: errors.LoyaltyError) -> str:
    """The polite, translated sentence for each refusal, as plain text (sent without parse mode)."""
    match error:
        case errors.UnknownCode():
            return _("I don't know that code. Please check it and try again.")
        case errors.NotStaff():
            return _("Only staff of this shop can do that.")
        case errors.NotOwner(acting_for=str() as shop):
            return plain(_("You are acting for {shop}, where you are staff. Send /shop to switch to a shop you own."), shop=shop)
        case errors.NotOwner():
            return _("Only the shop owner can do that.")
        case errors.OwnCodeShown(reward=True):
            return _("That is your reward code 🎁 Show it to staff at the counter to use it.")
        case errors.OwnCodeShown():
            return _("That is your own code 🙂 Show it at the counter when you pay, and staff will add your stamp.")
        case errors.TooManyUnknownCodes():
            return _("Too many unknown codes in a minute. Please wait a moment and check the code with the customer.")
        case errors.CodeEntryLocked():
            return _("Code entry is locked for your account after too many unknown codes. Ask the owner to unlock it in /staff.")
        case errors.TooManyRewardsAtOnce():
            return plain(_("That would fill more than {maximum} cards at once. Please confirm fewer purchases at a time."),
                         maximum=error.maximum)
        case errors.LastOwner():
            return _("A shop needs at least one owner. Invite another owner first.")
        case errors.NotAdmin():
            return _("Only platform admins can do that.")
        case errors.NotMember():
            return _("You have not joined a shop yet. Open your shop's link or scan its QR code to join.")
        case errors.UnknownMerchant():
            return _("That link does not lead to any shop. Please ask the shop for its current link.")
        case errors.OwnPurchase():
            return _("You cannot confirm a purchase on your own card. Ask a colleague.")
        case errors.DailyCapReached(remaining=0):
            return plain(_("Nothing was added: {name} already got today's {cap} stamps, the shop's daily limit. They can collect again tomorrow."),
                         name=error.customer_first_name or "—", cap=error.cap)
        case errors.DailyCapReached():
            return plain(ngettext("Nothing was added: {name} can get only {remaining} more stamp today (daily limit {cap}). Confirm fewer purchases.",
                                  "Nothing was added: {name} can get only {remaining} more stamps today (daily limit {cap}). Confirm fewer purchases.",
                                  error.remaining),
                         name=error.customer_first_name or "—", remaining=error.remaining, cap=error.cap)
        case errors.PromptClosed(status="confirmed"):
            return _("This purchase was already confirmed.")
        case errors.ClaimTooSoon():
            return plain(_("Staff could not confirm your last claim. You can claim again in {minutes} min — or just ask at the counter."),
                         minutes=error.minutes)
        case errors.ClaimAlreadyOpen():
            return _("You already told us about this purchase. Staff will confirm it in a moment.")
        case errors.ClaimClosed(status="approved", decided_by=str() as who):
            return plain(_("Already approved by {name}."), name=who)
        case errors.ClaimClosed(status="rejected", decided_by=str() as who):
            return plain(_("Already rejected by {name}."), name=who)
        case errors.ClaimClosed(status="expired"):
            return _("This claim expired: claims are open for 30 minutes.")
        case errors.ClaimClosed():
            return _("This request is no longer valid.")
        case errors.InvalidAmount():
            return plain(_("Please send the amount in rupiah as a number from 1 to {maximum}, like /claim 25000."),
                         maximum=format_amount(error.maximum))
        case errors.BroadcastRunning():
            return _("A broadcast is still going out. Wait until it finishes, or cancel it first.")
        case errors.NobodyToReach():
            return _("Nobody in that group can get a broadcast right now.")
        case errors.PromptClosed(status="finished"):
            return _("This broadcast has already finished.")
        case errors.PromptClosed(status="rated"):
            return _("You already rated this visit. Thank you!")
        case errors.PromptClosed(status="cancelled"):
            return _("This purchase was cancelled.")
        case errors.PromptClosed(status="expired"):
            return _("This request is no longer valid. Please send the customer's code again.")
        case errors.PromptClosed():
            return _("This button is no longer valid.")
        case errors.InviteForSomeoneElse():
            return _("This owner link was made for someone else's Telegram account. Ask whoever sent it to you.")
        case errors.InviteInvalid():
            return _("This invite link is not valid any more (used or expired). Ask the owner for a new one.")
        case errors.RewardExpired():
            return _("This reward code has expired.")
        case errors.RewardAlreadyRedeemed():
            return _("This reward was already redeemed.")
        case errors.InvalidPurchaseCount():
            return plain(_("The number of purchases must be between 1 and {maximum}."), maximum=error.maximum)
        case errors.InvalidSetting() if error.field == "quiet_hours":
            return _("Please send the quiet hours like 21-8 or 22:30-07:00, or 0 for none.")
        case errors.InvalidSetting(maximum=int() as high) if error.field == "reminder_days":
            return plain(_("Please send up to three numbers of days from 1 to {high}, like 7,1 — or 0 for none."), high=high)
        case errors.InvalidSetting(minimum=int() as low, maximum=int() as high) if error.field == "reward_name":
            return plain(_("Please send a reward name of {low} to {high} characters."), low=low, high=high)
        case errors.InvalidSetting(minimum=int() as low, maximum=int() as high):
            return plain(_("Please send a whole number from {low} to {high}."), low=low, high=high)
    return _("Sorry, that did not work. Please try again.")


class PoliteRefusals(BaseMiddleware):
    """Turns a domain refusal into a translated reply; the update changes nothing."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        except errors.LoyaltyError as error:
            text = explain(error)
            if isinstance(event, CallbackQuery):
                await event.answer(text, show_alert=True)
            elif isinstance(event, Message):
                await event.answer(text, parse_mode=None)
            if isinstance(error, errors.DailyCapReached) and error.remaining == 0 and error.customer_chat is not None:
                await _tell_customer_of_cap(data["bot"], data["i18n"], error, error.customer_chat)
            return None


async def _tell_customer_of_cap(bot: Bot, i18n: Any, error: errors.DailyCapReached, chat: tuple[int, str]) -> None:
    """Staff were refused; the customer (at the counter, or waiting on a claim) hears why in
    their own words. Best effort: nothing was credited, so nothing is lost if it fails."""
    chat_id, language = chat
    with i18n.use_locale(language):
        text = html(_("You already collected today's {cap} stamps at <b>{shop}</b>, the most one day gives. Your next stamp can come tomorrow 🙂"),
                    cap=error.cap, shop=error.merchant_name)
    try:
        await bot.send_message(chat_id, text)
    except TelegramAPIError as failure:
        log.info("could not tell %s about the daily limit: %s", chat_id, failure)


class TextSizeGuard(BaseMiddleware):
    """Messages longer than anything Kartu asks for are answered, never parsed."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message) and len(event.text or event.caption or "") > MAX_TEXT:
            await event.answer(_("That message is too long for me. Please send something shorter."))
            return None
        return await handler(event, data)


async def best_effort(action: Awaitable[object]) -> None:
    """A toast, an edit of a screen or a reaction: it may fail ("query is too old", a 429,
    "message is not modified") without losing anything, since results travel by the outbox."""
    try:
        await action
    except TelegramAPIError as error:
        log.info("best-effort update failed: %s", error)


def profile_of(message_or_query: Message | CallbackQuery) -> TelegramProfile:
    user = message_or_query.from_user
    assert user is not None
    return TelegramProfile(user.id, user.first_name, user.username, user.language_code)


async def who_am_i(message: Message) -> None:
    """What an operator needs for `kartu merchant create --owner ID`."""
    user = message.from_user
    await message.answer(html(_("Your Telegram user id is <code>{id}</code> ({name})."), id=str(user.id) if user else "?",
                              name=user.full_name if user else ""))


async def choose_language(message: Message) -> None:
    builder = InlineKeyboardBuilder()
    for code in SUPPORTED_LANGUAGES:
        builder.button(text=LANGUAGE_NAMES[code], callback_data=LanguageChoice(code=code))
    await message.answer(_("Choose your language:"), reply_markup=builder.as_markup())


async def set_language(query: CallbackQuery, callback_data: LanguageChoice, services: Services, i18n: Any, bot: Bot) -> None:
    if callback_data.code not in SUPPORTED_LANGUAGES:
        await query.answer(_("Sorry, that did not work. Please try again."), show_alert=True)
        return
    language = await services.customers.set_language(profile_of(query), callback_data.code)
    menu = await services.merchants.menu(query.from_user.id)
    with i18n.use_locale(language):
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(_("Language set to English."), reply_markup=keyboard_for(menu))
        await publish_menu(bot, query.from_user.id, menu)


def commands_router() -> Router:
    router = Router(name="common")
    router.message.register(choose_language, Command("lang", "language", "bahasa"))
    router.message.register(who_am_i, Command("whoami", "id"))
    router.callback_query.register(set_language, LanguageChoice.filter())
    return router


async def cancel_form(message: Message, state: FSMContext) -> None:
    """/cancel inside a guided form: leave it, change nothing."""
    await state.clear()
    await message.answer(_("Cancelled. Nothing was changed."))


async def not_text(message: Message) -> None:
    await message.answer(_("I can only read text messages. Send /help to see what I can do."))


async def unknown_text(message: Message) -> None:
    await message.answer(_("Sorry, I did not understand that. Send /help to see what I can do."))


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer valid."), show_alert=True)


def fallback_router() -> Router:
    router = Router(name="fallback")
    router.message.register(unknown_text, F.text)
    router.message.register(not_text)
    router.callback_query.register(stale_button)
    return router
