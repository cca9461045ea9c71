"""The tables. Balances on `Card` are a cache of `LedgerEntry`, kept in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from kartu.storage.types import UTCDateTime


def _when(nullable: bool = False, index: bool = False) -> Any:  # a Field, typed as the column's value
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Merchant(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    slug: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=64)
    timezone: str = Field(max_length=64, default="Asia/Jakarta")
    quiet_hours: str = Field(max_length=16, default="21:00-08:00")
    address: str = Field(max_length=200, default="")  # shown on partner vouchers
    latitude: float | None = None  # "How to get there" on partner vouchers
    longitude: float | None = None
    created_at: datetime = _when()
    # Merged into another business (kartu merchant merge, /merge): its outlets, cards and team went
    # there; its join link and code lead there (an id, without a foreign key: migration 0032).
    merged_into_id: int | None = None


class Outlet(SQLModel, table=True):
    """A branch of a business (a ``merchant``): where its customers buy. Every business has at least
    one (made with it, named as it); the program and the cards belong to the business."""

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    slug: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=64)
    address: str = Field(max_length=200, default="")
    latitude: float | None = None
    longitude: float | None = None
    timezone: str = Field(max_length=64, default="Asia/Jakarta")
    created_at: datetime = _when()


class Program(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id", unique=True)
    stamps_required: int = 10
    reward_name: str = Field(max_length=64, default="1 free drink")
    stamps_per_purchase: int = 1
    daily_stamp_cap: int = 5
    stamp_expiry_days: int = 180
    reward_valid_days: int = 30
    reminder_days: str = Field(max_length=16, default="7,1")
    survey_delay_minutes: int = 120
    survey_every_days: int = 14
    # What the shop runs: the stamp card, points on what customers spend, or both side by side.
    stamps_enabled: bool = True
    points_enabled: bool = False
    # The shop stopped running stamps and let cards holding some finish them (loyalty/kinds.py).
    stamps_finish: bool = Field(
        default=False, sa_column=Column(Boolean(), nullable=False, server_default=false())
    )
    rupiah_per_point: int = 10_000
    points_minimum_spend: int = 0
    points_expiry_months: int = 12
    max_amount: int = Field(default=100_000_000, sa_column=Column(BigInteger(), nullable=False))
    return_hours: int = 24  # a catalogue reward not yet used can be given back for its points
    # Bonuses, in points when the shop runs points, else in stamps; 0 is off.
    welcome_bonus: int = 0
    birthday_bonus: int = 0
    referral_bonus: int = 0  # to the friend and to who invited them, after the friend's first purchase
    referral_monthly_cap: int = 5  # bonuses one customer can earn for invitations in a calendar month
    # Levels: by what customers spend (points shops) or by visits, over a rolling window.
    tier_basis: str = Field(max_length=8, default="visits")  # "visits" or "spend"
    tier_window_months: int = 12
    tier_grace_days: int = 30  # below a level's threshold at a review: this long to get back
    # Spin the wheel: which purchases earn a spin ("off", "every" n-th, "amount" of at least).
    spin_rule: str = Field(max_length=8, default="off")
    spin_every: int = 1
    spin_min_amount: int = Field(
        default=0, sa_column=Column(BigInteger(), nullable=False, server_default="0")
    )
    spin_valid_days: int = 7
    # A friend's first purchase must stand this long (the return window) before the referral pays.
    referral_hold_days: int = Field(
        default=7, sa_column=Column(Integer(), nullable=False, server_default="7")
    )
    updated_at: datetime = _when()


class Person(SQLModel, table=True):
    """Someone Kartu knows: a customer, staff, an owner, or several of these. Their Telegram user id
    is here (every staff member and owner has one); a customer who came by another messenger has
    none, and their identity there is a `Contact`."""

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True, unique=True))
    first_name: str = Field(max_length=64, default="")
    username: str | None = Field(default=None, max_length=64)
    telegram_language: str | None = Field(default=None, max_length=16)
    language: str | None = Field(default=None, max_length=8)
    personal_code: str = Field(max_length=16, unique=True)
    current_merchant_id: int | None = Field(default=None, foreign_key="merchant.id")
    # The shop a person working at several acts for (staff prompts, owner commands); chosen with /shop.
    acting_merchant_id: int | None = Field(default=None, foreign_key="merchant.id")
    unreachable_at: datetime | None = _when(nullable=True)
    forgotten_at: datetime | None = _when(nullable=True)  # /forget: personal data erased, ledger kept
    birthday_day: int | None = None  # day and month only (/birthday), changeable once a year
    birthday_month: int | None = None
    birthday_set_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class Contact(SQLModel, table=True):
    """A person's identity on a messenger other than Telegram: on WhatsApp their business-scoped
    user id (``address``), and their phone only where Meta sends it. One per person and channel;
    linking it to a Telegram person is an explicit step (a one-time code), never a guess."""

    __table_args__ = (UniqueConstraint("channel", "address"), UniqueConstraint("person_id", "channel"))

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    person_id: int = Field(foreign_key="person.id")
    channel: str = Field(max_length=16)
    address: str = Field(max_length=64)
    phone: str | None = Field(default=None, max_length=20)
    # Notifications (news, reminders, promotions) only after the person said yes, with its moment.
    consent_at: datetime | None = _when(nullable=True)
    # Their last message: WhatsApp lets a business write only within 24 hours of it.
    last_inbound_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class ChannelLink(SQLModel, table=True):
    """A one-time code a person asked for on Telegram to add their WhatsApp (typed there within ten
    minutes); only its hash is kept."""

    __tablename__ = "channel_link"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(max_length=16)
    code_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = _when()
    used_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class Card(SQLModel, table=True):
    """A customer's stamp card at one merchant."""

    __table_args__ = (
        UniqueConstraint("merchant_id", "person_id"),
        # Expiry and reminder sweeps select a merchant's cards by last purchase.
        Index("ix_card_merchant_last_purchase", "merchant_id", "last_purchase_at"),
        # /stats counts members by these without reading the cards (services/tally.py keeps visits).
        Index("ix_card_merchant_joined", "merchant_id", "joined_at"),
        Index("ix_card_merchant_visits", "merchant_id", "visits"),
        Index("ix_card_merchant_tier", "merchant_id", "tier_id"),
        Index("ix_card_merchant_last_outlet", "merchant_id", "last_outlet_id"),
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    stamps: int = 0
    points: int = 0  # a cache of the live point batches, kept in the same transaction
    joined_at: datetime = _when()
    last_purchase_at: datetime | None = _when(nullable=True)
    promotions_opt_out: bool = False  # /stop at this shop: no reminders, surveys or broadcasts from it
    visits: int = 0  # purchases that stand (refunds taken off), counted by the tally (services/tally.py)
    invite_token: str | None = Field(default=None, max_length=24, unique=True)  # /invite: this card's link
    # The outlet whose link or QR the customer joined by (None: the business's own, or before outlets);
    # an outlet's id, kept without a foreign key so adding it did not rebuild a million-row table.
    joined_outlet_id: int | None = None
    last_outlet_id: int | None = None  # the outlet of the last purchase (broadcasts to an outlet's)
    tier_id: int | None = Field(default=None, foreign_key="tier.id")
    tier_since: datetime | None = _when(nullable=True)
    tier_reviewed_at: datetime | None = _when(nullable=True)
    tier_grace_until: datetime | None = _when(nullable=True)  # warned: keeps the level until then


class StaffMember(SQLModel, table=True):
    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("merchant_id", "person_id"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16)
    added_at: datetime = _when()
    revoked_at: datetime | None = _when(nullable=True)
    last_active_at: datetime | None = _when(nullable=True)
    on_duty: bool = False
    code_misses: int = 0  # unknown codes typed in a row; reset by a known one
    miss_window_start: datetime | None = _when(nullable=True)  # the current minute of unknown codes
    misses_in_window: int = 0
    locked_at: datetime | None = _when(
        nullable=True
    )  # too many misses: codes refused until the owner unlocks
    # Outlets' ids, kept without foreign keys (migration 0032): the outlet the member belongs to
    # (None: every outlet, as owners), and where a member of every outlet works now (/shop).
    outlet_id: int | None = None
    at_outlet_id: int | None = None


class StaffInvite(SQLModel, table=True):
    __tablename__ = "staff_invite"
    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    token: str = Field(max_length=64, unique=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    role: str = Field(max_length=16)
    created_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = _when()
    expires_at: datetime = _when()
    used_at: datetime | None = _when(nullable=True)
    used_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    outlet_id: int | None = None  # the outlet the invited member (staff, manager) will belong to
    for_username: str | None = Field(
        default=None, max_length=32
    )  # only this @username may use it (lower case)


class PurchasePrompt(SQLModel, table=True):
    """A purchase or a redemption staff are about to confirm, opened by typing a code. Its
    unguessable ``token`` is what the Confirm button carries; only its opener may decide it."""

    __tablename__ = "purchase_prompt"
    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    token: str | None = Field(default=None, max_length=32, unique=True)
    kind: str = Field(max_length=16, default="purchase")  # "purchase" or "redeem"
    reward_id: int | None = Field(default=None, foreign_key="reward.id")
    merchant_id: int = Field(foreign_key="merchant.id")
    customer_person_id: int = Field(foreign_key="person.id")
    staff_person_id: int = Field(foreign_key="person.id")
    purchases: int
    amount: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))  # rupiah spent
    catalogue_item_id: int | None = Field(default=None, foreign_key="catalogue_item.id")
    status: str = Field(max_length=16, default="pending")
    created_at: datetime = _when()
    expires_at: datetime = _when()
    decided_at: datetime | None = _when(nullable=True)
    decided_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    outlet_id: int | None = None  # the outlet of the staff member who opened it


class Reward(SQLModel, table=True):
    __table_args__ = (
        Index("ix_reward_holder", "merchant_id", "person_id", "redeemed_at"),
        Index("ix_reward_merchant_expires", "merchant_id", "expires_at"),
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    person_id: int = Field(foreign_key="person.id")
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=64)
    issued_at: datetime = _when()
    expires_at: datetime = _when()
    redeemed_at: datetime | None = _when(nullable=True)
    redeemed_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    expired_at: datetime | None = _when(nullable=True)
    catalogue_item_id: int | None = Field(default=None, foreign_key="catalogue_item.id")
    points_price: int | None = None  # bought with points from the catalogue
    returned_at: datetime | None = _when(nullable=True)  # given back for its points
    partnership_id: int | None = Field(default=None, foreign_key="partnership.id")  # a partner's voucher


class LedgerEntry(SQLModel, table=True):
    """One append-only change to a customer's stamps or rewards at a merchant."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_card_time", "merchant_id", "person_id", "created_at"),
        Index("ix_ledger_cause", "cause_id", "person_id"),
        Index("ix_ledger_origin", "origin"),
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    person_id: int = Field(foreign_key="person.id")
    asset: str = Field(max_length=16)
    delta: int
    reason: str = Field(max_length=32)
    actor_person_id: int | None = Field(default=None, foreign_key="person.id")
    idempotency_key: str = Field(max_length=128, unique=True)
    reward_id: int | None = Field(default=None, foreign_key="reward.id")
    prompt_id: int | None = Field(default=None, foreign_key="purchase_prompt.id")
    note: str | None = Field(default=None, max_length=200)  # an owner's reason for a change by hand
    amount: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))  # rupiah spent
    cause_id: int | None = Field(default=None, foreign_key="cause.id")  # a gift to a cause (asset "cause")
    # The purchase (its source: a prompt id, "sale-<id>", "claim-<id>", "api-<shop>-<external id>")
    # that set this row off, directly or through a chain (a spin it earned, that spin's prize): a
    # refund takes back every row naming it (loyalty/refunds.py).
    origin: str | None = Field(default=None, max_length=96)
    created_at: datetime = _when()
    outlet_id: int | None = None  # where it happened (None: no outlet, e.g. a birthday bonus)


class PurchaseRefund(SQLModel, table=True):
    """A purchase taken back, once (``source`` is unique); the refund's own ledger rows name the
    purchase as their ``origin`` too, so what it set off nets to nothing."""

    __tablename__ = "purchase_refund"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    person_id: int = Field(foreign_key="person.id")
    source: str = Field(max_length=96, unique=True)
    actor_person_id: int | None = Field(default=None, foreign_key="person.id")
    refunded_at: datetime = _when()
    # Stamps it could not take back: they lapsed, a lower target capped the card, the shop stopped
    # stamps (its stamp rows then net to this, not to zero; loyalty/refunds.py).
    stamps_short: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class PointsBatch(SQLModel, table=True):
    """Points from one earn, spent soonest-expiring first; the sweep expires what is left."""

    __tablename__ = "points_batch"
    __table_args__ = (
        Index("ix_points_batch_holder", "merchant_id", "person_id", "expires_at"),
        # The sweep's: only batches with points left (spent and expired ones drop out of it).
        Index(
            "ix_points_batch_due",
            "merchant_id",
            "expires_at",
            sqlite_where=text("remaining > 0"),
            postgresql_where=text("remaining > 0"),
        ),
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    person_id: int = Field(foreign_key="person.id")
    points: int
    remaining: int
    source: str = Field(max_length=128, unique=True)  # the earn's ledger key: one batch per earn
    earned_at: datetime = _when()
    expires_at: datetime | None = _when(nullable=True)
    expired_at: datetime | None = _when(nullable=True)


class PointsDraw(SQLModel, table=True):
    """Points a spend took from one batch, so a returned reward gives back the same points."""

    __tablename__ = "points_draw"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    batch_id: int = Field(foreign_key="points_batch.id")
    reward_id: int | None = Field(default=None, foreign_key="reward.id", index=True)
    points: int


class CatalogueItem(SQLModel, table=True):
    """A reward customers buy with points, as the owner set it up."""

    __tablename__ = "catalogue_item"
    __table_args__ = (Index("ix_catalogue_shop", "merchant_id", "position"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    name: str = Field(max_length=64)
    points_price: int
    photo_file_id: str | None = Field(default=None, max_length=256)
    stock: int | None = None  # None: unlimited
    per_customer_limit: int | None = None  # None: no limit
    position: int = 0
    hidden: bool = False
    deleted_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class Tier(SQLModel, table=True):
    """A level of a shop's program (Silver, Gold…): reached by spend or visits over the window."""

    __table_args__ = (Index("ix_tier_shop", "merchant_id", "threshold"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    name: str = Field(max_length=32)
    threshold: int = Field(sa_column=Column(BigInteger(), nullable=False))  # rupiah or visits
    multiplier_permille: int = 1000  # points earned: 1500 is 1.5x
    perks: str = Field(max_length=200, default="")
    group_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    group_title: str | None = Field(default=None, max_length=128)
    deleted_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class VipGroup(SQLModel, table=True):
    """A group or channel where an owner made the bot an admin, waiting to be given to a level."""

    __tablename__ = "vip_group"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    chat_id: int = Field(sa_column=Column(BigInteger(), nullable=False, unique=True))
    title: str = Field(max_length=128, default="")
    merchant_id: int = Field(foreign_key="merchant.id")
    added_by_person_id: int = Field(foreign_key="person.id")
    added_at: datetime = _when()


class Cause(SQLModel, table=True):
    """A cause a shop gives to: from purchase amounts (``give_rupiah`` per ``per_rupiah`` spent) and
    from what customers give (points, stamps, unused rewards at the stated values). What it raised
    is the sum of its ledger rows (asset ``cause``, in rupiah)."""

    __table_args__ = (Index("ix_cause_shop", "merchant_id", "status"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    name: str = Field(max_length=48)
    description: str = Field(max_length=400, default="")
    target: int = Field(sa_column=Column(BigInteger(), nullable=False))  # rupiah
    ends_at: datetime = _when()  # midnight after its last day, in the shop's time zone
    give_rupiah: int = 0
    per_rupiah: int = 0
    point_value: int = 0  # rupiah one donated point is worth (0: points not accepted)
    stamp_value: int = 0
    reward_value: int = 0
    status: str = Field(max_length=8, default="active")  # active, closed
    reached_at: datetime | None = _when(nullable=True)
    closed_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class CausePayout(SQLModel, table=True):
    """Money the owner passed on to the cause (what was pledged vs what was paid)."""

    __tablename__ = "cause_payout"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    cause_id: int = Field(foreign_key="cause.id", index=True)
    amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    paid_on: date = Field(sa_column=Column(Date(), nullable=False))
    note: str = Field(max_length=120, default="")
    recorded_by_person_id: int = Field(foreign_key="person.id")
    created_at: datetime = _when()


class CauseOffer(SQLModel, table=True):
    """A customer's gift to a cause, shown before they confirm it (the buttons point here)."""

    __tablename__ = "cause_offer"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    token: str = Field(max_length=32, unique=True)
    cause_id: int = Field(foreign_key="cause.id")
    person_id: int = Field(foreign_key="person.id")
    asset: str = Field(max_length=8)  # point, stamp, reward
    units: int = 1
    rupiah: int = Field(sa_column=Column(BigInteger(), nullable=False))
    reward_id: int | None = Field(default=None, foreign_key="reward.id")
    status: str = Field(max_length=12, default="pending")  # pending, given, cancelled
    created_at: datetime = _when()
    expires_at: datetime = _when()


class WheelPrize(SQLModel, table=True):
    """A slice of a shop's wheel: what it gives, its published odds and its budgets."""

    __tablename__ = "wheel_prize"
    __table_args__ = (Index("ix_wheel_prize_shop", "merchant_id", "position"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    kind: str = Field(max_length=8)  # stamps, points, item, nothing
    amount: int = 0
    catalogue_item_id: int | None = Field(default=None, foreign_key="catalogue_item.id")
    label: str = Field(max_length=48)
    odds: int  # hundredths of a percent (2500: 25%)
    daily_budget: int | None = None
    monthly_budget: int | None = None
    position: int = 0
    deleted_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()


class Spin(SQLModel, table=True):
    """One spin a purchase earned (once per purchase), until it is spun or lapses."""

    __table_args__ = (
        Index("ix_spin_ready", "merchant_id", "person_id", "status"),
        Index("ix_spin_won", "merchant_id", "prize_id", "spun_at"),
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    person_id: int = Field(foreign_key="person.id")
    source: str = Field(max_length=64, unique=True)  # the purchase that earned it
    status: str = Field(max_length=8, default="ready")  # ready, spun, expired, refunded
    earned_at: datetime = _when()
    expires_at: datetime = _when()
    prize_id: int | None = Field(default=None, foreign_key="wheel_prize.id")
    outcome: str | None = Field(default=None, max_length=48)  # the prize's label as won
    spun_at: datetime | None = _when(nullable=True)


class Partnership(SQLModel, table=True):
    """Two shops' handshake: customers who meet ``condition`` at the first get the second's voucher,
    redeemed there (a reward of the second shop)."""

    __table_args__ = (Index("ix_partnership_from", "from_merchant_id", "status"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    from_merchant_id: int = Field(foreign_key="merchant.id")  # where customers earn the voucher
    to_merchant_id: int = Field(foreign_key="merchant.id")  # where they use it
    condition: str = Field(max_length=8)  # amount (one purchase of at least), visits (every n-th)
    condition_value: int = Field(sa_column=Column(BigInteger(), nullable=False))
    voucher: str = Field(max_length=64)  # "10% off any ring"
    voucher_value: int = 0  # rupiah, for the monthly settlement
    terms: str = Field(max_length=200, default="")
    valid_days: int = 30
    monthly_cap: int = 100
    status: str = Field(max_length=10, default="proposed")  # proposed, active, declined, ended
    proposed_by_person_id: int = Field(foreign_key="person.id")
    created_at: datetime = _when()
    decided_at: datetime | None = _when(nullable=True)
    ended_at: datetime | None = _when(nullable=True)
    # Per outlet (None: the whole business): purchases at this outlet of the first earn the voucher;
    # it is used at this outlet of the second (its address and map on the voucher).
    from_outlet_id: int | None = None
    to_outlet_id: int | None = None


class MembershipOffer(SQLModel, table=True):
    """A shop's paid membership, as offered (a change is a new row: an invoice names the row it was
    made for, so a payment for an offer that changed is refused)."""

    __tablename__ = "membership_offer"
    __table_args__ = (Index("ix_membership_offer_shop", "merchant_id", "active"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    name: str = Field(max_length=32)
    stars: int  # per 30 days
    multiplier_permille: int = 1000  # points earned by members
    monthly_item_id: int | None = Field(
        default=None, foreign_key="catalogue_item.id"
    )  # a free reward each period
    active: bool = True
    created_at: datetime = _when()


class Membership(SQLModel, table=True):
    """A customer's paid membership at a shop: perks until ``paid_until``."""

    __table_args__ = (UniqueConstraint("merchant_id", "person_id", name="uq_membership_holder"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    person_id: int = Field(foreign_key="person.id")
    offer_id: int = Field(foreign_key="membership_offer.id")
    status: str = Field(max_length=10, default="active")  # active, ended, refunded
    renews: bool = True  # False once the customer cancelled the renewal
    charge_id: str = Field(max_length=128)  # the subscription's (first) charge: what Telegram cancels by
    paid_until: datetime = _when()
    reminded_at: datetime | None = _when(nullable=True)
    started_at: datetime = _when()
    ended_at: datetime | None = _when(nullable=True)


class StarPayment(SQLModel, table=True):
    """One payment in Telegram Stars (the first, or a renewal), recorded once by its charge id."""

    __tablename__ = "star_payment"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    membership_id: int = Field(foreign_key="membership.id", index=True)
    charge_id: str = Field(max_length=128, unique=True)
    stars: int
    paid_at: datetime = _when()
    period_end: datetime = _when()
    refunded_at: datetime | None = _when(nullable=True)


class ApiKey(SQLModel, table=True):
    """A point-of-sale's key to one shop's API: only its hash is kept; ``prefix`` names it in lists."""

    __tablename__ = "api_key"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)  # SHA-256 of the whole key, hex
    scopes: str = Field(max_length=64)  # earn,redeem,read
    name: str = Field(max_length=48, default="")
    created_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = _when()
    last_used_at: datetime | None = _when(nullable=True)
    revoked_at: datetime | None = _when(nullable=True)
    outlet_id: int | None = None  # a till's key for one outlet: its sales are that outlet's


class ApiCall(SQLModel, table=True):
    """A request made with an Idempotency-Key: its body's hash and the first response, replayed for
    the same key and body for 24 hours."""

    __tablename__ = "api_call"
    __table_args__ = (UniqueConstraint("api_key_id", "idempotency_key", name="uq_api_call_key"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    api_key_id: int = Field(foreign_key="api_key.id")
    idempotency_key: str = Field(max_length=255)
    body_hash: str = Field(max_length=64)
    status: int = 0  # 0 while the first request is being handled
    response: str = Field(default="", sa_column=Column(Text(), nullable=False, server_default=""))
    created_at: datetime = _when()
    expires_at: datetime = _when(index=True)


class Receipt(SQLModel, table=True):
    """A sale rung up for a customer not at the till: credited to the first person who opens its
    link (``rcpt_<token>``; only the token's hash is kept) before ``expires_at``."""

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    source: str = Field(max_length=100, unique=True)  # api-<merchant>-<external_id>: the sale's id
    external_id: str = Field(max_length=64)
    amount: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    stamps: int | None = None
    occurred_at: datetime | None = _when(nullable=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_by_key_id: int | None = Field(default=None, foreign_key="api_key.id")
    created_at: datetime = _when()
    expires_at: datetime = _when()
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)  # who claimed it
    claimed_at: datetime | None = _when(nullable=True)
    voided_at: datetime | None = _when(nullable=True)
    outlet_id: int | None = None  # where it was sold: its purchase is counted there when claimed


class ReceiptMiss(SQLModel, table=True):
    """A receipt link a person opened that credited nothing (unknown, used, expired): counted to
    throttle guessing, across processes."""

    __tablename__ = "receipt_miss"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    person_id: int = Field(foreign_key="person.id", index=True)
    at: datetime = _when()


class DailyTally(SQLModel, table=True):
    """What happened at a shop on one of its local days (loyalty/tally.py), counted from the ledger,
    refunds and ratings as they are written (services/tally.py): /stats reads these rows."""

    __tablename__ = "daily_tally"

    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True)
    day: date = Field(primary_key=True)
    visits: int = 0
    first_visits: int = 0
    stamps_earned: int = 0
    stamps_spent: int = 0
    stamps_expired: int = 0
    points_earned: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False, default=0))
    points_spent: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False, default=0))
    points_expired: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False, default=0))
    rewards_issued: int = 0
    rewards_redeemed: int = 0
    ratings: int = 0
    rating_sum: int = 0


class OutletTally(SQLModel, table=True):
    """What happened at one outlet of a business on one of the business's local days: the rows of
    ``daily_tally`` that name an outlet, counted by the same pass (services/tally.py)."""

    __tablename__ = "outlet_tally"

    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True)
    outlet_id: int = Field(foreign_key="outlet.id", primary_key=True)
    day: date = Field(primary_key=True)
    visits: int = 0
    first_visits: int = 0
    stamps_earned: int = 0
    stamps_spent: int = 0
    stamps_expired: int = 0
    points_earned: int = Field(default=0, sa_type=BigInteger)
    points_spent: int = Field(default=0, sa_type=BigInteger)
    points_expired: int = Field(default=0, sa_type=BigInteger)
    rewards_issued: int = 0
    rewards_redeemed: int = 0
    ratings: int = 0
    rating_sum: int = 0


class OutletVisit(SQLModel, table=True):
    """A customer's standing visits at one outlet (refunds taken off), kept by the tally as
    ``card.visits``: /stats counts members per outlet, and those who visit more than one."""

    __tablename__ = "outlet_visit"
    __table_args__ = (Index("ix_outlet_visit_outlet", "merchant_id", "outlet_id"),)

    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    outlet_id: int = Field(foreign_key="outlet.id", primary_key=True)
    visits: int = 0


class TallyMark(SQLModel, table=True):
    """How far the tally has counted a source (``ledger``, ``refund``: the last id; ``rating``: the
    last rating's time and id)."""

    __tablename__ = "tally_mark"

    name: str = Field(primary_key=True, max_length=16)
    last_id: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False, default=0))
    last_at: datetime | None = _when(nullable=True)


class ExportRun(SQLModel, table=True):
    """An owner's /export: asked (the period question shown, ``token`` in its buttons), running
    (one per shop at a time: a second tap hears it is on its way), done or failed; a big one's
    download link works once (``link_used_at``)."""

    __tablename__ = "export_run"
    __table_args__ = (
        Index(
            "ux_export_running",
            "merchant_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    token: str = Field(max_length=32, unique=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)  # the owner who asked
    status: str = Field(max_length=16)
    period: str | None = Field(default=None, max_length=8)
    since: datetime | None = _when(nullable=True)
    last_entry_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    asked_at: datetime = _when()
    touched_at: datetime = _when()
    members: int = 0
    entries: int = 0
    files: int = 0
    link_used_at: datetime | None = _when(nullable=True)


class ProcessBeat(SQLModel, table=True):
    """A running Kartu process's sign of life (bot, scheduler), every half minute: `kartu restore`
    refuses while one is fresh; health checks read the scheduler's."""

    __tablename__ = "process_beat"

    id: str = Field(primary_key=True, max_length=200)  # kind:host:pid
    kind: str = Field(max_length=16)
    beat_at: datetime = _when()


class WebhookEndpoint(SQLModel, table=True):
    """An address of a shop's own system that takes its events, signed with ``secret``; paused after
    failing for a day (``failing_since``), until the owner resumes it."""

    __tablename__ = "webhook_endpoint"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    url: str = Field(max_length=500)
    secret: str = Field(max_length=64)
    signing: str = Field(
        default="standard", sa_column=Column(String(16), nullable=False, server_default="kartu")
    )  # standard (Standard Webhooks) or kartu (Kartu-Signature: endpoints made before, until rotated)
    previous_secret: str | None = Field(default=None, max_length=64)  # signs too for a day after a rotation
    previous_signing: str | None = Field(default=None, max_length=16)
    previous_until: datetime | None = _when(nullable=True)
    events: str = Field(max_length=200)  # member.joined,purchase.credited,...
    status: str = Field(default="active", max_length=16)  # active, paused, deleted
    created_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = _when()
    failing_since: datetime | None = _when(nullable=True)
    last_success_at: datetime | None = _when(nullable=True)
    last_error: str | None = Field(default=None, max_length=200)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint, written in the event's own transaction; sent (in order per
    customer) by the scheduler's dispatcher until the endpoint answers 2xx, for up to three days."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_key", name="uq_webhook_delivery_event"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_order", "endpoint_id", "person_id", "status"),
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id")
    event_key: str = Field(max_length=160)  # what happened, named once (a retried event adds nothing)
    event_id: str = Field(max_length=32)  # evt_...: the receiver's way to drop a duplicate
    event_type: str = Field(max_length=32)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    payload: str = Field(sa_column=Column(Text(), nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending, sending, delivered, failed
    attempts: int = 0
    next_attempt_at: datetime = _when()
    created_at: datetime = _when()
    delivered_at: datetime | None = _when(nullable=True)
    claimed_at: datetime | None = _when(nullable=True)
    last_error: str | None = Field(default=None, max_length=200)


class Referral(SQLModel, table=True):
    """A friend who joined through a customer's /invite link; both earn the bonus once the friend's
    first purchase is confirmed. A person is referred at most once per shop."""

    __table_args__ = (
        UniqueConstraint("merchant_id", "friend_person_id"),
        Index("ix_referral_pending", "merchant_id", "status"),
        Index("ix_referral_referrer", "merchant_id", "referrer_person_id", "paid_at"),
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    referrer_person_id: int = Field(foreign_key="person.id")
    friend_person_id: int = Field(foreign_key="person.id")
    status: str = Field(max_length=16, default="pending")  # pending, paid
    created_at: datetime = _when()
    paid_at: datetime | None = _when(nullable=True)
    referrer_paid: bool = False  # False once paid: the referrer was over the month's cap


class ConversationState(SQLModel, table=True):
    """aiogram FSM state, so a guided form survives restarts and works across bot processes."""

    __tablename__ = "conversation_state"
    key: str = Field(primary_key=True, max_length=200)
    state: str | None = Field(default=None, max_length=200)
    data: str = Field(sa_column=Column(Text(), nullable=False, default="{}"))
    updated_at: datetime | None = _when(nullable=True)  # forms expire when idle


class OutboxMessage(SQLModel, table=True):
    """A proactive message waiting to be delivered; written in the transaction that causes it.

    Rows name what to say (``kind``, ``subject_id``, ``params``), not the words: the
    dispatcher renders them at delivery time in the recipient's language, and skips a row
    whose subject no longer needs it (stamps already used, reward already redeemed).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    idempotency_key: str = Field(max_length=160, unique=True)
    kind: str = Field(max_length=32)
    category: str = Field(max_length=16)
    # Telegram's chat; None for a person reached on their other messenger (``channel``).
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    channel: str = Field(
        default="telegram", sa_column=Column(String(16), nullable=False, server_default="telegram")
    )
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    merchant_id: int | None = Field(default=None, foreign_key="merchant.id")
    subject_id: int | None = None
    params: str = Field(sa_column=Column(Text(), nullable=False, default="{}"))
    status: str = Field(max_length=16, default="pending")
    attempts: int = 0
    not_before: datetime = _when()
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = _when(nullable=True)
    # A promotion's send began (its outcome unknown until sent_at): one whose dispatcher died
    # then is not sent again (a promotion at most once; news with a result at least once).
    sending_at: datetime | None = _when(nullable=True)
    sent_at: datetime | None = _when(nullable=True)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _when()


class Survey(SQLModel, table=True):
    """A feedback request after a visit, and the customer's answer."""

    __table_args__ = (
        Index("ix_survey_card_time", "merchant_id", "person_id", "created_at"),
        Index("ix_survey_rated", "rated_at", "id"),  # the tally counts ratings in the order they came
        Index("ix_survey_merchant_reason", "merchant_id", "reason"),
        Index("ix_survey_merchant_commented", "merchant_id", "commented_at"),  # /feedback's latest
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    person_id: int = Field(foreign_key="person.id")
    prompt_id: int | None = Field(default=None, foreign_key="purchase_prompt.id")
    created_at: datetime = _when()
    rating: int | None = None
    rated_at: datetime | None = _when(nullable=True)
    reason: str | None = Field(default=None, max_length=16)
    comment: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    commented_at: datetime | None = _when(nullable=True)
    outlet_id: int | None = None  # the outlet of the visit asked about


class PurchaseClaim(SQLModel, table=True):
    """A customer says "I bought something"; the first staff decision settles it."""

    __tablename__ = "purchase_claim"
    __table_args__ = (Index("ix_claim_open", "merchant_id", "person_id", "status"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    person_id: int = Field(foreign_key="person.id")
    amount: str | None = Field(default=None, max_length=16)
    status: str = Field(max_length=16, default="pending")
    created_at: datetime = _when()
    expires_at: datetime = _when()
    decided_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = _when(nullable=True)
    outlet_id: int | None = None  # where the customer says they bought (only its team decides)
    # "Missing a stamp?": a claim for a past visit, with a photo of its receipt (Telegram's file id),
    # and the reason staff gave when they refused it.
    visit_day: date | None = None
    photo_file_id: str | None = Field(default=None, max_length=256)
    note: str | None = Field(default=None, max_length=16)


class ClaimNotice(SQLModel, table=True):
    """Where a claim was shown to staff, so every copy can show who decided."""

    __tablename__ = "claim_notice"

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    claim_id: int = Field(foreign_key="purchase_claim.id", index=True)
    chat_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    message_id: int
    language: str = Field(max_length=8, default="en")


class Broadcast(SQLModel, table=True):
    """An owner's message to a segment of members, delivered through the outbox."""

    __table_args__ = (Index("ix_broadcast_merchant_status", "merchant_id", "status"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    created_by_person_id: int = Field(foreign_key="person.id")
    text: str = Field(sa_column=Column(Text(), nullable=False))
    photo_file_id: str | None = Field(default=None, max_length=256)
    segment: str = Field(max_length=16)
    status: str = Field(max_length=16, default="running")
    total: int = 0
    created_at: datetime = _when()
    finished_at: datetime | None = _when(nullable=True)
    progress_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    progress_message_id: int | None = None
    progress_text: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    outlet_id: int | None = None  # to the customers whose last visit was at this outlet (None: all)


class ForgottenPerson(SQLModel, table=True):
    """Someone who used /forget, kept only as a keyed hash (HMAC-SHA256 with the server's secret)
    of their Telegram id per shop, and used for nothing but bonus eligibility: coming back after
    /forget is not a new person for the welcome gift or a friend's referral bonus."""

    __tablename__ = "forgotten_person"
    __table_args__ = (UniqueConstraint("merchant_id", "digest", name="uq_forgotten_person"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is inserted
    merchant_id: int = Field(foreign_key="merchant.id")
    digest: str = Field(max_length=64)
    forgotten_at: datetime = _when()


class KartuSecret(SQLModel, table=True):
    """A secret the server made for itself (when ``KARTU_SECRET_KEY`` is not set), shared by every
    process on the database."""

    __tablename__ = "kartu_secret"

    name: str = Field(primary_key=True, max_length=32)
    value: str = Field(max_length=128)
    created_at: datetime = _when()


class WhatsAppEvent(SQLModel, table=True):
    """What Meta posted to the WhatsApp webhook, one row per message or status (by its id), kept
    until handled, like Telegram's updates (``processed_update``): Meta delivers at least once,
    unordered, for days."""

    __tablename__ = "whatsapp_event"

    event_id: str = Field(sa_column=Column(String(160), primary_key=True))
    received_at: datetime = _when(index=True)
    payload: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    sender: str | None = Field(default=None, max_length=64)  # their business-scoped user id
    started_at: datetime | None = _when(nullable=True)
    done_at: datetime | None = _when(nullable=True)
    attempts: int = Field(default=0, sa_column=Column(Integer(), nullable=False, server_default="0"))


class WhatsAppMessage(SQLModel, table=True):
    """A message Kartu sent on WhatsApp, with what Meta bills it as (its statuses say): the owner's
    month of WhatsApp costs is counted from these."""

    __tablename__ = "whatsapp_message"
    __table_args__ = (Index("ix_whatsapp_message_shop_sent", "merchant_id", "sent_at"),)

    id: str = Field(sa_column=Column(String(160), primary_key=True))
    merchant_id: int | None = Field(default=None, foreign_key="merchant.id")
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    category: str = Field(max_length=24, default="service")
    billable: bool = False
    status: str = Field(max_length=16, default="accepted")
    sent_at: datetime = _when()


class ProcessedUpdate(SQLModel, table=True):
    """Telegram updates received (kept 2 days): a re-delivered one has no effect, and one received
    but not handled (its process died) is handled when found."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    received_at: datetime = _when(index=True)
    # The journal (storage/journal.py): the update as received, kept until it was handled, so a
    # process that dies after Telegram counted it as delivered does not lose it.
    payload: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))  # its sender
    started_at: datetime | None = _when(nullable=True)
    done_at: datetime | None = _when(nullable=True)
    attempts: int = Field(default=0, sa_column=Column(Integer(), nullable=False, server_default="0"))
