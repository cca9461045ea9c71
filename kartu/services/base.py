"""What every service holds (its dependencies), and the small readings they share."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

from kartu.config import Settings
from kartu.loyalty.clock import Clock
from kartu.loyalty.expiry import stamps_expire_at
from kartu.loyalty.kinds import Kinds
from kartu.loyalty.language import resolve_language
from kartu.loyalty.points import POINTS_COLUMNS, PointsRules
from kartu.loyalty.privacy import new_secret
from kartu.loyalty.program import ProgramRules
from kartu.loyalty.tiers import Basis, ordered, rank, window_start
from kartu.services.views import CardView, NextLevel, Recipient
from kartu.storage.database import Database
from kartu.storage.models import Card, Merchant, Person, Program
from kartu.storage.unit_of_work import UnitOfWork


class ServiceBase:
    """A group of use cases and their dependencies; the steps they share are plain functions
    (services/access.py, services/crediting.py and below), never inherited helpers."""

    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings

    def language_of(self, person: Person) -> str:
        return language_of(person, self.settings)

    def recipient(self, person: Person) -> Recipient:
        return recipient(person, self.settings)


async def server_key(uow: UnitOfWork, settings: Settings, name: str, now: datetime) -> str:
    """The key of what the server signs or hashes: the operator's ``KARTU_SECRET_KEY``, else a
    secret the server made for itself under ``name`` (kept in the database)."""
    if settings.secret_key:
        return settings.secret_key
    return await uow.personal_data.server_secret(name, new_secret, now)


def language_of(person: Person, settings: Settings) -> str:
    return resolve_language(person.language, person.telegram_language, settings.default_language)


def recipient(person: Person, settings: Settings) -> Recipient:
    return Recipient(telegram_id=person.telegram_id, language=language_of(person, settings))


def rules_of(program: Program) -> ProgramRules:
    """The domain's view of a program row (the row has the same field names, plus bookkeeping)."""
    return ProgramRules(**{item.name: getattr(program, item.name) for item in fields(ProgramRules)})


def kinds_of(program: Program) -> Kinds:
    """The units the shop runs (loyalty/kinds.py), from its program row."""
    return Kinds(program.stamps_enabled, program.points_enabled, program.stamps_finish)


def points_rules_of(program: Program) -> PointsRules:
    """The program row's points settings, as the domain names them."""
    return PointsRules(**{field: getattr(program, column) for column, field in POINTS_COLUMNS.items()})


async def next_level(uow: UnitOfWork, now: datetime, merchant_id: int, card: Card) -> NextLevel | None:
    """The level above the card's, and what its window still lacks to reach it (``None`` at the
    top, or in a shop without levels)."""
    levels = await uow.tiers.levels(merchant_id)
    if not levels:
        return None
    program = await uow.programs.for_merchant(merchant_id)
    basis = Basis(program.tier_basis)
    held = rank(levels, card.tier_id)
    above = [level for level in ordered(levels) if rank(levels, level.id) > held]
    if not above:
        return None
    measure = await uow.tiers.measure(
        merchant_id, card.person_id, basis, window_start(now, program.tier_window_months)
    )
    return NextLevel(above[0].name, max(above[0].threshold - measure, 1), basis.value)


async def card_view(
    uow: UnitOfWork,
    now: datetime,
    person: Person,
    merchant: Merchant,
    card: Card,
    program: Program | None = None,
    open_rewards: int | None = None,
) -> CardView:
    """A customer's card as every screen shows it: stamps, reward, expiry, rewards waiting
    (counted here unless the caller knows the number)."""
    program = program or await uow.programs.for_merchant(merchant.id)
    kinds = kinds_of(program)
    rewards = (
        open_rewards
        if open_rewards is not None
        else await uow.rewards.count_open(merchant.id, person.id, now)
    )
    return make_card_view(
        merchant.name,
        merchant.timezone,
        rules_of(program),
        person.personal_code,
        card.stamps,
        card.last_purchase_at,
        rewards,
        points=card.points if kinds.shows_points(card.points) else None,
        runs_stamps=kinds.shows_stamps(card.stamps),
        tier=await uow.tiers.held(card.tier_id, merchant.id or 0),
    )


def make_card_view(
    merchant_name: str,
    timezone: str,
    rules: ProgramRules,
    personal_code: str,
    stamps: int,
    last_purchase_at: datetime | None,
    open_rewards: int,
    *,
    points: int | None = None,
    runs_stamps: bool = True,
    tier: tuple[str, int] | None = None,
) -> CardView:
    return CardView(
        merchant_name=merchant_name,
        stamps=stamps,
        stamps_required=rules.stamps_required,
        reward_name=rules.reward_name,
        personal_code=personal_code,
        open_rewards=open_rewards,
        timezone=timezone,
        stamps_expire_at=(
            stamps_expire_at(last_purchase_at, rules.stamp_expiry_days)
            if stamps and last_purchase_at
            else None
        ),
        points=points,
        runs_stamps=runs_stamps,
        tier=tier[0] if tier else "",
        tier_multiplier=tier[1] if tier else 1000,
    )
