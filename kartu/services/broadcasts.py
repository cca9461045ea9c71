"""Owners message a segment of their members, through the paced outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kartu.loyalty.delivery import Category, QuietHours, next_allowed
from kartu.loyalty.errors import BroadcastRunning, NobodyToReach, PromptClosed
from kartu.loyalty.segments import BROADCAST_TEXT_MAX, Segment
from kartu.services.access import require_owner
from kartu.services.base import ServiceBase
from kartu.storage.models import Broadcast, Outlet


@dataclass(frozen=True)
class BroadcastStarted:
    broadcast_id: int
    total: int


@dataclass(frozen=True)
class BroadcastProgress:
    broadcast_id: int
    chat_id: int
    message_id: int
    language: str
    sent: int
    failed: int
    remaining: int
    cancelled: int
    finished: bool
    was_cancelled: bool


@dataclass(frozen=True)
class BroadcastPreview:
    merchant_name: str
    segment: Segment
    audience: int
    # A business with several outlets, before the owner said whose customers: each outlet (id,
    # name, how many of the segment last visited it); the preview waits for the choice.
    outlets: tuple[tuple[int, str, int], ...] = ()
    outlet: str | None = None  # the outlet chosen (None: the whole business)


DONE = ("sent", "failed", "skipped")


class BroadcastService(ServiceBase):
    def _cooldown_since(self) -> datetime:
        return self.clock.now() - timedelta(hours=self.settings.broadcast_cooldown_hours)

    async def audience(
        self, owner_telegram_id: int, segments: Iterable[Segment] = tuple(Segment)
    ) -> dict[Segment, int]:
        """How many members each of ``segments`` reaches now (one COUNT each; none for an empty
        tuple, which only checks the owner may broadcast); refuses while a broadcast is running."""
        now = self.clock.now()
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            if await uow.broadcasts.running(place.merchant.id) is not None:
                raise BroadcastRunning()
            return await uow.broadcasts.counts(
                place.merchant.id, tuple(segments), now, self._cooldown_since()
            )

    async def begin(self, owner_telegram_id: int) -> None:
        """The owner starts writing a broadcast: only an owner, and not while one is going out."""
        await self.audience(owner_telegram_id, segments=())

    async def preview(
        self, owner_telegram_id: int, segment_name: str, scope: str | None = None
    ) -> BroadcastPreview:
        """What the owner is about to send: their shop's name (the message's header) and how many
        members the segment reaches now. In a business with several outlets ``scope`` says whose
        customers ("all", or an outlet's id: those whose last visit was there); without it, the
        outlets to choose from. The tapper is checked before the segment is read."""
        now = self.clock.now()
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            if segment_name not in set(Segment):
                raise PromptClosed("missing")
            segment = Segment(segment_name)
            count = await uow.broadcasts.count(place.merchant.id, segment, now, self._cooldown_since())
            if len(place.outlets) < 2 or scope == "all":
                return BroadcastPreview(place.merchant.name, segment, count)
            if not scope:
                outlets = [
                    (
                        outlet.id,
                        outlet.name,
                        await uow.broadcasts.count(
                            place.merchant.id, segment, now, self._cooldown_since(), outlet.id
                        ),
                    )
                    for outlet in place.outlets
                ]
                return BroadcastPreview(place.merchant.name, segment, count, tuple(outlets))
            outlet = self._outlet(place.outlets, scope)
            count = await uow.broadcasts.count(
                place.merchant.id, segment, now, self._cooldown_since(), outlet.id
            )
            return BroadcastPreview(place.merchant.name, segment, count, outlet=outlet.name)

    @staticmethod
    def _outlet(outlets: Sequence[Outlet], scope: str) -> Outlet:
        """The outlet a broadcast's scope names: one of the business's (else the button is stale or forged)."""
        found = next((outlet for outlet in outlets if str(outlet.id) == scope), None)
        if found is None:
            raise PromptClosed("missing")
        return found

    async def discard(self, owner_telegram_id: int) -> None:
        """The owner drops the message they were writing: nothing is stored yet, so this only
        checks that the tapper may broadcast at all (a stranger's tap learns nothing)."""
        async with self.db.read() as uow:
            await require_owner(uow, owner_telegram_id)

    async def start(
        self,
        owner_telegram_id: int,
        text: str,
        photo_file_id: str | None,
        segment: str,
        scope: str | None = None,
    ) -> BroadcastStarted:
        """Queue the message for everyone in the segment (of one outlet, when ``scope`` names it),
        in one transaction."""
        if segment not in set(Segment):
            raise PromptClosed("missing")
        text = (text or "").strip()[:BROADCAST_TEXT_MAX]
        now = self.clock.now()
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            await uow.broadcasts.lock_merchant(place.merchant.id)
            if await uow.broadcasts.running(place.merchant.id) is not None:
                raise BroadcastRunning()
            broadcast = await uow.broadcasts.add(
                Broadcast(
                    merchant_id=place.merchant.id,
                    created_by_person_id=place.person.id,
                    text=text,
                    photo_file_id=photo_file_id,
                    segment=segment,
                    created_at=now,
                    outlet_id=self._outlet(place.outlets, scope).id if scope and scope != "all" else None,
                )
            )
            not_before = next_allowed(
                now, place.merchant.timezone, QuietHours.parse(place.merchant.quiet_hours), Category.PROMO
            )
            total = await uow.broadcasts.queue(
                broadcast, Segment(segment), now, self._cooldown_since(), not_before
            )
            if total == 0:
                raise NobodyToReach()  # rolls the broadcast back
            broadcast.total = total
            await uow.session.flush()
            return BroadcastStarted(broadcast.id, total)

    async def attach_progress(self, broadcast_id: int, chat_id: int, message_id: int, total: int) -> None:
        """The owner's progress message, which shows ``progress_signature(0, 0, total)`` now."""
        async with self.db.write() as uow:
            await uow.broadcasts.set_progress(
                broadcast_id, chat_id, message_id, progress_signature(0, 0, total, False, False)
            )

    async def cancel(self, owner_telegram_id: int, broadcast_id: int) -> None:
        """Stop a running broadcast: queued messages are dropped; those already sending finish."""
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            broadcast = await uow.broadcasts.get(broadcast_id)
            if broadcast is None or broadcast.merchant_id != place.merchant.id:
                raise PromptClosed("missing")
            if not await uow.broadcasts.set_status(broadcast.id, "cancelling"):
                raise PromptClosed("finished")
            await uow.broadcasts.cancel_pending(broadcast.id)

    async def progress_updates(self) -> list[BroadcastProgress]:
        """Running broadcasts whose counts changed since the owner last saw them; finished
        ones are closed here (and reported once more, as a summary)."""
        updates = []
        async with self.db.write() as uow:
            for broadcast in await uow.broadcasts.all_running():
                counts = await uow.broadcasts.progress(broadcast.id)
                in_flight = counts.get("pending", 0) + counts.get("sending", 0)
                finished = in_flight == 0
                cancelled = broadcast.status == "cancelling"
                if finished and not await uow.broadcasts.set_status(
                    broadcast.id, "cancelled" if cancelled else "finished", self.clock.now()
                ):
                    continue  # another scheduler process finished it
                sent, failed = counts.get("sent", 0), counts.get("failed", 0) + counts.get("skipped", 0)
                # The signature is what the message shows (pending and sending are one number
                # there): an edit that would show the same text is never sent.
                signature = progress_signature(sent, failed, in_flight, finished, cancelled)
                if (
                    broadcast.progress_chat_id is None
                    or broadcast.progress_message_id is None
                    or signature == broadcast.progress_text
                ):
                    continue
                if not await uow.broadcasts.claim_progress(broadcast.id, broadcast.progress_text, signature):
                    continue
                owner = await uow.people.get(broadcast.created_by_person_id)
                updates.append(
                    BroadcastProgress(
                        broadcast.id,
                        broadcast.progress_chat_id,
                        broadcast.progress_message_id,
                        self.language_of(owner) if owner else self.settings.default_language,
                        sent=sent,
                        failed=failed,
                        remaining=in_flight,
                        cancelled=counts.get("cancelled", 0),
                        finished=finished,
                        was_cancelled=cancelled,
                    )
                )
        return updates


def progress_signature(sent: int, failed: int, remaining: int, finished: bool, cancelled: bool) -> str:
    """What a broadcast's progress message shows, as a comparable string."""
    return f"{sent}:{failed}:{remaining}:{finished}:{cancelled}"
