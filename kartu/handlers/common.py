"""What every audience shares: help, language, polite refusals, and the last-resort replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.handlers.filters import OnLoop
from kartu.handlers.menus import publish_menu
from kartu.loyalty import errors
from kartu.loyalty.language import SUPPORTED_LANGUAGES
from kartu.presenters.callbacks import LanguageChoice
from kartu.presenters.common import LANGUAGE_NAMES
from kartu.presenters.format import html
from kartu.presenters.menus import keyboard_for
from kartu.presenters.refusals import explain
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile

log = logging.getLogger(__name__)
MAX_TEXT = 1000


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
            if (
                isinstance(error, errors.DailyCapReached)
                and error.remaining == 0
                and error.customer_chat is not None
            ):
                await _tell_customer_of_cap(data["bot"], data["i18n"], error, error.customer_chat)
            return None


async def _tell_customer_of_cap(
    bot: Bot, i18n: Any, error: errors.DailyCapReached, chat: tuple[int, str]
) -> None:
    """Staff were refused; the customer (at the counter, or waiting on a claim) hears why in
    their own words. Best effort: nothing was credited, so nothing is lost if it fails."""
    chat_id, language = chat
    with i18n.use_locale(language):
        text = html(
            _(
                "You already collected today's {cap} stamps at <b>{shop}</b>, the most one day gives. Your next stamp can come tomorrow 🙂"
            ),
            cap=error.cap,
            shop=error.merchant_name,
        )
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


def profile_of(user: User) -> TelegramProfile:
    return TelegramProfile(user.id, user.first_name, user.username, user.language_code)


async def who_am_i(message: Message, event_from_user: User) -> None:
    """What an operator needs for `kartu merchant create --owner ID`."""
    await message.answer(
        html(
            _("Your Telegram user id is <code>{id}</code> ({name})."),
            id=str(event_from_user.id),
            name=event_from_user.full_name,
        )
    )


async def choose_language(message: Message) -> None:
    builder = InlineKeyboardBuilder()
    for code in SUPPORTED_LANGUAGES:
        builder.button(text=LANGUAGE_NAMES[code], callback_data=LanguageChoice(code=code))
    await message.answer(_("Choose your language:"), reply_markup=builder.as_markup())


async def set_language(
    query: CallbackQuery, callback_data: LanguageChoice, services: Services, i18n: Any, bot: Bot
) -> None:
    if callback_data.code not in SUPPORTED_LANGUAGES:
        await query.answer(_("Sorry, that did not work. Please try again."), show_alert=True)
        return
    language = await services.customers.set_language(profile_of(query.from_user), callback_data.code)
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
    router.message.register(unknown_text, OnLoop(F.text))
    router.message.register(not_text)
    router.callback_query.register(stale_button)
    return router
