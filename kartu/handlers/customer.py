"""Customers: join, see the card, the personal code and rewards."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import profile_of
from kartu.handlers.filters import MenuButton
from kartu.handlers.render import (
    MENU_CARD,
    MENU_CODE,
    MENU_REWARDS,
    card_caption,
    card_photo,
    menu_keyboard,
    name,
    progress_line,
    qr_photo,
    reward_lines,
)
from kartu.loyalty.codes import format_code
from kartu.loyalty.staff import Role
from kartu.services.container import Services


async def start(message: Message, command: CommandObject, services: Services) -> None:
    outcome = await services.customers.start(profile_of(message), command.args)
    if outcome.invite is not None:
        if outcome.invite.role == Role.OWNER:
            text = _("Welcome, owner of <b>{shop}</b>! Use /staff to invite your team and /program to set up your card.")
        else:
            text = _("You are now staff at <b>{shop}</b>. Send a customer's code to give stamps. /help shows how.")
        await message.answer(text.format(shop=name(outcome.invite.merchant_name)), reply_markup=menu_keyboard())
        return
    if outcome.joined is None:
        await message.answer(
            _("Hello! I keep your loyalty cards. Open your shop's link or scan its QR code to join.")
        )
        return
    card = outcome.joined.card
    greeting = (
        _("Welcome to <b>{shop}</b>, {first_name}! Your stamp card is ready.")
        if outcome.joined.newly_joined
        else _("Welcome back to <b>{shop}</b>, {first_name}!")
    )
    text = "\n\n".join(
        [
            greeting.format(shop=name(card.merchant_name), first_name=name(outcome.joined.first_name)),
            _("Show your code <code>{code}</code> when you pay: each purchase earns a stamp. {progress}").format(
                code=format_code(card.personal_code), progress=progress_line(card)
            ),
            _("Tap a button below, or send /help."),
        ]
    )
    await message.answer(text, reply_markup=menu_keyboard())


async def show_card(message: Message, services: Services) -> None:
    card = await services.customers.card(message.from_user.id)  # type: ignore[union-attr]
    await message.answer_photo(await card_photo(card), caption=card_caption(card))


async def show_code(message: Message, services: Services) -> None:
    card = await services.customers.personal_code(message.from_user.id)  # type: ignore[union-attr]
    code = format_code(card.personal_code)
    await message.answer(_("Your code at <b>{shop}</b>: <code>{code}</code>").format(shop=name(card.merchant_name), code=code))
    await message.answer_photo(await qr_photo(card.personal_code), caption=_("Show this QR code or tell the code to staff when you pay."))


async def show_rewards(message: Message, services: Services, i18n: KartuI18n) -> None:
    rewards = await services.customers.rewards(message.from_user.id)  # type: ignore[union-attr]
    await message.answer(reward_lines(rewards, i18n.current_locale))


def router() -> Router:
    customer = Router(name="customer")
    customer.message.register(start, CommandStart())
    customer.message.register(show_card, Command("card"))
    customer.message.register(show_card, MenuButton(MENU_CARD))
    customer.message.register(show_code, Command("code"))
    customer.message.register(show_code, MenuButton(MENU_CODE))
    customer.message.register(show_rewards, Command("rewards"))
    customer.message.register(show_rewards, MenuButton(MENU_REWARDS))
    return customer


