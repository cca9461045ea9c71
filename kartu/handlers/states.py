"""Every guided form's states in one place (aiogram FSM; kept in the database, see bot/conversations.py)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class GuidedForm(StatesGroup):
    """An owner's guided form (handlers/guided.py): the answer to its open step."""

    answer = State()


class MissingStampForm(StatesGroup):
    """ "Missing a stamp?": the day is picked; the receipt's photo is awaited."""

    photo = State()


class FeedbackForm(StatesGroup):
    """After a rating: the customer may write a comment."""

    comment = State()


class ProgramForm(StatesGroup):
    """The owner changes one program setting: the new value."""

    value = State()


class BroadcastForm(StatesGroup):
    """The owner writes a broadcast, picks who gets it, and confirms."""

    message = State()
    segment = State()
    confirm = State()


class KindsForm(StatesGroup):
    """The owner switches stamps to points, converting: how many points a stamp becomes."""

    rate = State()


class AmountForm(StatesGroup):
    """Staff sent a customer's code in a shop running points: how much did they spend?"""

    amount = State()


class CatalogueForm(StatesGroup):
    """The owner changes one field of a catalogue reward (a new one is a guided form)."""

    value = State()


# Forms whose free-text answer could be mistaken for a customer or reward code (handlers/forms.py asks).
FORMS_THAT_ASK = (
    ProgramForm.value,
    BroadcastForm.message,
    CatalogueForm.value,
    GuidedForm.answer,
)


class BirthdayForm(StatesGroup):
    """The customer tells their birthday (day and month)."""

    day = State()


class TierForm(StatesGroup):
    """The owner adds a level or changes one (or the window or grace period): one line."""

    value = State()


class CauseForm(StatesGroup):
    """The owner starts a cause, changes one of its settings or records a payout: one line."""

    value = State()


class GiveForm(StatesGroup):
    """A customer giving points or stamps to the cause: how many?"""

    units = State()


class WheelForm(StatesGroup):
    """The owner adds a prize or changes what earns a spin: one line."""

    value = State()


class PartnerForm(StatesGroup):
    """The owner sets the shop's address or location (a proposal is a guided form)."""

    address = State()
    location = State()


class WebhookForm(StatesGroup):
    """The owner gives a new webhook's address: one line."""

    url = State()
