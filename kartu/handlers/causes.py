"""Giving to a cause: customers see it (/cause) and give points, stamps or a reward; owners run it
(/causes): start, settings, payouts, end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import best_effort, cancel_form
from kartu.handlers.filters import OnLoop
from kartu.handlers.guided import Screen, Spec, answered_on_screen, ask_on_screen, open_form, register
from kartu.handlers.states import CauseForm, GiveForm
from kartu.loyalty.causes import Asset
from kartu.presenters.callbacks import CauseAction, CauseStep, Decision, GiftDecision, GiveAction, GiveStep
from kartu.presenters.causes import (
    CAUSE_FORM,
    PAYOUT_FORM,
    cause_field_text,
    cause_photo,
    cause_question,
    customer_cause_text,
    end_question,
    gift_text,
    offer_text,
    owner_cause_text,
    rewards_to_give,
    units_question,
)
from kartu.presenters.format import i18n_locale
from kartu.presenters.guided import Guided
from kartu.services.causes import OwnerCause
from kartu.services.container import Services

# --- customers -----------------------------------------------------------------------------------


async def show_cause(message: Message, event_from_user: User, services: Services, i18n: KartuI18n) -> None:
    view = await services.causes.for_customer(event_from_user.id)
    caption, markup = customer_cause_text(view, i18n.current_locale)
    await message.answer_photo(await cause_photo(view.cause), caption=caption, reply_markup=markup)


async def choose_gift(
    query: CallbackQuery, callback_data: GiveAction, services: Services, state: FSMContext
) -> None:
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    view = await services.causes.for_customer(query.from_user.id)
    await query.answer()
    if callback_data.asset == GiveStep.REWARDS and not callback_data.reward_id:
        text, markup = rewards_to_give(view)
        await query.message.answer(text, reply_markup=markup)
        return
    if callback_data.asset == GiveStep.REWARDS:
        offer = await services.causes.offer(
            query.from_user.id, Asset.REWARD, reward_id=callback_data.reward_id
        )
        text, markup = offer_text(offer)
        await query.message.answer(text, reply_markup=markup)
        return
    await state.set_state(GiveForm.units)
    await state.set_data({"asset": str(callback_data.asset)})
    await query.message.answer(units_question(view, str(callback_data.asset)))


async def units_typed(message: Message, event_from_user: User, services: Services, state: FSMContext) -> None:
    asset = str((await state.get_data()).get("asset", Asset.POINTS))
    offer = await services.causes.offer(event_from_user.id, asset, message.text)  # refused: asked again
    await state.clear()
    text, markup = offer_text(offer)
    await message.answer(text, reply_markup=markup)


async def decide_gift(query: CallbackQuery, callback_data: GiftDecision, services: Services) -> None:
    if callback_data.action == Decision.CANCEL:
        await services.causes.cancel(query.from_user.id, callback_data.token)
        await query.answer(_("Cancelled. Nothing was given."))
        if isinstance(query.message, Message):
            await best_effort(query.message.edit_reply_markup(reply_markup=None))
        return
    result = await services.causes.give(query.from_user.id, callback_data.token)
    await query.answer()
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_reply_markup(reply_markup=None))
        await query.message.answer(gift_text(result))


# --- owners --------------------------------------------------------------------------------------


async def _show_owner(target: Message, view: OwnerCause, i18n: KartuI18n, *, edit: bool) -> None:
    text, markup = owner_cause_text(view, i18n.current_locale)
    if edit:
        await best_effort(target.edit_text(text, reply_markup=markup))
    else:
        await target.answer(text, reply_markup=markup)


async def show_causes(
    message: Message, event_from_user: User, services: Services, state: FSMContext, i18n: KartuI18n
) -> None:
    await state.clear()
    await _show_owner(message, await services.causes.overview(event_from_user.id), i18n, edit=False)


async def cause_action(
    query: CallbackQuery, callback_data: CauseAction, services: Services, state: FSMContext, i18n: KartuI18n
) -> None:
    owner, step = query.from_user.id, callback_data.action
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    match step:
        case CauseStep.SHOW:
            await state.clear()
            view = await services.causes.overview(owner)
        case CauseStep.END:
            text, markup = end_question(await services.causes.overview(owner))
            await query.answer()
            await best_effort(query.message.edit_text(text, reply_markup=markup))
            return
        case CauseStep.END_CONFIRMED:
            view = await services.causes.end(owner)
            await query.answer(_("Ended. Everyone who gave will be told."))
            await _show_owner(query.message, view, i18n, edit=True)
            return
        case CauseStep.START:
            await open_form(query, state, services, "cause")
            return
        case CauseStep.PAYOUT:
            await services.causes.overview(owner)
            await open_form(query, state, services, "payout")
            return
        case _:  # one setting of the running cause
            await services.causes.overview(owner)  # the owner check, before the form opens
            back = CauseAction(action=CauseStep.SHOW).pack()
            await ask_on_screen(query, state, CauseForm.value, cause_question(step), back, step=str(step))
            return
    await query.answer()
    await _show_owner(query.message, view, i18n, edit=True)


async def cause_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext, i18n: KartuI18n, bot: Bot
) -> None:
    step, owner, typed = str((await state.get_data()).get("step", "")), event_from_user.id, message.text or ""
    view = await services.causes.change(owner, step, typed)  # refused: asked again
    await answered_on_screen(message, bot, state, owner_cause_text(view, i18n.current_locale))


# --- the guided forms: a new cause, a payout ------------------------------------------------------


def _checker(form: str) -> Callable[..., Awaitable[tuple[str, str]]]:
    async def check(
        services: Services, owner: int, field: str, text: str, answers: Mapping[str, str], subject: int
    ) -> tuple[str, str]:
        value = await services.causes.check_field(owner, form, field, text)
        return text, cause_field_text(value, i18n_locale())

    return check


async def _causes_screen(services: Services, owner: int, subject: int) -> Screen:
    return owner_cause_text(await services.causes.overview(owner), i18n_locale())


async def _save_cause(services: Services, owner: int, answers: Mapping[str, str], subject: int) -> Screen:
    view = await services.causes.start_cause(owner, answers["name"], answers["target"], answers["last_day"])
    return owner_cause_text(view, i18n_locale())


async def _save_payout(services: Services, owner: int, answers: Mapping[str, str], subject: int) -> Screen:
    view = await services.causes.pay_out(
        owner, answers["amount"], answers.get("day", ""), answers.get("note", "")
    )
    return owner_cause_text(view, i18n_locale())


async def _cause_form(services: Services, owner: int, subject: int) -> Guided:
    await services.causes.overview(owner)  # the owner check
    return CAUSE_FORM


async def _payout_form(services: Services, owner: int, subject: int) -> Guided:
    await services.causes.overview(owner)
    return PAYOUT_FORM


register("cause", Spec(_cause_form, _checker("cause"), _save_cause, _causes_screen))
register("payout", Spec(_payout_form, _checker("payout"), _save_payout, _causes_screen))


def router() -> Router:
    causes = Router(name="causes")
    causes.message.register(cancel_form, Command("cancel"), StateFilter(CauseForm, GiveForm))
    causes.message.register(show_cause, Command("cause", "donasi"))
    causes.message.register(show_causes, Command("causes"))
    causes.callback_query.register(choose_gift, GiveAction.filter())
    causes.callback_query.register(decide_gift, GiftDecision.filter())
    causes.callback_query.register(cause_action, CauseAction.filter())
    causes.message.register(
        units_typed, StateFilter(GiveForm.units), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    causes.message.register(
        cause_typed, StateFilter(CauseForm.value), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    return causes
