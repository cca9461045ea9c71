"""Spin the wheel: customers see the odds and spin (/spin); owners set the prizes and what earns a
spin (/wheel)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import ask_in_form, best_effort, cancel_form
from kartu.handlers.filters import OnLoop
from kartu.handlers.states import WheelForm
from kartu.presenters.callbacks import SpinAction, WheelAction, WheelStep
from kartu.presenters.wheel import customer_wheel_text, spin_animation, wheel_admin_text, wheel_question
from kartu.services.container import Services

if TYPE_CHECKING:
    from kartu.scheduler.dispatcher import OutboxDispatcher

log = logging.getLogger(__name__)


async def show_wheel(message: Message, event_from_user: User, services: Services, i18n: KartuI18n) -> None:
    text, markup = customer_wheel_text(
        await services.wheel.for_customer(event_from_user.id), i18n.current_locale
    )
    await message.answer(text, reply_markup=markup)


async def spin(query: CallbackQuery, services: Services, courier: OutboxDispatcher) -> None:
    """The outcome and the prize are written first; then the wheel turns to it, then the result
    (through the outbox, so a failed animation loses nothing)."""
    outcome = await services.wheel.spin(query.from_user.id)
    await query.answer()
    if isinstance(query.message, Message):
        try:
            await query.message.answer_animation(await spin_animation(outcome), caption="🎡")
        except TelegramAPIError as error:
            log.warning("could not show the wheel to %s: %s", query.from_user.id, error)
    await courier.deliver_now(outcome.news)


async def show_wheel_admin(
    message: Message, event_from_user: User, services: Services, state: FSMContext
) -> None:
    await state.clear()
    text, markup = wheel_admin_text(await services.wheel.overview(event_from_user.id))
    await message.answer(text, reply_markup=markup)


async def wheel_action(
    query: CallbackQuery, callback_data: WheelAction, services: Services, state: FSMContext
) -> None:
    owner, step = query.from_user.id, callback_data.action
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    match step:
        case WheelStep.SHOW:
            await state.clear()
            view = await services.wheel.overview(owner)
        case WheelStep.DELETE:
            view = await services.wheel.delete_prize(owner, callback_data.prize_id)
        case _:
            await services.wheel.overview(owner)  # the owner check, before the form opens
            await ask_in_form(query, state, WheelForm.value, wheel_question(step), step=str(step))
            return
    await query.answer()
    text, markup = wheel_admin_text(view)
    await best_effort(query.message.edit_text(text, reply_markup=markup))


async def wheel_typed(message: Message, event_from_user: User, services: Services, state: FSMContext) -> None:
    step, owner, typed = str((await state.get_data()).get("step", "")), event_from_user.id, message.text or ""
    match step:
        case WheelStep.RULE:
            view = await services.wheel.set_rule(owner, typed)
        case WheelStep.DAYS:
            view = await services.wheel.set_valid_days(owner, typed)
        case _:
            view = await services.wheel.add_prize(owner, typed)  # refused: asked again
    await state.clear()
    text, markup = wheel_admin_text(view)
    await message.answer(text, reply_markup=markup)


def router() -> Router:
    wheel = Router(name="wheel")
    wheel.message.register(cancel_form, Command("cancel"), StateFilter(WheelForm))
    wheel.message.register(show_wheel, Command("spin", "putar"))
    wheel.message.register(show_wheel_admin, Command("wheel"))
    wheel.callback_query.register(spin, SpinAction.filter())
    wheel.callback_query.register(wheel_action, WheelAction.filter())
    wheel.message.register(
        wheel_typed, StateFilter(WheelForm.value), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    return wheel
