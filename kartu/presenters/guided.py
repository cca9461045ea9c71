"""Kartu's one form convention, as owners read it: a guided form asks one thing at a time on the
screen it was opened from (edited in place), with ⬅️ Back and ✖️ Cancel on every step, buttons where
the answer is a choice, Skip where it may be left out, and a summary to check before ✅ Save."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.presenters.callbacks import GuidedAction, GuidedStep
from kartu.presenters.format import HTML, html, join_html, plain


@dataclass(frozen=True)
class Step:
    """One question. ``choices``: (value, label) buttons tapped instead of typing; ``optional``: a
    Skip button (the answer is left out); ``when``: asked only when the answers so far say so."""

    field: str
    label: str  # N_(): the field's name in the summary
    question: str  # N_(): what is asked, with its example
    choices: tuple[tuple[str, str], ...] = ()
    optional: bool = False
    when: Callable[[Mapping[str, str]], bool] | None = None
    takes_code: bool = False  # the answer is a code (a shop's): never asked "is it a customer's?"

    def asked(self, answers: Mapping[str, str]) -> bool:
        return self.when is None or self.when(answers)


@dataclass(frozen=True)
class Guided:
    """A form: its title and its steps, in order."""

    title: str  # N_()
    steps: tuple[Step, ...]
    values: Mapping[str, object] = field(default_factory=dict)  # what the questions may name (the shop's)

    def step(self, field_name: str) -> Step:
        return next(step for step in self.steps if step.field == field_name)

    def next_field(self, answers: Mapping[str, str], after: str | None) -> str | None:
        """The first step after ``after`` (``None``: from the start) that is asked; ``None`` when
        the answers are complete."""
        names = [step.field for step in self.steps]
        start = names.index(after) + 1 if after is not None else 0
        return next((step.field for step in self.steps[start:] if step.asked(answers)), None)

    def previous_field(self, answers: Mapping[str, str], before: str | None) -> str | None:
        """The step before ``before`` (``None``: the summary) that was asked; ``None`` at the first."""
        names = [step.field for step in self.steps]
        end = names.index(before) if before is not None else len(names)
        asked = [step.field for step in self.steps[:end] if step.asked(answers)]
        return asked[-1] if asked else None


def _progress(form: Guided, shown: Mapping[str, str], answers: Mapping[str, str]) -> list[HTML]:
    """What was answered so far, as the summary will say it."""
    return [
        html("• {label}: <b>{value}</b>", label=_(step.label), value=shown.get(step.field) or _("—"))
        for step in form.steps
        if step.field in answers and step.asked(answers)
    ]


def question_screen(
    form: Guided, field_name: str, answers: Mapping[str, str], shown: Mapping[str, str]
) -> tuple[HTML, InlineKeyboardMarkup]:
    step = form.step(field_name)
    asked = [item for item in form.steps if item.asked(answers)]
    number = next(index for index, item in enumerate(asked, start=1) if item.field == field_name)
    lines = [
        html(
            "<b>{title}</b> · {step}",
            title=_(form.title),
            step=plain(_("step {number} of {count}"), number=number, count=len(asked)),
        ),
        *_progress(form, shown, answers),
        html(""),
        html(_(step.question), **{key: value for key, value in form.values.items()}),
    ]
    builder = InlineKeyboardBuilder()
    for index, (_value, label) in enumerate(step.choices):
        builder.button(text=_(label), callback_data=GuidedAction(action=GuidedStep.PICK, pick=index))
    if step.optional:
        builder.button(text=_("⏭ Skip"), callback_data=GuidedAction(action=GuidedStep.SKIP))
    builder.button(text=_("⬅️ Back"), callback_data=GuidedAction(action=GuidedStep.BACK))
    builder.button(text=_("✖️ Cancel"), callback_data=GuidedAction(action=GuidedStep.CANCEL))
    rows = [2] * (len(step.choices) // 2) + [1] * (len(step.choices) % 2)
    builder.adjust(*rows, *([1] if step.optional else []), 2)
    return join_html("\n", lines), builder.as_markup()


def summary_screen(
    form: Guided, answers: Mapping[str, str], shown: Mapping[str, str]
) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [
        html(_("<b>{title}</b> · check it before saving"), title=_(form.title)),
        *_progress(form, shown, answers),
    ]
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Save"), callback_data=GuidedAction(action=GuidedStep.SAVE))
    builder.button(text=_("⬅️ Back"), callback_data=GuidedAction(action=GuidedStep.BACK))
    builder.button(text=_("✖️ Cancel"), callback_data=GuidedAction(action=GuidedStep.CANCEL))
    builder.adjust(1, 2)
    return join_html("\n", lines), builder.as_markup()


def one_question(question: HTML, back: str) -> tuple[HTML, InlineKeyboardMarkup]:
    """A setting changed on its own screen: the question, and ⬅️ Back to the screen as it was."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⬅️ Back"), callback_data=back)
    return join_html("\n", [question, html(_("Or tap Back to keep it."))]), builder.as_markup()


def saved_line() -> HTML:
    return html(_("✅ Saved."))
