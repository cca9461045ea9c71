"""Sending to one person on WhatsApp, through pywa over Kartu's transport (graph.py). Each message
that goes out is recorded (``whatsapp_message``) with the shop and person it was for: the owner's
month of WhatsApp messages is counted from these, and Meta's statuses say what each one costs.

Every send of the process (answers and the outbox's news alike) takes its turn at the number's
pace (80 a second, Meta's throughput for a number); should Meta still answer 130429, the number
pauses a second and the send is tried again, at most three times."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from pywa.errors import RateLimitHit
from pywa_async import WhatsApp

from kartu.channels.whatsapp.screens import WhatsAppScreen, whatsapp
from kartu.loyalty.messaging import NUMBER_RATE
from kartu.presenters.screens import Action, Screen
from kartu.scheduler.pacing import Pacer
from kartu.services.whatsapp import WhatsAppService

NUMBER_TRIES = 3


@dataclass(frozen=True)
class For:
    """Whom a message is for: their WhatsApp id, and the person and shop it is about."""

    address: str
    person_id: int | None = None
    merchant_id: int | None = None


class WhatsAppSender:
    def __init__(
        self, client: WhatsApp, whatsapp_service: WhatsAppService, pacer: Pacer | None = None
    ) -> None:
        self.client = client
        self.service = whatsapp_service
        self.pacer = pacer or Pacer(NUMBER_RATE, per_chat_interval=0.0)  # the number's, shared

    async def screen(self, to: For, screen: Screen) -> str:
        return await self.shown(to, whatsapp(screen))

    async def shown(self, to: For, shown: WhatsAppScreen) -> str:
        return await self._send(
            to, lambda: self.client.send_message(to.address, shown.text, buttons=shown.buttons)
        )

    async def image(self, to: For, png: bytes, caption: str) -> str:
        return await self._send(
            to,
            lambda: self.client.send_image(to.address, png, caption=caption or None, mime_type="image/png"),
        )

    async def document(self, to: For, data: bytes, filename: str, caption: str, mime_type: str) -> str:
        return await self._send(
            to,
            lambda: self.client.send_document(
                to.address, data, filename=filename, caption=caption or None, mime_type=mime_type
            ),
        )

    async def _send(self, to: For, send: Callable[[], Awaitable[Any]]) -> str:
        for attempt in range(1, NUMBER_TRIES + 1):
            await self.pacer.wait_turn(0)
            try:
                sent = await send()
                break
            except RateLimitHit:
                if attempt == NUMBER_TRIES:
                    raise
                self.pacer.pause(1.0)
        await self.service.sent(sent.id, to.person_id, to.merchant_id)
        return str(sent.id)

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
