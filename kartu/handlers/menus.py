"""Each role's own screens: reply keyboard, /help and "/" command menu.

Customers, staff and owners see different buttons and commands. Someone who works at a shop
and also collects stamps somewhere switches between the two with one button; which shop they
act for is /shop's business. The "/" menu is set per chat (BotCommandScopeChat) whenever the
role a person acts in changes; customers keep the bot's default menu.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import BotCommandScopeChat, Message
from aiogram.utils.i18n import gettext as _

from kartu.handlers.filters import MenuButton
from kartu.presenters.format import html
from kartu.presenters.menus import (
    MENU_AS_CUSTOMER,
    MENU_AS_STAFF,
    MENU_HELP,
    commands_for,
    help_for,
    keyboard_for,
)
from kartu.services.container import Services
from kartu.services.customers import Arrival
from kartu.services.views import Audience, MenuView

log = logging.getLogger(__name__)


async def publish_menu(bot: Bot, chat_id: int, menu: MenuView) -> None:
    """This person's "/" menu, in their language. Customers fall back to the bot's default
    menu. Best effort: a failure costs a menu, never an answer."""
    scope = BotCommandScopeChat(chat_id=chat_id)
    try:
        if menu.audience == Audience.CUSTOMER:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands(commands_for(menu), scope=scope)
    except TelegramAPIError as error:
        log.info("could not set the command menu of %s: %s", chat_id, error)


async def answer_with_menu(message: Message, bot: Bot, text: str, menu: MenuView) -> None:
    """Reply with the role's keyboard and refresh the role's "/" menu (first, so the menu is
    right by the time the person reads the reply)."""
    await publish_menu(bot, message.chat.id, menu)
    await message.answer(text, reply_markup=keyboard_for(menu))


async def show_help(message: Message, services: Services, bot: Bot, arrival: Arrival | None = None) -> None:
    known = arrival.menu if arrival is not None else None
    # The arrival knows a customer's shop; staff and owners act for a shop of their own: read it.
    menu = (
        known
        if known is not None and known.audience == Audience.CUSTOMER
        else await services.merchants.menu(message.chat.id)
    )
    if menu.audience == Audience.CUSTOMER:  # the bot's default menu: nothing to set, one call saved
        await message.answer(help_for(menu), reply_markup=keyboard_for(menu))
        return
    await answer_with_menu(message, bot, help_for(menu), menu)


async def as_customer(message: Message, services: Services, bot: Bot) -> None:
    menu = await services.merchants.menu(message.chat.id, as_customer=True)
    await answer_with_menu(message, bot, html(_("Customer menu: your card, code and rewards.")), menu)


async def as_staff(message: Message, services: Services, bot: Bot) -> None:
    menu = await services.merchants.menu(message.chat.id)
    if menu.audience == Audience.CUSTOMER:
        await answer_with_menu(message, bot, html(_("You do not work at a shop on Kartu any more.")), menu)
        return
    await answer_with_menu(message, bot, help_for(menu), menu)


def router() -> Router:
    menus = Router(name="menus")
    menus.message.register(show_help, Command("help"))
    menus.message.register(show_help, MenuButton(MENU_HELP))
    menus.message.register(as_customer, MenuButton(MENU_AS_CUSTOMER))
    menus.message.register(as_staff, MenuButton(MENU_AS_STAFF))
    menus.message.register(as_staff, Command("staffmenu"))
    return menus
