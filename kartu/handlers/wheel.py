"""Spin the wheel: customers see the odds and spin (/spin); owners set the prizes and what earns a
spin (/wheel)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import best_effort, cancel_form
from kartu.handlers.filters import OnLoop
from kartu.handlers.guided import Screen, Spec, answered_on_screen, ask_on_screen, open_form, register
from kartu.handlers.states import WheelForm
from kartu.loyalty.wheel import PrizeKind, prize_from
from kartu.presenters.callbacks import SpinAction, WheelAction, WheelStep
from kartu.presenters.guided import Guided
from kartu.presenters.wheel import (
    customer_wheel_text,
    prize_field_text,
    prize_form,
    spin_animation,
    wheel_admin_text,
    wheel_question,
)
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
        case WheelStep.ADD:
            await open_form(query, state, services, "prize")
            return
        case _:
            await services.wheel.overview(owner)  # the owner check, before the form opens
            back = WheelAction(action=WheelStep.SHOW).pack()
            await ask_on_screen(query, state, WheelForm.value, wheel_question(step), back, step=str(step))
            return
    await query.answer()
    text, markup = wheel_admin_text(view)
    await best_effort(query.message.edit_text(text, reply_markup=markup))


async def wheel_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext, bot: Bot
) -> None:
    step, owner, typed = str((await state.get_data()).get("step", "")), event_from_user.id, message.text or ""
    if step == WheelStep.DAYS:
        view = await services.wheel.set_valid_days(owner, typed)  # refused: asked again
    else:
        view = await services.wheel.set_rule(owner, typed)
    await answered_on_screen(message, bot, state, wheel_admin_text(view))


# --- the new prize's guided form ------------------------------------------------------------------


async def _prize_form(services: Services, owner: int, subject: int) -> Guided:
    return prize_form(await services.wheel.prize_form(owner))


async def _prize_check(
    services: Services, owner: int, field: str, text: str, answers: Mapping[str, str], subject: int
) -> tuple[str, str]:
    value = await services.wheel.check_prize_field(owner, field, text)
    kept = str(value.value if isinstance(value, PrizeKind) else value if field == "item" else text)
    return kept, prize_field_text(field, value, {**answers, field: kept})


async def _prize_save(services: Services, owner: int, answers: Mapping[str, str], subject: int) -> Screen:
    return wheel_admin_text(await services.wheel.add_prize_line(owner, prize_from(answers)))


async def _wheel_screen(services: Services, owner: int, subject: int) -> Screen:
    return wheel_admin_text(await services.wheel.overview(owner))


register("prize", Spec(_prize_form, _prize_check, _prize_save, _wheel_screen))


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
