"""The sweeps the scheduler runs: expire stamps and rewards, queue reminders before they lapse."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import timedelta

from kartu.loyalty.delivery import (
    REMINDERS_PER_MINUTE,
    Category,
    Kind,
    QuietHours,
    next_allowed,
    reminder_slots,
)
from kartu.loyalty.expiry import parse_reminder_days
from kartu.services.base import ServiceBase
from kartu.services.bonuses import BonusService
from kartu.services.causes import CauseService
from kartu.services.membership import MembershipService
from kartu.services.partners import PartnerService
from kartu.services.tiers import TierService
from kartu.services.webhooks import tell
from kartu.services.wheel import WheelService
from kartu.storage.models import Merchant, Program

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepReport:
    merchants: int = 0
    cards_expired: int = 0
    rewards_expired: int = 0
    reminders_queued: int = 0
    point_batches_expired: int = 0
    bonuses_given: int = 0  # birthdays today, and referrals paid
    levels_changed: int = 0  # cards warned or moved down at the periodic review
    causes_done: int = 0  # causes that reached their target or ended (their givers are told)
    spins_lapsed: int = 0
    partnerships_settled: int = 0  # last month's partner vouchers told to both shops
    memberships_ended: int = 0
    merchants_failed: int = 0  # a shop whose sweep raised: logged, the other shops still swept

    def __add__(self, other: SweepReport) -> SweepReport:
        return SweepReport(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


# Telegram re-delivers an unacknowledged update for at most 24 hours; ids are kept twice that.
UPDATE_IDS_KEPT = timedelta(days=2)
# Meta posts a WhatsApp event again for up to 7 days; its id is kept a day longer. What was sent
# stays 13 months: the owner's months of WhatsApp messages, this one and last year's.
WHATSAPP_EVENTS_KEPT, WHATSAPP_SENT_KEPT = timedelta(days=8), timedelta(days=400)


class UpkeepService(ServiceBase):
    async def sweep(self) -> SweepReport:
        """One pass over every merchant; each merchant in its own transaction."""
        async with self.db.read() as uow:
            merchants = await uow.merchants.with_programs()
        async with self.db.write() as uow:
            await uow.updates.forget_before(self.clock.now() - UPDATE_IDS_KEPT)
            await uow.whatsapp.forget_before(
                self.clock.now() - WHATSAPP_EVENTS_KEPT, self.clock.now() - WHATSAPP_SENT_KEPT
            )
            await uow.apikeys.forget_expired(self.clock.now())  # Idempotency-Keys live 24 hours
        report = SweepReport()
        for merchant, program in merchants:
            try:
                report += await self._sweep_merchant(merchant, program)
            except Exception:  # one shop's failure must not stop every other shop's sweep
                log.exception("sweep of merchant %s failed", merchant.id)
                report += SweepReport(merchants=1, merchants_failed=1)
        return report

    async def _sweep_merchant(self, merchant: Merchant, program: Program) -> SweepReport:
        now = self.clock.now()
        expiry = timedelta(days=program.stamp_expiry_days)
        try:
            offsets = parse_reminder_days(program.reminder_days)
        except ValueError:
            offsets = ()
        not_before = next_allowed(
            now, merchant.timezone, QuietHours.parse(merchant.quiet_hours), Category.PROMO
        )
        queued = cards = 0
        async with self.db.write() as uow:
            if program.stamp_expiry_days > 0:
                cards = await uow.sweeps.expire_stamps(merchant.id, cutoff=now - expiry, now=now)
            rewards = await uow.sweeps.expire_rewards(merchant.id, now)
            # Each offset covers expiries between it and the next smaller one, so a card
            # reaching the 1-day window late is not also sent the 7-day reminder.
            for days, closer in zip(offsets, (*offsets[1:], 0), strict=True):
                near, far = now + timedelta(days=closer), now + timedelta(days=days)
                if program.stamp_expiry_days > 0:
                    queued += await uow.sweeps.queue_reminders(
                        Kind.STAMP_REMINDER, merchant.id, days, near - expiry, far - expiry, not_before, now
                    )
                queued += await uow.sweeps.queue_reminders(
                    Kind.REWARD_REMINDER, merchant.id, days, near, far, not_before, now
                )
                # Points kept after a shop stopped running them lapse with a reminder too.
                queued += await uow.sweeps.queue_points_reminders(
                    merchant.id, days, near, far, not_before, now
                )
            if queued > REMINDERS_PER_MINUTE:  # a wall of reminders becomes a stream (loyalty/delivery.py)
                quiet = QuietHours.parse(merchant.quiet_hours)
                slots = reminder_slots(queued, not_before, merchant.timezone, quiet)
                await uow.sweeps.spread_reminders(merchant.id, now, slots)
        batches = await self._expire_points(merchant.id or 0)
        bonuses = BonusService(self.db, self.clock, self.settings)
        given = await bonuses.birthdays(merchant, program) + await bonuses.referrals(merchant, program)
        moved = await TierService(self.db, self.clock, self.settings).review_all(merchant, program)
        done = await CauseService(self.db, self.clock, self.settings).close_and_tell(merchant)
        lapsed = await WheelService(self.db, self.clock, self.settings).lapse(merchant.id or 0)
        settled = await PartnerService(self.db, self.clock, self.settings).settle(merchant)
        ended = await MembershipService(self.db, self.clock, self.settings).upkeep(merchant)
        return SweepReport(1, cards, rewards, queued, batches, given, moved, done, lapsed, settled, ended)

    async def _expire_points(self, merchant_id: int) -> int:
        """Lapse the merchant's due point batches, a chunk per transaction (even when the shop has
        stopped running points: they were earned with an expiry)."""
        now, lapsed = self.clock.now(), 0
        while True:
            async with self.db.write() as uow:
                lapsing: list[tuple[int, int, int]] | None = (
                    [] if await uow.webhooks.wants(merchant_id, "points.expired") else None
                )
                chunk = await uow.sweeps.expire_points_chunk(merchant_id, now, lapsing=lapsing)
                for person_id, points, first in lapsing or ():
                    person = await uow.people.get(person_id)
                    if person is not None:
                        await tell(
                            uow,
                            now,
                            merchant_id,
                            "points.expired",
                            f"{person_id}:{first}",
                            person,
                            {"points": points},
                        )
            if not chunk:
                return lapsed
            lapsed += chunk
