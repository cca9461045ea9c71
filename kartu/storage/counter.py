"""The counter's hot statements: opening a purchase and confirming it, as plain SQL on the driver
(storage/driver.py), the same SQL on SQLite and PostgreSQL.

They cover the usual purchase only; services/counter.py sends anything else (an unknown code, a
locked account, a daily cap, a closed prompt) to the ORM use cases, which say what went wrong.
The rows written are the ones those use cases write (tests/storage/test_hot_path.py runs the
same script both ways and compares every row).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.kinds import Kinds
from kartu.loyalty.points import POINTS_COLUMNS, PointsRules
from kartu.loyalty.program import ProgramRules, local_day_start
from kartu.loyalty.staff import acting_place, where_name
from kartu.loyalty.throttle import CodeMisses
from kartu.storage import courier, webhooks
from kartu.storage.courier import Parcel
from kartu.storage.driver import DriverTransaction, Sql

_RULES = tuple(item.name for item in fields(ProgramRules))
_RULE_COLUMNS = ", ".join(f"g.{name}" for name in _RULES)
_POINTS_RULE_COLUMNS = ", ".join(f"g.{column}" for column in POINTS_COLUMNS)

# Where a member works now (loyalty.staff.working_outlet): their own outlet, else their /shop
# choice (an outlet of the same business), else the business's first; and how many it has.
_WORKING_OUTLET = (
    "LEFT JOIN outlet o ON o.id = coalesce(m.outlet_id, (SELECT o2.id FROM outlet o2 WHERE o2.id = m.at_outlet_id "
    "AND o2.merchant_id = m.merchant_id), (SELECT min(o3.id) FROM outlet o3 WHERE o3.merchant_id = m.merchant_id)) "
)
_OUTLET_COLUMNS = (
    "o.id AS outlet_id, o.name AS outlet_name, "
    "(SELECT count(o4.id) FROM outlet o4 WHERE o4.merchant_id = m.merchant_id) AS outlets"
)
_PLACES = Sql(
    "SELECT p.id AS person_id, p.acting_merchant_id, m.id AS member_id, m.merchant_id, m.code_misses, "
    f"m.miss_window_start, m.misses_in_window, m.locked_at, s.name AS merchant_name, s.timezone, {_OUTLET_COLUMNS} "
    "FROM person p JOIN staff_member m ON m.person_id = p.id AND m.revoked_at IS NULL "
    f"JOIN merchant s ON s.id = m.merchant_id {_WORKING_OUTLET}"
    "WHERE p.telegram_id = :telegram_id ORDER BY m.added_at DESC, m.id DESC"
)


def _stamped_today(merchant: str, since: str) -> str:
    return (
        f"(SELECT coalesce(sum(l.delta), 0) FROM ledger_entry l WHERE l.merchant_id = {merchant} "
        f"AND l.person_id = c.id AND l.asset = 'stamp' AND l.reason = 'purchase' AND l.created_at >= {since})"
    )


def _rewards_held(merchant: str) -> str:
    return (
        f"(SELECT count(r.id) FROM reward r WHERE r.merchant_id = {merchant} AND r.person_id = c.id "
        "AND r.redeemed_at IS NULL AND r.expires_at > :now)"
    )


_STAMPED_TODAY, _REWARDS_HELD = _stamped_today(":merchant_id", ":since"), _rewards_held(":merchant_id")
# A paid member's points multiplier at the card's shop, while their period lasts.
_MEMBER_MULTIPLIER = (
    "(SELECT mo.multiplier_permille FROM membership ms JOIN membership_offer mo ON mo.id = ms.offer_id "
    "WHERE ms.merchant_id = k.merchant_id AND ms.person_id = c.id AND ms.status = 'active' AND ms.paid_until > :now)"
)
_HOLDER_COLUMNS = (
    "c.telegram_id, c.first_name, c.username, c.language, c.telegram_language, "
    "k.id AS card_id, k.stamps, k.points, k.last_purchase_at, g.stamps_enabled, g.points_enabled, g.stamps_finish, "
    f"{_POINTS_RULE_COLUMNS}, "
    "(SELECT t.multiplier_permille FROM tier t WHERE t.id = k.tier_id AND t.deleted_at IS NULL) AS tier_multiplier, "
    f"{_MEMBER_MULTIPLIER} AS member_multiplier"
)
_HOLDER_OF_CODE = Sql(
    f"SELECT c.id AS person_id, {_HOLDER_COLUMNS}, "
    f"{_STAMPED_TODAY} AS stamped_today, {_REWARDS_HELD} AS open_rewards, {_RULE_COLUMNS} "
    "FROM person c LEFT JOIN card k ON k.person_id = c.id AND k.merchant_id = :merchant_id "
    "LEFT JOIN program g ON g.merchant_id = :merchant_id WHERE c.personal_code = :code"
)
# PostgreSQL: the shop the staff member acts for (loyalty.staff.acting_place: their /shop choice,
# else the first shop they joined) and the code's holder there, in one statement; the day starts
# at the shop's local midnight, as loyalty.program.local_day_start says.
_LOCAL_MIDNIGHT = (
    "(date_trunc('day', CAST(:now AS timestamptz) AT TIME ZONE s.timezone) AT TIME ZONE s.timezone)"
)
_USUAL_PURCHASE = Sql(
    "SELECT p.id AS staff_id, p.acting_merchant_id, m.id AS member_id, m.merchant_id, m.code_misses, "
    "m.miss_window_start, m.misses_in_window, m.locked_at, s.name AS merchant_name, s.timezone, "
    f"{_OUTLET_COLUMNS}, c.id AS person_id, {_HOLDER_COLUMNS}, "
    f"{_stamped_today('m.merchant_id', _LOCAL_MIDNIGHT)} AS stamped_today, "
    f"{_rewards_held('m.merchant_id')} AS open_rewards, {_RULE_COLUMNS} "
    "FROM person p JOIN staff_member m ON m.person_id = p.id AND m.revoked_at IS NULL "
    f"JOIN merchant s ON s.id = m.merchant_id {_WORKING_OUTLET}LEFT JOIN person c ON c.personal_code = :code "
    "LEFT JOIN card k ON k.person_id = c.id AND k.merchant_id = m.merchant_id "
    "LEFT JOIN program g ON g.merchant_id = m.merchant_id WHERE p.telegram_id = :telegram_id "
    "ORDER BY CASE WHEN m.merchant_id = p.acting_merchant_id THEN 0 ELSE 1 END, m.added_at, m.id LIMIT 1"
)
_ADD_PROMPT = Sql(
    "INSERT INTO purchase_prompt (token, kind, merchant_id, customer_person_id, staff_person_id, purchases, "
    "amount, status, created_at, expires_at, outlet_id) VALUES (:token, :kind, :merchant_id, :customer_id, "
    ":staff_id, :purchases, :amount, 'pending', :now, :expires_at, :outlet_id) RETURNING id"
)
# Confirm: the tap is the prompt's staff member's, who still works at its shop, on a pending,
# unexpired prompt for someone else; anything else changes nothing here.
_DECIDE = Sql(
    "UPDATE purchase_prompt SET status = 'confirmed', decided_at = :now, decided_by_person_id = staff_person_id "
    "WHERE token = :token AND kind = :kind AND status = 'pending' AND expires_at > :now "
    "AND customer_person_id <> staff_person_id "
    "AND staff_person_id = (SELECT p.id FROM person p WHERE p.telegram_id = :telegram_id) "
    "AND EXISTS (SELECT 1 FROM staff_member m WHERE m.person_id = purchase_prompt.staff_person_id "
    "AND m.merchant_id = purchase_prompt.merchant_id AND m.revoked_at IS NULL) "
    "RETURNING id, merchant_id, customer_person_id, staff_person_id, purchases, amount, outlet_id, "
    "(SELECT s.timezone FROM merchant s WHERE s.id = purchase_prompt.merchant_id) AS timezone"
)
_LOCK = Sql("SELECT id FROM card WHERE merchant_id = :merchant_id AND person_id = :person_id FOR UPDATE")
# Read after the lock, in a statement of its own: every value as committed now (see crediting.py).
_HOLDER = Sql(
    "SELECT c.telegram_id, c.first_name, c.language, c.telegram_language, c.personal_code, c.unreachable_at, "
    "k.id AS card_id, k.stamps, k.promotions_opt_out, s.name AS merchant_name, s.quiet_hours, "
    f"{_STAMPED_TODAY} AS stamped_today, {_REWARDS_HELD} AS open_rewards, "
    "(SELECT max(v.created_at) FROM survey v WHERE v.merchant_id = :merchant_id AND v.person_id = c.id) "
    "AS last_survey_at, "
    "(SELECT max(v.rated_at) FROM survey v WHERE v.merchant_id = :merchant_id AND v.person_id = c.id) "
    f"AS last_rated_at, t.name AS tier_name, t.multiplier_permille AS tier_multiplier, {_RULE_COLUMNS}, "
    f"{_MEMBER_MULTIPLIER} AS member_multiplier, "
    f"k.points, g.stamps_enabled, g.points_enabled, g.stamps_finish, {_POINTS_RULE_COLUMNS}, "
    "cz.id AS cause_id, cz.name AS cause_name, cz.give_rupiah AS cause_give, cz.per_rupiah AS cause_per, "
    "EXISTS (SELECT 1 FROM webhook_endpoint w WHERE w.merchant_id = :merchant_id AND w.status <> 'deleted') "
    "AS has_webhooks, (SELECT o.slug FROM outlet o WHERE o.id = :outlet_id AND o.merchant_id = :merchant_id) "
    "AS outlet_slug "
    "FROM person c JOIN card k ON k.person_id = c.id AND k.merchant_id = :merchant_id "
    "JOIN merchant s ON s.id = :merchant_id JOIN program g ON g.merchant_id = :merchant_id "
    "LEFT JOIN tier t ON t.id = k.tier_id AND t.deleted_at IS NULL "
    "LEFT JOIN cause cz ON cz.merchant_id = :merchant_id AND cz.status = 'active' AND cz.ends_at > :now "
    "WHERE c.id = :person_id"
)
# Every row a purchase writes names it (``origin``): its refund takes back what names it.
_LEDGER_COLUMNS = (
    "INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, actor_person_id, "
    "idempotency_key, reward_id, prompt_id, origin, outlet_id, created_at) VALUES "
)
_ADD_REWARD_LEDGER = Sql(
    _LEDGER_COLUMNS + "(:merchant_id, :person_id, 'stamp', :spent, 'reward_issued', :actor_id, :full_key, "
    ":reward_id, :prompt_id, :origin, :outlet_id, :now), (:merchant_id, :person_id, 'reward', 1, 'reward_issued', "
    ":actor_id, :reward_key, :reward_id, :prompt_id, :origin, :outlet_id, :now) RETURNING id"
)
_ADD_REWARD = Sql(
    "INSERT INTO reward (merchant_id, person_id, code, name, issued_at, expires_at) "
    "VALUES (:merchant_id, :person_id, :code, :name, :now, :expires_at) "
    "ON CONFLICT (code) DO NOTHING RETURNING id"
)
# A purchase's own writes: its ledger row, the customer's card news, the card, who confirmed it.
# PostgreSQL takes them as one statement (one round trip); SQLite one by one (no writes in WITH).
_PURCHASE_WRITES = (
    _LEDGER_COLUMNS + "(:merchant_id, :person_id, 'stamp', :added, 'purchase', :actor_id, :ledger_key, NULL, "
    ":prompt_id, :origin, :outlet_id, :now) RETURNING id",
    # The card news, taken by the courier as it is written (storage/courier.py).
    "INSERT INTO outbox_message (idempotency_key, kind, category, chat_id, channel, person_id, merchant_id, "
    "subject_id, params, status, attempts, not_before, created_at, claimed_by, claimed_at) VALUES (:news_key, "
    "'card_update', 'result', :chat_id, :channel, :person_id, :merchant_id, :card_id, :params, 'sending', 1, :now, :now, :worker, :now) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    "UPDATE card SET stamps = :balance, last_purchase_at = :now, "
    "last_outlet_id = coalesce(:outlet_id, last_outlet_id) WHERE id = :card_id RETURNING id",
    "UPDATE staff_member SET last_active_at = :now WHERE person_id = :staff_id AND merchant_id = :merchant_id "
    "AND revoked_at IS NULL RETURNING id",
)
_RECORD_PURCHASE = tuple(Sql(text) for text in _PURCHASE_WRITES)
_RECORD_PURCHASE_AT_ONCE = Sql(
    "WITH "
    + ", ".join(f"w{number} AS ({text})" for number, text in enumerate(_PURCHASE_WRITES))
    + " SELECT (SELECT id FROM w1) AS id"
)
# A sale's points: their batch (its source unique: a sale credited before adds nothing), its ledger
# row with the amount, the card's balance and last visit. PostgreSQL: one statement, each write
# after the batch only when the batch was new; SQLite: one by one.
_EARN_WRITES = (
    "INSERT INTO points_batch (merchant_id, person_id, points, remaining, source, earned_at, expires_at) "
    "VALUES (:merchant_id, :person_id, :points, :points, :key, :now, :expires_at) "
    "ON CONFLICT (source) DO NOTHING RETURNING id",
    "INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, actor_person_id, idempotency_key, "
    "prompt_id, amount, origin, outlet_id, created_at) {source} RETURNING id",
    "UPDATE card SET points = points + :points, last_purchase_at = :now, last_outlet_id = "
    "coalesce(:outlet_id, last_outlet_id) WHERE id = :card_id {guard} RETURNING points",
)
_LEDGER_VALUES = (
    "(:merchant_id, :person_id, 'point', :points, 'purchase', :actor_id, :key, :prompt_id, :amount, :origin, "
    ":outlet_id, :now)"
)
# The same values selected from the new batch (typed: PostgreSQL infers nothing in a select list).
_LEDGER_SELECT = (
    "SELECT CAST(:merchant_id AS INTEGER), CAST(:person_id AS INTEGER), 'point', CAST(:points AS INTEGER), "
    "'purchase', CAST(:actor_id AS INTEGER), CAST(:key AS VARCHAR), CAST(:prompt_id AS INTEGER), "
    "CAST(:amount AS BIGINT), CAST(:origin AS VARCHAR), CAST(:outlet_id AS INTEGER), CAST(:now AS TIMESTAMPTZ) "
    "FROM w0"
)
_EARN = tuple(Sql(text.format(source="VALUES " + _LEDGER_VALUES, guard="")) for text in _EARN_WRITES)
_EARN_AT_ONCE = Sql(
    f"WITH w0 AS ({_EARN_WRITES[0]}), "
    f"w1 AS ({_EARN_WRITES[1].format(source=_LEDGER_SELECT)}), "
    f"w2 AS ({_EARN_WRITES[2].format(source='', guard='AND EXISTS (SELECT 1 FROM w0)')}) "
    "SELECT (SELECT id FROM w0) AS batch_id, (SELECT points FROM w2) AS points"
)
_TOUCH_STAFF = Sql(_PURCHASE_WRITES[3])
# The shop's gift to its cause for a purchase: a ledger row in rupiah, once per purchase.
_GIVE_TO_CAUSE = Sql(
    "INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, actor_person_id, idempotency_key, "
    "prompt_id, amount, cause_id, origin, outlet_id, created_at) VALUES (:merchant_id, :person_id, 'cause', "
    ":rupiah, 'shop_gift', :actor_id, :key, :prompt_id, :amount, :cause_id, :origin, :outlet_id, :now) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
_ADD_SURVEY = Sql(
    "INSERT INTO survey (merchant_id, person_id, prompt_id, outlet_id, created_at) "
    "VALUES (:merchant_id, :person_id, :prompt_id, :outlet_id, :now) RETURNING id"
)


@dataclass(frozen=True)
class StaffPlace:
    """One shop a staff member works at, as the counter needs it."""

    person_id: int
    acting_merchant_id: int | None
    member_id: int
    merchant_id: int
    merchant_name: str
    timezone: str
    misses: CodeMisses
    outlet_id: int | None = None  # where they work now (loyalty.staff.working_outlet)
    outlet_name: str | None = None
    outlets: int = 1  # how many the business has

    @property
    def where(self) -> str:
        """The shop's name, with the outlet's where the business has several."""
        return where_name(self.merchant_name, self.outlet_name, self.outlets)


@dataclass(frozen=True)
class CodeHolder:
    """The person behind a personal code, with their card at one shop (``card_id`` is ``None``
    when they hold none there) and the shop's program."""

    person_id: int
    telegram_id: int
    first_name: str
    username: str | None
    language: str | None
    telegram_language: str | None
    card_id: int | None
    stamps: int
    last_purchase_at: datetime | None
    stamped_today: int
    open_rewards: int
    rules: ProgramRules | None
    points: int = 0
    runs_stamps: bool = True
    runs_points: bool = False
    points_rules: PointsRules | None = None  # in a shop running points
    tier_multiplier: int = 1000  # the better of the level's and a paid membership's points multiplier
    stamps_finish: bool = False

    @property
    def kinds(self) -> Kinds:
        return Kinds(self.runs_stamps, self.runs_points, self.stamps_finish)


@dataclass(frozen=True)
class Decided:
    """A prompt just confirmed by the tap."""

    prompt_id: int
    merchant_id: int
    customer_id: int
    staff_id: int
    purchases: int
    timezone: str
    amount: int | None = None  # a sale's rupiah
    outlet_id: int | None = None  # where it was confirmed


@dataclass(frozen=True)
class LockedCard:
    """The customer, their card and the shop's rules, read after the card's lock."""

    telegram_id: int
    first_name: str
    language: str | None
    telegram_language: str | None
    personal_code: str
    reachable: bool
    card_id: int
    stamps: int
    promotions_opt_out: bool
    merchant_name: str
    quiet_hours: str
    stamped_today: int
    open_rewards: int
    last_survey_at: datetime | None
    rules: ProgramRules
    tier: tuple[str, int] | None = None  # the level held: name and points multiplier
    points: int = 0
    runs_stamps: bool = True
    runs_points: bool = False
    points_rules: PointsRules = PointsRules()
    cause: tuple[int, str, int, int] | None = None  # the running cause: id, name, gives Rp Y per Rp X
    member_multiplier: int = 1000  # a paid member's points multiplier
    webhooks: bool = False  # the shop has webhook endpoints: its events are written (storage/webhooks.py)
    stamps_finish: bool = False
    last_rated_at: datetime | None = None  # no survey within a week of a rating
    outlet: str | None = None  # the slug of the outlet the purchase is at (its events name it)

    @property
    def kinds(self) -> Kinds:
        return Kinds(self.runs_stamps, self.runs_points, self.stamps_finish)


def _rules(row: Any) -> ProgramRules:
    return ProgramRules(**{name: row[name] for name in _RULES})


class CounterStatements:
    """The hot path's statements on one driver transaction."""

    def __init__(self, tx: DriverTransaction) -> None:
        self.tx = tx

    async def usual_purchase(
        self, telegram_id: int, code: str, now: datetime
    ) -> tuple[StaffPlace, CodeHolder | None] | None:
        """The shop the Telegram user acts for as staff (``None``: they work nowhere), and the
        holder of a personal code with their card there (``None``: an unknown code)."""
        if self.tx.locks_rows:  # PostgreSQL: one round trip
            row = await self.tx.one(_USUAL_PURCHASE, telegram_id=telegram_id, code=code, now=now)
            if row is None:
                return None
            return self._place(row, row["staff_id"]), self._holder(row) if row[
                "person_id"
            ] is not None else None
        rows = await self.tx.all(_PLACES, telegram_id=telegram_id)
        places = [self._place(row, row["person_id"]) for row in rows]
        place = acting_place(places[0].acting_merchant_id, places) if places else None
        if place is None:
            return None
        since = local_day_start(now, place.timezone)
        row = await self.tx.one(
            _HOLDER_OF_CODE, merchant_id=place.merchant_id, code=code, since=since, now=now
        )
        return place, self._holder(row) if row is not None else None

    async def holder_of_code(
        self, merchant_id: int, code: str, since: datetime, now: datetime
    ) -> CodeHolder | None:
        """Whose personal code this is, with their card here; ``None`` for an unknown code."""
        row = await self.tx.one(_HOLDER_OF_CODE, merchant_id=merchant_id, code=code, since=since, now=now)
        return self._holder(row) if row is not None else None

    def _place(self, row: Any, person_id: int) -> StaffPlace:
        return StaffPlace(
            person_id,
            row["acting_merchant_id"],
            row["member_id"],
            row["merchant_id"],
            row["merchant_name"],
            row["timezone"],
            CodeMisses(
                row["code_misses"],
                self.tx.when(row["miss_window_start"]),
                row["misses_in_window"],
                row["locked_at"] is not None,
            ),
            row["outlet_id"],
            row["outlet_name"],
            int(row["outlets"] or 1),
        )

    def _holder(self, row: Any) -> CodeHolder:
        return CodeHolder(
            row["person_id"],
            row["telegram_id"],
            row["first_name"],
            row["username"],
            row["language"],
            row["telegram_language"],
            row["card_id"],
            row["stamps"] or 0,
            self.tx.when(row["last_purchase_at"]),
            int(row["stamped_today"]),
            int(row["open_rewards"]),
            _rules(row) if row["card_id"] is not None else None,
            row["points"] or 0,
            bool(row["stamps_enabled"]) if row["stamps_enabled"] is not None else True,
            bool(row["points_enabled"]),
            PointsRules(**{field: row[column] for column, field in POINTS_COLUMNS.items()})
            if row["points_enabled"]
            else None,
            max(int(row["tier_multiplier"] or 1000), int(row["member_multiplier"] or 1000)),
            bool(row["stamps_finish"]),
        )

    async def add_prompt(
        self,
        token: str,
        merchant_id: int,
        customer_id: int,
        staff_id: int,
        purchases: int,
        now: datetime,
        expires_at: datetime,
        *,
        kind: str = "purchase",
        amount: int | None = None,
        outlet_id: int | None = None,
    ) -> None:
        await self.tx.one(
            _ADD_PROMPT,
            outlet_id=outlet_id,
            token=token,
            kind=kind,
            merchant_id=merchant_id,
            customer_id=customer_id,
            staff_id=staff_id,
            purchases=purchases,
            amount=amount,
            now=now,
            expires_at=expires_at,
        )

    async def decide(
        self, token: str, telegram_id: int, now: datetime, kind: str = "purchase"
    ) -> Decided | None:
        """Confirm the pending prompt of ``kind`` (a purchase, a sale) behind a tap; ``None`` for any
        other tap."""
        row = await self.tx.one(_DECIDE, token=token, telegram_id=telegram_id, now=now, kind=kind)
        if row is None:
            return None
        return Decided(
            row["id"],
            row["merchant_id"],
            row["customer_person_id"],
            row["staff_person_id"],
            row["purchases"],
            row["timezone"],
            row["amount"],
            row["outlet_id"],
        )

    async def locked_card(
        self, merchant_id: int, person_id: int, since: datetime, now: datetime, outlet_id: int | None = None
    ) -> LockedCard | None:
        """Lock the customer's card (PostgreSQL; SQLite's writer holds the database), then read it."""
        if (
            self.tx.locks_rows
            and await self.tx.one(_LOCK, merchant_id=merchant_id, person_id=person_id) is None
        ):
            return None
        row = await self.tx.one(
            _HOLDER, merchant_id=merchant_id, person_id=person_id, since=since, now=now, outlet_id=outlet_id
        )
        if row is None:
            return None
        return LockedCard(
            row["telegram_id"],
            row["first_name"],
            row["language"],
            row["telegram_language"],
            row["personal_code"],
            row["unreachable_at"] is None,
            row["card_id"],
            row["stamps"],
            bool(row["promotions_opt_out"]),
            row["merchant_name"],
            row["quiet_hours"],
            int(row["stamped_today"]),
            int(row["open_rewards"]),
            self.tx.when(row["last_survey_at"]),
            _rules(row),
            (row["tier_name"], int(row["tier_multiplier"])) if row["tier_name"] is not None else None,
            int(row["points"]),
            bool(row["stamps_enabled"]),
            bool(row["points_enabled"]),
            PointsRules(**{field: row[column] for column, field in POINTS_COLUMNS.items()}),
            (row["cause_id"], row["cause_name"], int(row["cause_give"]), int(row["cause_per"]))
            if row["cause_id"] is not None
            else None,
            int(row["member_multiplier"] or 1000),
            bool(row["has_webhooks"]),
            bool(row["stamps_finish"]),
            self.tx.when(row["last_rated_at"]),
            row["outlet_slug"],
        )

    async def record_purchase(
        self,
        merchant_id: int,
        person_id: int,
        card_id: int,
        *,
        actor_id: int,
        prompt_id: int | None,
        now: datetime,
        added: int,
        balance: int,
        ledger_key: str,
        news_key: str,
        chat_id: int | None,
        news: dict[str, object],
        origin: str,
        staff_id: int | None = None,
        outlet_id: int | None = None,
    ) -> Parcel | None:
        """The purchase's ledger row, the card news for the customer (taken by the courier; a key
        queued before is kept, as `courier.enqueue`: ``None``), the card's new balance and the
        staff member's last stamp (``staff_id``: none for a till's sale)."""
        values: dict[str, Any] = dict(
            merchant_id=merchant_id,
            person_id=person_id,
            card_id=card_id,
            actor_id=actor_id,
            staff_id=staff_id,
            prompt_id=prompt_id,
            now=now,
            added=added,
            balance=balance,
            ledger_key=ledger_key,
            origin=origin,
            outlet_id=outlet_id,
            news_key=news_key,
            chat_id=chat_id,
            channel=courier.channel_of(chat_id),
            params=json.dumps(news),
            worker=courier.COURIER,
        )
        if self.tx.locks_rows:  # PostgreSQL
            row = await self.tx.one(_RECORD_PURCHASE_AT_ONCE, **values)
            news_id = row["id"] if row is not None else None
        else:
            ids = [
                await self.tx.one(sql, **{name: values[name] for name in sql.names})
                for sql in _RECORD_PURCHASE
            ]
            news_id = ids[1]["id"] if ids[1] is not None else None
        if news_id is None:
            return None
        message = dict(
            key=news_key,
            kind=str(Kind.CARD_UPDATE),
            category=str(Category.RESULT),
            chat_id=chat_id,
            channel=values["channel"],
            person_id=person_id,
            merchant_id=merchant_id,
            subject_id=card_id,
            params=values["params"],
            now=now,
        )
        return courier.queued(int(news_id), message, taken=True)

    async def add_reward(
        self, merchant_id: int, person_id: int, code: str, name: str, now: datetime, expires_at: datetime
    ) -> int | None:
        """A new reward's id; ``None`` when its code is taken (draw another)."""
        row = await self.tx.one(
            _ADD_REWARD,
            merchant_id=merchant_id,
            person_id=person_id,
            code=code,
            name=name,
            now=now,
            expires_at=expires_at,
        )
        return None if row is None else int(row["id"])

    async def add_reward_ledger(
        self,
        merchant_id: int,
        person_id: int,
        reward_id: int,
        *,
        actor_id: int,
        prompt_id: int | None,
        now: datetime,
        spent: int,
        full_key: str,
        reward_key: str,
        origin: str,
        outlet_id: int | None = None,
    ) -> None:
        """The full card's stamps out and the reward in: two ledger rows, one statement."""
        await self.tx.one(
            _ADD_REWARD_LEDGER,
            origin=origin,
            outlet_id=outlet_id,
            merchant_id=merchant_id,
            person_id=person_id,
            actor_id=actor_id,
            prompt_id=prompt_id,
            reward_id=reward_id,
            now=now,
            spent=-spent,
            full_key=full_key,
            reward_key=reward_key,
        )

    async def earn(
        self,
        merchant_id: int,
        person_id: int,
        card_id: int,
        *,
        points: int,
        key: str,
        amount: int,
        actor_id: int,
        prompt_id: int | None,
        now: datetime,
        expires_at: datetime | None,
        origin: str,
        outlet_id: int | None = None,
    ) -> int | None:
        """A sale's points as a batch of their own, its ledger row and the card's balance (returned);
        ``None`` when this source was credited before (nothing is added)."""
        values: dict[str, Any] = dict(
            origin=origin,
            outlet_id=outlet_id,
            merchant_id=merchant_id,
            person_id=person_id,
            card_id=card_id,
            points=points,
            key=key,
            amount=amount,
            actor_id=actor_id,
            prompt_id=prompt_id,
            now=now,
            expires_at=expires_at,
        )
        if self.tx.locks_rows:  # PostgreSQL
            row = await self.tx.one(_EARN_AT_ONCE, **{name: values[name] for name in _EARN_AT_ONCE.names})
            return int(row["points"]) if row is not None and row["batch_id"] is not None else None
        if await self.tx.one(_EARN[0], **{name: values[name] for name in _EARN[0].names}) is None:
            return None
        await self.tx.one(_EARN[1], **{name: values[name] for name in _EARN[1].names})
        row = await self.tx.one(_EARN[2], **{name: values[name] for name in _EARN[2].names})
        assert row is not None
        return int(row["points"])

    async def give_to_cause(
        self,
        merchant_id: int,
        person_id: int,
        cause_id: int,
        *,
        rupiah: int,
        key: str,
        amount: int,
        actor_id: int,
        prompt_id: int | None,
        now: datetime,
        origin: str,
        outlet_id: int | None = None,
    ) -> bool:
        """The shop's gift for a purchase; ``False`` when this purchase gave before."""
        row = await self.tx.one(
            _GIVE_TO_CAUSE,
            origin=origin,
            outlet_id=outlet_id,
            merchant_id=merchant_id,
            person_id=person_id,
            cause_id=cause_id,
            rupiah=rupiah,
            key=key,
            amount=amount,
            actor_id=actor_id,
            prompt_id=prompt_id,
            now=now,
        )
        return row is not None

    async def touch_staff(self, merchant_id: int, actor_id: int, now: datetime) -> None:
        await self.tx.one(_TOUCH_STAFF, merchant_id=merchant_id, staff_id=actor_id, now=now)

    async def enqueue(self, **message: Any) -> Parcel | None:
        """Queue one message in the outbox (`courier.enqueue`)."""
        return await courier.enqueue(self.tx, **message)

    async def emit(self, **event: Any) -> int:
        """An event for the shop's webhook endpoints, in this transaction (`webhooks.emit`)."""
        return await webhooks.emit(self.tx, **event)

    async def add_survey(
        self,
        merchant_id: int,
        person_id: int,
        prompt_id: int | None,
        now: datetime,
        outlet_id: int | None = None,
    ) -> int:
        row = await self.tx.one(
            _ADD_SURVEY,
            merchant_id=merchant_id,
            person_id=person_id,
            prompt_id=prompt_id,
            now=now,
            outlet_id=outlet_id,
        )
        assert row is not None
        return int(row["id"])
