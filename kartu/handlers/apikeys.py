"""The owner's keys for the point-of-sale API: list, create (shown once), revoke."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import best_effort
from kartu.presenters.apikeys import key_outlet_question, keys_text, new_key_text
from kartu.presenters.callbacks import KeyAction, KeyStep
from kartu.services.container import Services


async def show_keys(message: Message, event_from_user: User, services: Services, i18n: KartuI18n) -> None:
    text, markup = keys_text(await services.api.keys(event_from_user.id), i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def key_action(
    query: CallbackQuery, callback_data: KeyAction, services: Services, i18n: KartuI18n
) -> None:
    owner = query.from_user.id
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    if callback_data.action == KeyStep.REVOKE:
        await services.api.revoke(owner, callback_data.key_id)
        await query.answer(_("Revoked. Requests with that key are refused from now on."))
    else:
        listing = await services.api.keys(owner)
        if listing.outlets and not callback_data.where:  # several outlets: whose till?
            await query.answer()
            text, markup = key_outlet_question(callback_data.action, listing.outlets)
            await query.message.answer(text, reply_markup=markup)
            return
        scopes = "earn,read" if callback_data.action == KeyStep.CREATE_EARN else "earn,redeem,read"
        outlet = int(callback_data.where) if callback_data.where.isdigit() else None
        key, view = await services.api.create_key(owner, scopes, outlet_id=outlet)
        await query.answer()
        await query.message.answer(new_key_text(key, view.scopes))
    text, markup = keys_text(await services.api.keys(owner), i18n.current_locale)
    await best_effort(query.message.edit_text(text, reply_markup=markup))


def router() -> Router:
    apikeys = Router(name="apikeys")
    apikeys.message.register(show_keys, Command("apikeys"))
    apikeys.callback_query.register(key_action, KeyAction.filter())
    return apikeys
