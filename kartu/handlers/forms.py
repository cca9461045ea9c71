"""Staff in the middle of a form (the program editor, a broadcast) who type something that
looks like a customer or reward code: ask which was meant instead of guessing."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.bot.i18n import KartuI18n
from kartu.handlers.broadcasts import take_broadcast
from kartu.handlers.filters import OnLoop
from kartu.handlers.guided import answer_text
from kartu.handlers.owner import save_setting
from kartu.handlers.points import take_item_answer
from kartu.handlers.staff import ask_amount, show_prompt
from kartu.handlers.states import FORMS_THAT_ASK, CatalogueForm, GuidedForm, ProgramForm
from kartu.loyalty.codes import format_code, looks_like_typed_code, normalize_code
from kartu.loyalty.errors import AmountNeeded
from kartu.presenters.callbacks import CodeOrAnswer, FormChoice
from kartu.presenters.format import html
from kartu.services.container import Services


async def ask_which(message: Message, state: FSMContext, services: Services, bot: Bot) -> None:
    typed = message.text or ""
    if await state.get_state() == GuidedForm.answer.state and (await state.get_data()).get("takes_code"):
        # the open step asks for a code (a partner shop's): it is the answer
        await answer_text(message, message.chat.id, typed, services, state, bot, typed=message)
        return
    await state.update_data(typed=typed)  # the buttons below refer to this, kept server-side
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔑 It is a code"), callback_data=CodeOrAnswer(choice=FormChoice.CODE))
    builder.button(text=_("✏️ It is my answer"), callback_data=CodeOrAnswer(choice=FormChoice.ANSWER))
    builder.adjust(1)
    await message.answer(
        html(
            _(
                "<code>{code}</code> looks like a code. Did you mean to serve a customer, or is it the answer to your form?"
            ),
            code=format_code(normalize_code(typed) or typed),
        ),
        reply_markup=builder.as_markup(),
    )


async def _typed_into_form(query: CallbackQuery, state: FSMContext) -> tuple[str, str] | None:
    """The form and the code-like text the buttons refer to (kept server-side), if still open."""
    current = await state.get_state()
    typed = (await state.get_data()).get("typed")
    if (
        current is None
        or not isinstance(typed, str)
        or current not in {form.state for form in FORMS_THAT_ASK}
        or not isinstance(query.message, Message)
    ):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return None
    return current, typed


async def it_is_a_code(query: CallbackQuery, services: Services, state: FSMContext, i18n: KartuI18n) -> None:
    found = await _typed_into_form(query, state)
    if found is None or not isinstance(query.message, Message):
        return
    try:
        prompt = await services.counter.open_code(query.from_user.id, found[1])
    except AmountNeeded as needed:  # the form is left only once the code worked
        await query.answer(_("The form was closed; nothing was changed."))
        await ask_amount(query.message, state, needed)
        return
    await state.clear()
    await query.answer(_("The form was closed; nothing was changed."))
    await show_prompt(query.message, prompt, i18n)


async def it_is_my_answer(query: CallbackQuery, services: Services, state: FSMContext, bot: Bot) -> None:
    found = await _typed_into_form(query, state)
    if found is None or not isinstance(query.message, Message):
        return
    current, typed = found
    await query.answer()
    if current == GuidedForm.answer.state:
        await answer_text(query.message, query.from_user.id, typed, services, state, bot)
    elif current == ProgramForm.value.state:
        await save_setting(query.message, query.from_user.id, typed, services, state, bot)
    elif current == CatalogueForm.value.state:
        await take_item_answer(query.message, query.from_user.id, typed, None, services, state, bot)
    else:
        await take_broadcast(query.message, query.from_user.id, typed, None, services, state)


def router() -> Router:
    forms = Router(name="forms")
    forms.message.register(
        ask_which, StateFilter(*FORMS_THAT_ASK), OnLoop(F.text.func(looks_like_typed_code))
    )
    forms.callback_query.register(it_is_a_code, CodeOrAnswer.filter(F.choice == FormChoice.CODE))
    forms.callback_query.register(it_is_my_answer, CodeOrAnswer.filter(F.choice == FormChoice.ANSWER))
    return forms
