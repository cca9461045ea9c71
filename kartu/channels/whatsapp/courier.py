"""The outbox's messages for people on WhatsApp (scheduler/dispatcher.py hands them here). A
message goes out only to someone who agreed to the shop's messages, and only inside their 24-hour
window; due outside it, it waits as "needs a template" (shown to the owner) and goes out when they
next write, if it is still news. At most one message every 6 seconds to one person and 80 a
second from the number. Meta's refusals are never retried blindly: 131047 (window closed by Meta's
clock) waits like the rest, 131056 (too fast for this person) and 130429 (the number's
throughput) put the message back for later, 131026 (not a WhatsApp user any more) ends it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httpx
from aiogram.types import BufferedInputFile
from pywa.errors import (
    MessageUndeliverable,
    RateLimitHit,
    ReEngagementMessage,
    TooManyMessages,
    WhatsAppError,
)

from kartu.channels.whatsapp.screens import ScreenDoesNotFit
from kartu.channels.whatsapp.sender import For, WhatsAppSender, actions_of
from kartu.channels.whatsapp.text import whatsapp_text
from kartu.loyalty.messaging import NUMBER_RATE, PER_PERSON_GAP, Reach
from kartu.presenters.notices import Rendered
from kartu.presenters.screens import Screen
from kartu.scheduler.pacing import Pacer
from kartu.services.container import Services
from kartu.storage.courier import Parcel

if TYPE_CHECKING:
    from kartu.scheduler.dispatcher import DispatchReport

log = logging.getLogger(__name__)


class WhatsAppCourier:
    def __init__(self, sender: WhatsAppSender, services: Services, pacer: Pacer | None = None) -> None:
        self.sender = sender
        self.services = services
        # One message every 6 s to a person (the number's own pace is the sender's).
        self.pacer = pacer or Pacer(NUMBER_RATE, per_chat_interval=PER_PERSON_GAP)

    async def deliver(self, message: Parcel, rendered: Rendered, report: DispatchReport) -> None:
        before = (report.sent, report.skipped, report.throttled, report.failed)
        try:
            await self._deliver(message, rendered, report)
        finally:
            after = (report.sent, report.skipped, report.throttled, report.failed)
            for what, was, now in zip(("sent", "waiting", "throttled", "failed"), before, after, strict=True):
                if now > was:
                    self.services.health.metrics.whatsapp.labels(what).inc(now - was)

    async def _deliver(self, message: Parcel, rendered: Rendered, report: DispatchReport) -> None:
        delivery = self.services.delivery
        person_id = message.person_id or 0
        contact = await self.services.whatsapp.contactable(person_id)
        if contact is None or contact.reach is Reach.NO_CONSENT:
            await delivery.skipped(message.id, "no WhatsApp consent")
            report.skipped += 1
            return
        if contact.reach is Reach.NEEDS_TEMPLATE:
            await delivery.needs_template(message.id, "outside the customer's 24-hour window")
            report.skipped += 1
            return
        to = For(contact.address, person_id, message.merchant_id)
        await self.pacer.wait_turn(person_id)
        try:
            try:
                if isinstance(rendered.photo, BufferedInputFile):
                    await self.sender.image(to, rendered.photo.data, whatsapp_text(rendered.text))
                else:
                    await self.sender.screen(to, Screen(rendered.text, actions_of(rendered.markup)))
            finally:
                self.pacer.sent(person_id)
        except ReEngagementMessage:
            await delivery.needs_template(message.id, "131047: outside the customer's 24-hour window")
            report.skipped += 1
        except TooManyMessages:
            await delivery.throttled(message.id, PER_PERSON_GAP)
            report.throttled += 1
        except RateLimitHit:  # the sender's tries spent: the number is busy
            await delivery.throttled(message.id, 1.0)
            report.throttled += 1
        except (MessageUndeliverable, ScreenDoesNotFit) as error:
            await delivery.rejected(message.id, str(error))
            report.failed += 1
            report.errors.append(str(error))
            log.warning("WhatsApp message %s refused for good: %s", message.id, error)
        except (WhatsAppError, httpx.HTTPError, OSError) as error:
            await delivery.failed(message, str(error))
            report.failed += 1
            report.errors.append(str(error))
        else:
            await delivery.delivered(message.id)
            report.sent += 1
