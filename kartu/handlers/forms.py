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
from kartu.handlers.broadcasts import BroadcastForm, take_broadcast
from kartu.handlers.callbacks import CodeOrAnswer
from kartu.handlers.owner import ProgramForm, save_setting
from kartu.handlers.staff import show_prompt
from kartu.loyalty.codes import format_code, looks_like_typed_code, normalize_code
from kartu.presenters.format import html
from kartu.services.container import Services

FORMS_THAT_ASK = (ProgramForm.value, BroadcastForm.message)


async def ask_which(message: Message, state: FSMContext) -> None:
    typed = message.text or ""
    await state.update_data(typed=typed)  # the buttons below refer to this, kept server-side
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔑 It is a code"), callback_data=CodeOrAnswer(choice="code"))
    builder.button(text=_("✏️ It is my answer"), callback_data=CodeOrAnswer(choice="answer"))
    builder.adjust(1)
    await message.answer(
        html(_("<code>{code}</code> looks like a code. Did you mean to serve a customer, or is it the answer to your form?"),
             code=format_code(normalize_code(typed) or typed)),
        reply_markup=builder.as_markup(),
    )


async def resolve(query: CallbackQuery, callback_data: CodeOrAnswer, services: Services, state: FSMContext, i18n: KartuI18n, bot: Bot) -> None:
    current = await state.get_state()
    typed = (await state.get_data()).get("typed")
    if not isinstance(typed, str) or current not in {form.state for form in FORMS_THAT_ASK} or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    user_id = query.from_user.id
    if callback_data.choice == "code":
        prompt = await services.counter.open_code(user_id, typed)
        await state.clear()  # the form is left only once the code worked
        await query.answer(_("The form was closed; nothing was changed."))
        await show_prompt(query.message, prompt, i18n)
        return
    await query.answer()
    if current == ProgramForm.value.state:
        await save_setting(query.message, user_id, typed, services, state, bot)
    else:
        await take_broadcast(query.message, user_id, typed, None, services, state)


def router() -> Router:
    forms = Router(name="forms")
    forms.message.register(ask_which, StateFilter(*FORMS_THAT_ASK), F.text.func(looks_like_typed_code))
    forms.callback_query.register(resolve, CodeOrAnswer.filter())
    return forms
