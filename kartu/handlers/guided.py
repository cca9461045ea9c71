"""The one form convention (presenters/guided.py), for every guided input an owner makes: one
question at a time on the screen the form was opened from (edited in place), each answer typed or
tapped and checked by the service at once (a refused one is answered and asked again), ⬅️ Back and
✖️ Cancel on every step, a summary to check, then ✅ Save; the screen turns back into the feature's
own, and the owner's typed answers get a 👍.

A feature registers a `Spec`: the form as its shop asks it (which also checks that the person is
its owner), how one answer is checked (and shown in the summary), how the answers are saved, and
the screen a Cancel goes back to."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReactionTypeEmoji, User
from aiogram.utils.i18n import gettext as _

from kartu.handlers.common import best_effort
from kartu.handlers.filters import OnLoop
from kartu.handlers.states import GuidedForm
from kartu.presenters.callbacks import GuidedAction, GuidedStep
from kartu.presenters.format import HTML, join_html
from kartu.presenters.guided import Guided, one_question, question_screen, saved_line, summary_screen
from kartu.services.container import Services

log = logging.getLogger(__name__)
Screen = tuple[HTML, InlineKeyboardMarkup]


@dataclass(frozen=True)
class Spec:
    form: Callable[
        [Services, int, int], Awaitable[Guided]
    ]  # (owner, subject): the form, after the owner check
    # (owner, field, answer, answers so far, subject): the answer as kept (canonical), and as shown
    check: Callable[[Services, int, str, str, Mapping[str, str], int], Awaitable[tuple[str, str]]]
    save: Callable[
        [Services, int, Mapping[str, str], int], Awaitable[Screen]
    ]  # the answers: the screen after
    back: Callable[[Services, int, int], Awaitable[Screen]]  # the screen the form was opened from


SPECS: dict[str, Spec] = {}


def register(name: str, spec: Spec) -> None:
    SPECS[name] = spec


async def open_form(
    query: CallbackQuery, state: FSMContext, services: Services, name: str, subject: int = 0
) -> None:
    """A button that starts form ``name`` (about ``subject``, when it changes one thing): its first
    question, on the button's screen."""
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    form = await SPECS[name].form(services, query.from_user.id, subject)  # the owner check first
    first = form.next_field({}, None)
    assert first is not None
    await state.set_state(GuidedForm.answer)
    await state.set_data(_Open(name, subject, first, {}, {}, query.message.message_id).data(form))
    text, markup = question_screen(form, first, {}, {})
    await query.answer()
    await best_effort(query.message.edit_text(text, reply_markup=markup))


@dataclass
class _Open:
    """The open form as its state keeps it."""

    name: str
    subject: int
    field: str | None  # None: the summary is showing
    answers: dict[str, str]
    shown: dict[str, str]
    screen: int

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> _Open | None:
        if data.get("form") not in SPECS or not isinstance(data.get("screen"), int):
            return None
        return cls(
            str(data["form"]),
            int(data.get("subject") or 0),
            data.get("field"),
            dict(data.get("answers") or {}),
            dict(data.get("shown") or {}),
            int(data["screen"]),
        )

    def data(self, form: Guided) -> dict[str, Any]:
        return {
            "takes_code": self.field is not None and form.step(self.field).takes_code,
            "form": self.name,
            "subject": self.subject,
            "field": self.field,
            "answers": self.answers,
            "shown": self.shown,
            "screen": self.screen,
        }


async def _show(
    bot: Bot, chat_id: int, opened: _Open, form: Guided, state: FSMContext, fallback: Message
) -> None:
    """The form's screen as it stands now: the next question, or the summary."""
    if opened.field is None:
        text, markup = summary_screen(form, opened.answers, opened.shown)
    else:
        text, markup = question_screen(form, opened.field, opened.answers, opened.shown)
    try:
        await bot.edit_message_text(text, chat_id=chat_id, message_id=opened.screen, reply_markup=markup)
    except TelegramAPIError:  # deleted, or too old to edit: the form carries on below
        sent = await fallback.answer(text, reply_markup=markup)
        opened.screen = sent.message_id
    await state.set_data(opened.data(form))


async def _answer(services: Services, owner: int, opened: _Open, form: Guided, text: str) -> None:
    """Check one answer (a refusal leaves the form where it was) and move to what comes next."""
    assert opened.field is not None
    spec = SPECS[opened.name]
    kept, shown = await spec.check(services, owner, opened.field, text, opened.answers, opened.subject)
    opened.answers[opened.field] = kept
    opened.shown[opened.field] = shown
    opened.field = form.next_field(opened.answers, opened.field)


async def answer_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext, bot: Bot
) -> None:
    await answer_text(message, event_from_user.id, message.text or "", services, state, bot, typed=message)


async def answer_text(
    message: Message,
    owner: int,
    text: str,
    services: Services,
    state: FSMContext,
    bot: Bot,
    *,
    typed: Message | None = None,
) -> None:
    """What the owner typed for the open step (or confirmed as their answer after it looked like a
    code: handlers/forms.py)."""
    opened = _Open.of(await state.get_data())
    if opened is None:
        await state.clear()
        return
    if opened.field is None:
        await message.answer(_("Tap ✅ Save to keep it, or ⬅️ Back to change an answer."))
        return
    form = await SPECS[opened.name].form(services, owner, opened.subject)
    await _answer(services, owner, opened, form, text)
    if typed is not None:
        await best_effort(typed.react([ReactionTypeEmoji(emoji="👍")]))
    await _show(bot, message.chat.id, opened, form, state, message)


async def step_tapped(
    query: CallbackQuery, callback_data: GuidedAction, services: Services, state: FSMContext, bot: Bot
) -> None:
    opened = _Open.of(await state.get_data())
    message = query.message
    if (
        opened is None
        or await state.get_state() != GuidedForm.answer.state
        or not isinstance(message, Message)
        or message.message_id != opened.screen
    ):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    owner, spec = query.from_user.id, SPECS[opened.name]
    form = await spec.form(services, owner, opened.subject)  # the owner check, every tap
    match callback_data.action:
        case GuidedStep.CANCEL:
            await _leave(
                query,
                state,
                await spec.back(services, owner, opened.subject),
                _("Cancelled. Nothing was changed."),
            )
            return
        case GuidedStep.SAVE if opened.field is None:
            screen = await spec.save(services, owner, opened.answers, opened.subject)
            text, markup = screen
            await _leave(query, state, (join_html("\n\n", [saved_line(), text]), markup), _("Saved."))
            return
        case GuidedStep.BACK:
            previous = form.previous_field(opened.answers, opened.field)
            if previous is None:
                await _leave(
                    query, state, await spec.back(services, owner, opened.subject), _("Nothing was changed.")
                )
                return
            names = [step.field for step in form.steps]
            for later in names[names.index(previous) :]:
                opened.answers.pop(later, None)
                opened.shown.pop(later, None)
            opened.field = previous
        case GuidedStep.SKIP if opened.field is not None and form.step(opened.field).optional:
            await _answer(services, owner, opened, form, "")  # the service says what nothing means
        case GuidedStep.PICK if opened.field is not None and callback_data.pick < len(
            form.step(opened.field).choices
        ):
            value = form.step(opened.field).choices[callback_data.pick][0]
            await _answer(services, owner, opened, form, value)
        case _:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
    await query.answer()
    await _show(bot, message.chat.id, opened, form, state, message)


async def _leave(query: CallbackQuery, state: FSMContext, screen: Screen, toast: str) -> None:
    await state.clear()
    await query.answer(toast)
    if isinstance(query.message, Message):
        text, markup = screen
        await best_effort(query.message.edit_text(text, reply_markup=markup))


async def cancel_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext, bot: Bot
) -> None:
    """/cancel inside a guided form: leave it, change nothing, and put its screen back."""
    opened = _Open.of(await state.get_data())
    await state.clear()
    await message.answer(_("Cancelled. Nothing was changed."))
    if opened is not None:
        text, markup = await SPECS[opened.name].back(services, event_from_user.id, opened.subject)
        try:
            await bot.edit_message_text(
                text, chat_id=message.chat.id, message_id=opened.screen, reply_markup=markup
            )
        except TelegramAPIError as error:
            log.info("could not put the screen back: %s", error)


async def ask_on_screen(
    query: CallbackQuery, state: FSMContext, form_state: State, question: HTML, back: str, **data: object
) -> None:
    """A setting changed on its own: the screen the button was on turns into its question, with
    ⬅️ Back (``back``: the callback that shows the screen again)."""
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await state.set_state(form_state)
    await state.set_data({**data, "screen": query.message.message_id})
    text, markup = one_question(question, back)
    await query.answer()
    await best_effort(query.message.edit_text(text, reply_markup=markup))


async def answered_on_screen(message: Message, bot: Bot, state: FSMContext, screen: Screen) -> None:
    """The typed answer was saved: a 👍 on it, and the screen it was asked on shows the result
    (edited in place; a new message when that one is gone)."""
    asked_on = (await state.get_data()).get("screen")
    await state.clear()
    await best_effort(message.react([ReactionTypeEmoji(emoji="👍")]))
    text, markup = screen
    text = join_html("\n\n", [saved_line(), text])
    try:
        if not isinstance(asked_on, int):
            raise LookupError("no screen to update")
        await bot.edit_message_text(text, chat_id=message.chat.id, message_id=asked_on, reply_markup=markup)
    except (TelegramAPIError, LookupError):
        await message.answer(text, reply_markup=markup)


async def not_text(message: Message) -> None:
    await message.answer(_("Please send the answer as text, or /cancel."))


def router() -> Router:
    guided = Router(name="guided")
    guided.message.register(cancel_typed, Command("cancel"), StateFilter(GuidedForm))
    guided.callback_query.register(step_tapped, GuidedAction.filter())
    guided.message.register(
        answer_typed, StateFilter(GuidedForm.answer), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    guided.message.register(not_text, StateFilter(GuidedForm.answer), OnLoop(~F.text))
    return guided
