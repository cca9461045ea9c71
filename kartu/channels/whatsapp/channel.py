"""WhatsApp in a running Kartu: pywa's client over Kartu's transport, the sender, the customers'
conversation, the outbox's courier and the webhook receiver, built once per process when
``KARTU_WHATSAPP_PHONE_NUMBER_ID`` and its token are set."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from kartu.bot.i18n import KartuI18n
from kartu.channels.whatsapp.conversation import WhatsAppConversation
from kartu.channels.whatsapp.courier import WhatsAppCourier
from kartu.channels.whatsapp.graph import graph_client, graph_session
from kartu.channels.whatsapp.sender import WhatsAppSender
from kartu.channels.whatsapp.webhook import PATH, WhatsAppReceiver
from kartu.config import Settings
from kartu.loops import repeating
from kartu.services.container import Services

log = logging.getLogger(__name__)
LOOK_EVERY = 30.0


class WhatsAppChannel:
    def __init__(self, settings: Settings, services: Services, i18n: KartuI18n) -> None:
        self.settings = settings
        self.session = graph_session(settings)
        self.client = graph_client(settings, self.session)
        self.sender = WhatsAppSender(self.client, services.whatsapp)
        self.conversation = WhatsAppConversation(self.client, services, i18n, self.sender)
        self.courier = WhatsAppCourier(self.sender, services)
        self.receiver = WhatsAppReceiver(
            services.whatsapp,
            self.conversation.handle,
            app_secret=settings.whatsapp_app_secret,
            verify_token=settings.whatsapp_verify_token,
            phone_number_id=settings.whatsapp_phone_number_id,
            limit=settings.max_concurrent_updates,
            metrics=services.health.metrics,
        )

    @staticmethod
    def wanted(settings: Settings) -> bool:
        return bool(settings.whatsapp_phone_number_id and settings.whatsapp_access_token)

    def register(self, app: web.Application) -> None:
        self.receiver.register(app, PATH)

    @contextlib.asynccontextmanager
    async def serving(self, every: float = LOOK_EVERY) -> AsyncIterator[None]:
        """While the block runs: events a stopped process journaled and never handled are handled."""
        try:
            async with repeating(
                self.receiver.recover, every, "looking for abandoned WhatsApp events failed"
            ):
                yield
        finally:
            await self.receiver.finish()

    async def close(self) -> None:
        await self.session.aclose()
