"""Owners' numbers: /stats and /export."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kartu.loyalty.bonuses import month_start
from kartu.loyalty.claims import median_minutes
from kartu.loyalty.reporting import first_week_start, share, weekly_from_days
from kartu.loyalty.tally import DayCounts
from kartu.services.access import require_lead, require_owner
from kartu.services.base import ServiceBase
from kartu.services.tally import TallyService, rating_summary
from kartu.services.whatsapp import MonthOnWhatsApp, month_on_whatsapp
from kartu.storage.unit_of_work import UnitOfWork

STATS_CATCH_UP = 20  # batches of the tally /stats counts itself at most (100,000 rows, about 3 s)


@dataclass(frozen=True)
class WeekVisits:
    week_start: datetime
    new: int
    returning: int


@dataclass(frozen=True)
class PointsStats:
    earned: int  # on purchases, bonuses and owners' additions
    spent: int  # on catalogue rewards (less those given back) and owners' deductions
    expired: int
    outstanding: int  # held by customers now
    catalogue_taken: int  # catalogue rewards taken and not given back
    catalogue_redeemed: int


@dataclass(frozen=True)
class OutletStats:
    """One outlet's figures: counted since purchases record their outlet (migration 0032)."""

    name: str
    members: int  # customers with a standing visit there
    visits: int
    visits_30_days: int
    rewards_issued: int
    rewards_redeemed: int
    average_rating: float | None
    ratings: int
    business: str = ""  # the business's name (an outlet manager's own figures)


@dataclass(frozen=True)
class StatsView:
    merchant_name: str
    timezone: str
    members: int
    new_this_week: int
    active_30_days: int
    repeat_rate: float | None
    visits_per_member: float | None
    rewards_issued: int
    rewards_redeemed: int
    average_rating: float | None
    ratings: int
    low_rating_reasons: tuple[tuple[str, int], ...]
    weeks: tuple[WeekVisits, ...]
    points: PointsStats | None = None  # None: the shop never ran points
    levels: tuple[tuple[str, int], ...] = ()  # each level and the members holding it
    referrals: tuple[int, int] = (0, 0)  # friends who joined through an /invite link; of them, paid
    causes: tuple[CauseRow, ...] = ()
    spins: tuple[int, int, int] = (0, 0, 0)  # earned, spun, lapsed
    won: tuple[tuple[str, int, str, int], ...] = ()  # what the wheel gave: kind, amount, label, times
    paid_members: tuple[int, int] = (0, 0)  # paid members now, Stars paid this month
    vouchers: tuple[int, int] = (
        0,
        0,
    )  # this month: partners' vouchers given to our customers, ours used here
    receipts: tuple[int, int] = (0, 0)  # receipt codes printed at the till, and of them claimed
    whatsapp: MonthOnWhatsApp | None = None  # where WhatsApp is set up: its members and this month's messages
    outlets: tuple[OutletStats, ...] = ()  # a business with several: each outlet's figures
    # "Missing a stamp?" in the last 30 days: asked, approved, the median minutes to a decision
    disputes: tuple[int, int, int | None] = (0, 0, None)
    several_outlets: int = 0  # members who visit more than one outlet

    @property
    def redemption_rate(self) -> float | None:
        return self.rewards_redeemed / self.rewards_issued if self.rewards_issued else None


@dataclass(frozen=True)
class MemberRow:
    first_name: str
    username: str | None
    code: str
    joined_at: datetime
    stamps: int
    visits: int
    last_visit: datetime | None
    opted_in: bool
    open_rewards: int
    points: int = 0
    level: str | None = None
    invited_by: str | None = None  # the code of the customer whose /invite link they joined with
    joined_outlet: str | None = None  # the outlet whose link they joined by
    last_outlet: str | None = None  # the outlet of their last purchase


@dataclass(frozen=True)
class LedgerRow:
    entry_id: int
    at: datetime
    customer_code: str
    customer_name: str
    asset: str
    delta: int
    reason: str
    actor_name: str
    note: str | None = None  # an owner's reason for a change by hand
    outlet: str | None = None  # the outlet's name, where it happened at one


@dataclass(frozen=True)
class CauseRow:
    """A cause as /stats and /export show it: pledged (its ledger) against paid (payouts)."""

    name: str
    status: str
    target: int
    pledged: int
    paid: int
    givers: int
    ends_at: datetime


async def causes_of(uow: UnitOfWork, merchant_id: int | None) -> tuple[CauseRow, ...]:
    rows = []
    for cause in await uow.causes.of_merchant(merchant_id or 0):
        pledged, givers = await uow.causes.totals(cause.id or 0)
        paid = await uow.causes.paid(cause.id or 0)
        rows.append(CauseRow(cause.name, cause.status, cause.target, pledged, paid, givers, cause.ends_at))
    return tuple(rows)


async def _vouchers(uow: UnitOfWork, merchant_id: int, since: datetime, now: datetime) -> tuple[int, int]:
    """Partner vouchers since ``since``: given to this shop's customers, and used at this shop."""
    given = used = 0
    for partnership in await uow.partners.of_merchant(merchant_id):
        issued, redeemed = await uow.partners.settlement(
            partnership.id or 0, since, now + timedelta(seconds=1)
        )
        if partnership.from_merchant_id == merchant_id:
            given += issued
        if partnership.to_merchant_id == merchant_id:
            used += redeemed
    return given, used


class ReportService(ServiceBase):
    async def check_owner(self, owner_telegram_id: int) -> None:
        """`NotOwner` unless this person owns a shop or manages an outlet (before a long answer
        is announced)."""
        async with self.db.read() as uow:
            await require_lead(uow, owner_telegram_id)

    async def outlet_stats(self, telegram_id: int) -> OutletStats | None:
        """An outlet manager's figures: their outlet's only; ``None`` for an owner (the whole)."""
        async with self.db.read() as uow:
            if (await require_lead(uow, telegram_id)).scope is None:
                return None
        await TallyService(self.db, self.clock, self.settings).catch_up(max_batches=STATS_CATCH_UP)
        async with self.db.read() as uow:
            place = await require_lead(uow, telegram_id)
            figures = await self._outlets(uow, place.merchant.id, place.merchant.timezone)
            mine = next((row for outlet_id, row in figures[0] if outlet_id == place.scope), None)
            outlet = place.outlet
            empty = OutletStats(outlet.name if outlet else "", 0, 0, 0, 0, 0, None, 0)
            return replace(mine or empty, business=place.merchant.name)

    async def _outlets(
        self, uow: UnitOfWork, merchant_id: int, timezone: str
    ) -> tuple[list[tuple[int, OutletStats]], int]:
        """Each outlet's figures from the counted days, and members who visit more than one."""
        now = self.clock.now()
        month_ago = (now - timedelta(days=30)).astimezone(ZoneInfo(timezone)).date()
        totals = await uow.tally.outlet_figures(merchant_id)
        recent = await uow.tally.outlet_figures(merchant_id, month_ago)
        members, several = await uow.tally.outlet_members(merchant_id)
        rows = []
        for outlet in await uow.merchants.outlets(merchant_id):
            counts = totals.get(outlet.id) or DayCounts()
            rows.append(
                (
                    outlet.id,
                    OutletStats(
                        outlet.name,
                        members.get(outlet.id, 0),
                        counts.visits,
                        (recent.get(outlet.id) or DayCounts()).visits,
                        counts.rewards_issued,
                        counts.rewards_redeemed,
                        counts.rating_sum / counts.ratings if counts.ratings else None,
                        counts.ratings,
                    ),
                )
            )
        return rows, several

    async def stats(self, owner_telegram_id: int) -> StatsView:
        """The shop's figures: counts kept as the ledger grew (services/tally.py), counted up to
        now first, and counts on the cards' indexes; nothing here reads the whole ledger."""
        await self.check_owner(owner_telegram_id)  # a stranger sets nothing counting
        # What the scheduler has not counted yet (a minute's worth; more waits for its sweep).
        await TallyService(self.db, self.clock, self.settings).catch_up(max_batches=STATS_CATCH_UP)
        now = self.clock.now()
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            merchant = place.merchant
            members, new, active, visitors, repeaters = await uow.tally.card_counts(
                merchant.id, now - timedelta(days=7), now - timedelta(days=30)
            )
            totals = await uow.tally.totals(merchant.id)
            average, ratings = await rating_summary(uow, merchant.id, totals)
            reasons = tuple(await uow.surveys.reason_counts(merchant.id))
            since = first_week_start(now, merchant.timezone).date()
            recent = [
                (day.day, day.first_visits, day.visits) for day in await uow.tally.days(merchant.id, since)
            ]
            held = totals.points_earned - totals.points_spent - totals.points_expired
            catalogue = await uow.reports.catalogue_counts(merchant.id)
            summary = (totals.points_earned, totals.points_spent, totals.points_expired, held, *catalogue)
            points = None if not place.program.points_enabled and not any(summary) else summary
            held_levels = await uow.tiers.counts(merchant.id)
            levels = tuple(
                (tier.name, held_levels.get(tier.id or 0, 0)) for tier in await uow.tiers.all(merchant.id)
            )
            referrals = await uow.referrals.counts(merchant.id)
            causes = await causes_of(uow, merchant.id)
            spins = await uow.wheel.counts(merchant.id or 0)
            won = tuple(await uow.wheel.won(merchant.id or 0))
            paid = await uow.membership.counts(merchant.id or 0, month_start(now, merchant.timezone))
            vouchers = await _vouchers(uow, merchant.id or 0, month_start(now, merchant.timezone), now)
            receipts = await uow.receipts.counts(merchant.id or 0)
            whatsapp = (
                await month_on_whatsapp(uow, merchant.id or 0, month_start(now, merchant.timezone))
                if self.settings.whatsapp_phone_number_id
                else None
            )
            asked = await uow.claims.disputes_since(merchant.id, now - timedelta(days=30))
            disputes = (
                len(asked),
                sum(1 for status, _, _ in asked if status == "approved"),
                median_minutes([decided - created for _, created, decided in asked if decided is not None]),
            )
            outlets, several = (
                await self._outlets(uow, merchant.id, merchant.timezone)
                if len(place.outlets) > 1
                else ([], 0)
            )
        visits, issued, redeemed = totals.visits, totals.rewards_issued, totals.rewards_redeemed
        weeks = tuple(
            WeekVisits(start, new_count, returning)
            for start, new_count, returning in weekly_from_days(recent, now, merchant.timezone)
        )
        return StatsView(
            merchant_name=merchant.name,
            timezone=merchant.timezone,
            members=members,
            new_this_week=new,
            active_30_days=active,
            repeat_rate=share(repeaters, members),
            visits_per_member=share(visits, members),
            rewards_issued=issued,
            rewards_redeemed=redeemed,
            average_rating=average,
            ratings=ratings,
            low_rating_reasons=reasons,
            weeks=weeks,
            points=PointsStats(*points) if points is not None else None,
            levels=levels,
            referrals=referrals,
            causes=causes,
            spins=spins,
            won=won,
            paid_members=paid,
            vouchers=vouchers,
            receipts=receipts,
            whatsapp=whatsapp,
            outlets=tuple(row for _, row in outlets),
            several_outlets=several,
            disputes=disputes,
        )
