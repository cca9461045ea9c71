"""Sending to one person on WhatsApp, through pywa over Kartu's transport (graph.py). Each message
that goes out is recorded (``whatsapp_message``) with the shop and person it was for: the owner's
month of WhatsApp messages is counted from these, and Meta's statuses say what each one costs."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup
from pywa_async import WhatsApp

from kartu.channels.whatsapp.screens import WhatsAppScreen, whatsapp
from kartu.presenters.screens import Action, Screen
from kartu.services.whatsapp import WhatsAppService


@dataclass(frozen=True)
class For:
    """Whom a message is for: their WhatsApp id, and the person and shop it is about."""

    address: str
    person_id: int | None = None
    merchant_id: int | None = None


class WhatsAppSender:
    def __init__(self, client: WhatsApp, whatsapp_service: WhatsAppService) -> None:
        self.client = client
        self.service = whatsapp_service

    async def screen(self, to: For, screen: Screen) -> str:
        return await self.shown(to, whatsapp(screen))

    async def shown(self, to: For, shown: WhatsAppScreen) -> str:
        sent = await self.client.send_message(to.address, shown.text, buttons=shown.buttons)
        await self.service.sent(sent.id, to.person_id, to.merchant_id)
        return sent.id

    async def image(self, to: For, png: bytes, caption: str) -> str:
        sent = await self.client.send_image(to.address, png, caption=caption or None, mime_type="image/png")
        await self.service.sent(sent.id, to.person_id, to.merchant_id)
        return sent.id

    async def document(self, to: For, data: bytes, filename: str, caption: str, mime_type: str) -> str:
        sent = await self.client.send_document(
            to.address, data, filename=filename, caption=caption or None, mime_type=mime_type
        )
        await self.service.sent(sent.id, to.person_id, to.merchant_id)
        return sent.id

    async def read(self, message_id: str) -> None:
        """The person's message was seen (two blue ticks): best effort."""
        await self.client.mark_message_as_read(message_id)


def actions_of(markup: InlineKeyboardMarkup | None) -> tuple[Action, ...]:
    """A Telegram keyboard's buttons as a screen's actions (a rating's five stars, a link)."""
    if markup is None:
        return ()
    return tuple(
        Action(button.text, data=button.callback_data, url=button.url)
        for row in markup.inline_keyboard
        for button in row
        if button.callback_data or button.url
    )
