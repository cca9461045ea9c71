"""Customers' bonuses: their invite link (/invite) and their birthday (/birthday)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, User

from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import cancel_form
from kartu.handlers.filters import OnLoop
from kartu.handlers.states import BirthdayForm
from kartu.loyalty.links import LinkKind, deep_link
from kartu.presenters.bonuses import birthday_saved, birthday_text, invite_text
from kartu.services.container import Services


async def send_invite(message: Message, event_from_user: User, services: Services, bot: Bot) -> None:
    invitation = await services.bonuses.invitation(event_from_user.id)
    link = deep_link((await bot.me()).username or "", LinkKind.REFERRAL, invitation.token)
    await message.answer(invite_text(link, invitation))


async def ask_birthday(
    message: Message,
    command: CommandObject,
    event_from_user: User,
    services: Services,
    state: FSMContext,
    i18n: KartuI18n,
) -> None:
    if command.args:  # "/birthday 17-08" at once
        await save_birthday(message, event_from_user, services, state, i18n, command.args)
        return
    view = await services.bonuses.birthday(event_from_user.id)
    if view is None or view.changeable_from is None:
        await state.set_state(BirthdayForm.day)
    await message.answer(birthday_text(view, i18n.current_locale))


async def save_birthday(
    message: Message,
    event_from_user: User,
    services: Services,
    state: FSMContext,
    i18n: KartuI18n,
    text: str | None = None,
) -> None:
    view = await services.bonuses.set_birthday(
        event_from_user.id, text or message.text or ""
    )  # refused: asked again
    await state.clear()
    await message.answer(birthday_saved(view, i18n.current_locale))


async def birthday_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext, i18n: KartuI18n
) -> None:
    await save_birthday(message, event_from_user, services, state, i18n)


def router() -> Router:
    bonuses = Router(name="bonuses")
    bonuses.message.register(cancel_form, Command("cancel"), StateFilter(BirthdayForm))
    bonuses.message.register(send_invite, Command("invite", "ajak"))
    bonuses.message.register(ask_birthday, Command("birthday", "ultah"))
    bonuses.message.register(
        birthday_typed, StateFilter(BirthdayForm.day), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    return bonuses
