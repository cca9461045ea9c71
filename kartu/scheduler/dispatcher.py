"""The outbox dispatcher: claims due messages, renders them, sends them at a safe pace.

Delivery guarantee: every queued message is sent unless it is skipped (its subject no longer
needs it, the customer opted out or blocked the bot) or fails for good. Each outcome is committed
right after its send; a dispatcher killed mid-batch leaves its claimed batch to return to the
queue when the claim lease (30 s) lapses. News that carries a result (a card, a reward code) is
sent at least once: one in flight at the kill may arrive twice. A promotion is sent at most once:
its send is recorded as begun, and one begun by a dispatcher that died is not sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, InputFile

from kartu.bot.answers import ANSWERING, not_answering
from kartu.bot.groups import one_person_link, take_out
from kartu.bot.i18n import KartuI18n
from kartu.bot.uploads import uploads_of
from kartu.presenters.notices import Rendered, render_notice, render_progress
from kartu.scheduler.pacing import Pacer
from kartu.services.container import Services
from kartu.services.delivery import Notice
from kartu.storage.courier import Parcel

if TYPE_CHECKING:
    from kartu.channels.whatsapp.courier import WhatsAppCourier

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    throttled: int = 0
    blocked: int = 0
    errors: list[str] = field(default_factory=list)


class OutboxDispatcher:
    def __init__(
        self,
        bot: Bot,
        services: Services,
        i18n: KartuI18n,
        pacer: Pacer,
        *,
        batch_size: int = 100,
        concurrency: int = 8,
        worker: str | None = None,
    ) -> None:
        self.bot = bot
        self.services = services
        self.i18n = i18n
        self.pacer = pacer
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        # Messages for people on WhatsApp (channels/whatsapp/courier.py); None where it is not set up.
        self.whatsapp: WhatsAppCourier | None = None

    async def dispatch_once(self) -> DispatchReport:
        """Deliver one batch of due messages; returns what happened."""
        report = DispatchReport()
        messages = await self.services.delivery.claim(self.worker, self.batch_size)
        report.claimed = len(messages)
        if not messages:
            return report
        slots = asyncio.Semaphore(self.concurrency)
        # Chats in parallel, each chat's messages in queue order: a card before its reward code.
        by_chat: dict[int | str, list[Parcel]] = {}
        for message in messages:
            chat = message.chat_id if message.chat_id is not None else f"person:{message.person_id}"
            by_chat.setdefault(chat, []).append(message)

        async def deliver(chat_messages: list[Parcel]) -> None:
            for message in chat_messages:
                await self._deliver(message, report, slots)

        await asyncio.gather(*(deliver(chat_messages) for chat_messages in by_chat.values()))
        return report

    async def deliver_now(
        self, keys: Sequence[str], composed: Mapping[str, Notice] | None = None
    ) -> DispatchReport:
        """Send these queued messages now, in order (a customer's card, then their reward code),
        straight after the transaction that queued them; ``composed``: what some of them say, as
        that transaction knew it (nothing is read again). What fails stays queued: a 429 or a
        network error is retried by the scheduled dispatcher, so nothing a customer earned is lost."""
        try:
            messages = await self.services.delivery.claim_keys(self.worker, keys)
        except Exception:  # the news stays queued; the tap still succeeded
            log.exception("could not claim %s now; the dispatcher will send it", keys)
            return DispatchReport()
        return await self.deliver_taken(messages, composed)

    async def deliver_taken(
        self, messages: Sequence[Parcel], composed: Mapping[str, Notice] | None = None
    ) -> DispatchReport:
        """As `deliver_now`, for news already taken by this courier: claimed just now, or written
        taken by its transaction (storage/courier.py)."""
        report = DispatchReport(claimed=len(messages))
        try:
            for index, message in enumerate(messages):
                # After a failure, or while Telegram asks everyone to wait, the rest is not sent
                # out of order or by sleeping in a handler: it goes back to the queue.
                if report.failed or report.throttled or report.blocked or self.pacer.paused_for() > 0:
                    rest = [later.id for later in messages[index:]]
                    # Whole seconds, rounded up: never before a 429's retry_after (whole seconds too),
                    # so the queue keeps this order.
                    await self.services.delivery.postpone(rest, max(math.ceil(self.pacer.paused_for()), 1))
                    break
                await self._deliver(message, report, notice=(composed or {}).get(message.idempotency_key))
        except Exception:  # the news stays queued (its claim lapses in 2 minutes); the tap still succeeded
            keys = [message.idempotency_key for message in messages]
            log.exception("could not deliver %s now; the dispatcher will", keys)
        return report

    async def drain(self, max_batches: int = 1000) -> DispatchReport:
        """Dispatch until nothing is due (tests, benchmarks, `kartu outbox drain`)."""
        total = DispatchReport()
        for _ in range(max_batches):
            report = await self.dispatch_once()
            for name in ("claimed", "sent", "skipped", "failed", "throttled", "blocked"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.errors.extend(report.errors)
            if report.claimed == 0:
                break
        return total

    async def _deliver(
        self,
        message: Parcel,
        report: DispatchReport,
        slots: asyncio.Semaphore | None = None,
        notice: Notice | None = None,
    ) -> None:
        """Compose (unless ``notice`` says it already), wait for the pacer's slot, send, record.
        ``slots`` bounds the work, not the waiting: a chat waiting out its one-message-a-second
        gap holds no slot."""
        work = slots or contextlib.nullcontext()  # entered twice: around composing, around sending
        async with work:
            notice = notice or await self.services.delivery.compose(message)
            if notice is None:
                await self.services.delivery.skipped(message.id, "no longer needed")
                report.skipped += 1
                return
            rendered = await render_notice(self.i18n, notice)
        if message.channel == "whatsapp" or message.chat_id is None:
            async with work:
                await self._elsewhere(message, rendered, report)
            return
        await self.pacer.wait_turn(message.chat_id)
        async with work:
            token = not_answering()  # a 429 here pauses the dispatcher and keeps the message queued
            try:
                if message.category == "promo":
                    await self.services.delivery.sending(message.id)
                await self._send(message, rendered, report)
            finally:
                ANSWERING.reset(token)

    async def _elsewhere(self, message: Parcel, rendered: Rendered, report: DispatchReport) -> None:
        """A message for someone on WhatsApp: its courier's, or waiting where WhatsApp is not set up."""
        if self.whatsapp is None:
            await self.services.delivery.failed(message, "WhatsApp is not set up in this process")
            report.failed += 1
            return
        await self.whatsapp.deliver(message, rendered, report)

    async def _doors(self, message: Parcel, rendered: Rendered) -> Rendered:
        """A level's groups: take the recipient out of those they left (ban, then unban so they may
        come back with a new invite), and make a one-person link to each they may join, as a
        button. Best effort: a group where the bot is no longer an admin is logged and skipped."""
        user_id = message.chat_id or 0  # a private chat's id is its user's
        for chat_id in rendered.removals:
            try:
                await take_out(self.bot, chat_id, user_id)
            except TelegramAPIError as error:
                log.warning("could not take %s out of group %s: %s", user_id, chat_id, error.message)
        rows = list(rendered.markup.inline_keyboard) if rendered.markup else []
        now = self.services.delivery.clock.now()
        for chat_id, label in rendered.invites:
            try:
                link = await one_person_link(self.bot, chat_id, user_id, now)
            except TelegramAPIError as error:
                log.warning("could not invite %s to group %s: %s", user_id, chat_id, error.message)
                continue
            rows.append([InlineKeyboardButton(text=label, url=link)])
        return replace(rendered, markup=InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)

    async def _venue(self, chat_id: int, venue: tuple[float, float, str, str]) -> None:
        """The map after a message that names a place: best effort (the text already carries the
        address), and never a reason to send the text again."""
        latitude, longitude, title, address = venue
        try:
            await self.bot.send_venue(chat_id, latitude, longitude, title[:64], address[:128])
        except TelegramAPIError as error:
            log.warning("could not send a venue to %s: %s", chat_id, error.message)

    async def _send(self, message: Parcel, rendered: Rendered, report: DispatchReport) -> None:
        chat_id = message.chat_id or 0  # a Telegram message's (see _deliver)
        try:
            if rendered.invites or rendered.removals:
                rendered = await self._doors(message, rendered)
            try:
                if isinstance(rendered.photo, InputFile) and rendered.photo_key is not None:
                    await uploads_of(self.bot).send(
                        rendered.photo_key,
                        rendered.photo,
                        lambda photo: self.bot.send_photo(
                            chat_id, photo, caption=rendered.text, reply_markup=rendered.markup
                        ),
                    )
                elif rendered.photo:
                    await self.bot.send_photo(
                        chat_id, rendered.photo, caption=rendered.text, reply_markup=rendered.markup
                    )
                else:
                    await self.bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup)
            finally:
                self.pacer.sent(chat_id)
            if rendered.venue is not None:
                await self._venue(chat_id, rendered.venue)
        except TelegramRetryAfter as error:
            self.pacer.pause(error.retry_after)
            await self.services.delivery.throttled(message.id, error.retry_after)
            report.throttled += 1
        except TelegramForbiddenError as error:
            await self.services.delivery.blocked(chat_id, message.id)
            report.blocked += 1
            log.info("chat %s blocked the bot: %s", chat_id, error.message)
        except TelegramBadRequest as error:
            await self.services.delivery.rejected(message.id, error.message)
            report.failed += 1
            report.errors.append(error.message)
        except (TimeoutError, TelegramServerError, TelegramNetworkError, TelegramAPIError, OSError) as error:
            await self.services.delivery.failed(message, str(error))
            report.failed += 1
            report.errors.append(str(error))
        else:
            await self.services.delivery.delivered(message.id)
            report.sent += 1


async def report_broadcast_progress(bot: Bot, services: Services, i18n: KartuI18n) -> int:
    """Update each running broadcast's progress message (and sum up finished ones)."""
    updates = await services.broadcasts.progress_updates()
    for progress in updates:
        rendered = render_progress(i18n, progress)
        try:
            await bot.edit_message_text(
                text=rendered.text,
                chat_id=progress.chat_id,
                message_id=progress.message_id,
                reply_markup=rendered.markup,
            )
        except TelegramAPIError as error:
            log.info("could not update broadcast %s progress: %s", progress.broadcast_id, error)
    return len(updates)
