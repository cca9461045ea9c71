"""The owner's webhooks: list them, add one (its secret shown once), pause, resume, give a new
secret (shown once), delete."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import best_effort, cancel_form
from kartu.handlers.filters import OnLoop
from kartu.handlers.guided import answered_on_screen, ask_on_screen
from kartu.handlers.states import WebhookForm
from kartu.presenters.callbacks import HookAction, HookStep
from kartu.presenters.format import HTML
from kartu.presenters.webhooks import events_text, new_webhook_text, rotated_text, url_question, webhooks_text
from kartu.services.container import Services


async def _screen(services: Services, owner: int, i18n: KartuI18n) -> tuple[HTML, InlineKeyboardMarkup]:
    timezone, endpoints = await services.webhooks.endpoints_of_owner(owner)
    return webhooks_text(endpoints, timezone, i18n.current_locale)


async def show_webhooks(message: Message, event_from_user: User, services: Services, i18n: KartuI18n) -> None:
    text, markup = await _screen(services, event_from_user.id, i18n)
    await message.answer(text, reply_markup=markup)


async def hook_action(
    query: CallbackQuery, callback_data: HookAction, services: Services, i18n: KartuI18n, state: FSMContext
) -> None:
    owner = query.from_user.id
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    if callback_data.action == HookStep.ADD:
        await services.webhooks.endpoints_of_owner(owner)  # the owner check, before the form opens
        await ask_on_screen(
            query, state, WebhookForm.url, url_question(), HookAction(action=HookStep.BACK).pack()
        )
        return
    if callback_data.action in (HookStep.EVENTS, HookStep.TOGGLE):
        if callback_data.action == HookStep.EVENTS:
            endpoint = await services.webhooks.endpoint_of_owner(owner, callback_data.endpoint_id)
        else:
            endpoint = await services.webhooks.toggle_event(
                owner, callback_data.endpoint_id, callback_data.event
            )
        text, markup = events_text(endpoint)
        await query.answer()
        await best_effort(query.message.edit_text(text, reply_markup=markup))
        return
    if callback_data.action == HookStep.ROTATE:
        endpoint, secret = await services.webhooks.rotate(owner, callback_data.endpoint_id)
        await query.answer()
        await query.message.answer(rotated_text(endpoint, secret))  # the secret, once, in its own message
        return
    if callback_data.action == HookStep.BACK:
        text, markup = await _screen(services, owner, i18n)  # the owner check, before anything shows
        await query.answer()
        await best_effort(query.message.edit_text(text, reply_markup=markup))
        return
    await services.webhooks.change(owner, callback_data.endpoint_id, str(callback_data.action))
    await query.answer(
        {
            HookStep.PAUSE: _("Paused. Its events wait, up to three days, until you resume it."),
            HookStep.RESUME: _("Resumed. Waiting events are sent now."),
        }.get(callback_data.action, _("Deleted. It gets no more events."))
    )
    text, markup = await _screen(services, owner, i18n)
    await best_effort(query.message.edit_text(text, reply_markup=markup))


async def url_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext, i18n: KartuI18n, bot: Bot
) -> None:
    endpoint, secret = await services.webhooks.add(
        event_from_user.id, message.text or ""
    )  # refused: asked again
    await message.answer(
        new_webhook_text(endpoint, secret)
    )  # the secret, shown once, in a message of its own
    await answered_on_screen(message, bot, state, await _screen(services, event_from_user.id, i18n))


def router() -> Router:
    webhooks = Router(name="webhooks")
    webhooks.message.register(cancel_form, Command("cancel"), StateFilter(WebhookForm))
    webhooks.message.register(show_webhooks, Command("webhooks"))
    webhooks.callback_query.register(hook_action, HookAction.filter())
    webhooks.message.register(
        url_typed, StateFilter(WebhookForm.url), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    return webhooks
