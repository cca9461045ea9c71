"""A screen (presenters/screens.py) as WhatsApp shows it: the text in WhatsApp's markup; up to 3
replies as buttons, 4 to 10 (or any with a detail) as a list, one web address as a link button.
A screen WhatsApp cannot show (more than 10 actions, a link beside replies) raises
`ScreenDoesNotFit`: a test meets it, not a customer. Labels longer than WhatsApp takes are cut with
an ellipsis (the tap is known by its data, not its label)."""

from __future__ import annotations

from dataclasses import dataclass

from pywa.types import Button, Section, SectionList, SectionRow, URLButton

from kartu.channels.whatsapp.text import inert, whatsapp_text
from kartu.presenters.screens import Action, Screen

BUTTONS_MAX, BUTTON_TITLE_MAX = 3, 20
ROWS_MAX, ROW_TITLE_MAX, ROW_DETAIL_MAX, LIST_LABEL_MAX = 10, 24, 72, 20
TEXT_MAX, BODY_MAX = 4096, 1024  # a text alone; a text with buttons or a list


class ScreenDoesNotFit(ValueError):
    """A screen WhatsApp cannot show as it is."""


@dataclass(frozen=True)
class WhatsAppScreen:
    text: str
    buttons: list[Button] | SectionList | URLButton | None = None


def whatsapp(screen: Screen) -> WhatsAppScreen:
    text = whatsapp_text(screen.text)
    links = [action for action in screen.actions if action.url]
    replies = [action for action in screen.actions if not action.url]
    if len(text) > (BODY_MAX if screen.actions else TEXT_MAX):
        raise ScreenDoesNotFit(f"{len(text)} characters of text")
    if links and (replies or len(links) > 1):
        raise ScreenDoesNotFit("WhatsApp shows one link button, alone")
    if links:
        return WhatsAppScreen(text, URLButton(_fit(links[0].label, BUTTON_TITLE_MAX), str(links[0].url)))
    if not replies:
        return WhatsAppScreen(text)
    if len(replies) <= BUTTONS_MAX and not any(action.detail for action in replies):
        return WhatsAppScreen(
            text, [Button(_fit(action.label, BUTTON_TITLE_MAX), _data(action)) for action in replies]
        )
    if len(replies) > ROWS_MAX:
        raise ScreenDoesNotFit(f"{len(replies)} choices; a list holds {ROWS_MAX}")
    label = _fit(screen.choose or replies[0].label, LIST_LABEL_MAX)
    rows = [
        SectionRow(
            _fit(action.label, ROW_TITLE_MAX),
            _data(action),
            description=_fit(action.detail, ROW_DETAIL_MAX) if action.detail else None,
        )
        for action in replies
    ]
    return WhatsAppScreen(text, SectionList(label, [Section(_fit(label, ROW_TITLE_MAX), rows)]))


def _data(action: Action) -> str:
    if not action.data:
        raise ScreenDoesNotFit(f"{action.label!r} has neither data nor an address")
    return action.data


def _fit(label: str, limit: int) -> str:
    """A label within WhatsApp's limit (what people named, inert), cut with an ellipsis."""
    shown = inert(label)
    return shown if len(shown) <= limit else shown[: limit - 1].rstrip() + "…"
