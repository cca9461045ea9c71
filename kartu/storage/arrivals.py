"""What every update needs before a handler sees it, in one step on the driver: that it is new
(recorded, so a second delivery has no effect), who sent it (the language they chose, the profile
Telegram last showed) and the form they have open. SQLite takes two statements, PostgreSQL one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kartu.loyalty.kinds import Kinds
from kartu.storage.driver import DriverTransaction, Sql

_RECORD = (  # new, or journaled and not started yet: this delivery handles it
    "INSERT INTO processed_update (update_id, received_at, started_at, attempts) VALUES (:update_id, :now, :now, 0) "
    "ON CONFLICT (update_id) DO UPDATE SET started_at = excluded.started_at "
    "WHERE processed_update.started_at IS NULL RETURNING update_id"
)
_WHO = (
    "SELECT p.id AS person_id, p.first_name, p.username, p.telegram_language, p.language, p.unreachable_at, "
    "p.current_merchant_id, g.stamps_enabled, g.points_enabled, g.stamps_finish, "
    # The role at the shop they act for: their /shop choice, else the first shop they joined
    # (loyalty.staff.acting_place).
    # (SQLite takes no outer column in a subquery's ORDER BY: the person is joined again inside.)
    "(SELECT m.role FROM staff_member m JOIN person q ON q.id = m.person_id WHERE q.id = p.id "
    "AND m.revoked_at IS NULL ORDER BY CASE WHEN m.merchant_id = q.acting_merchant_id THEN 0 ELSE 1 END, "
    "m.added_at, m.id LIMIT 1) AS role, "
    "c.state, c.updated_at AS state_updated_at FROM (SELECT 1 AS one) AS here "
    "LEFT JOIN person p ON p.telegram_id = :telegram_id LEFT JOIN conversation_state c ON c.key = :state_key "
    "LEFT JOIN program g ON g.merchant_id = p.current_merchant_id"
)
_RECORD_ONE = Sql(_RECORD)
_WHO_ONE = Sql(_WHO)
_AT_ONCE = Sql(
    f"WITH fresh AS ({_RECORD}) SELECT (SELECT count(*) FROM fresh) AS fresh, who.* FROM ({_WHO}) AS who"
)


@dataclass(frozen=True)
class Sender:
    """The person behind an update, as stored."""

    first_name: str
    username: str | None
    telegram_language: str | None
    language: str | None
    reachable: bool
    has_card: bool  # collects stamps somewhere
    role: str | None  # at the shop they act for; ``None``: works nowhere
    kinds: Kinds = Kinds()  # what their current shop runs


@dataclass(frozen=True)
class Arrived:
    first_time: bool
    sender: Sender | None  # ``None``: someone the bot has not met
    state: str | None  # their open form, if any
    state_updated_at: datetime | None


async def arrive(
    tx: DriverTransaction, update_id: int, now: datetime, telegram_id: int, state_key: str
) -> Arrived:
    """Record the update and read its sender and their form (``telegram_id`` 0: no sender), on
    statements that each commit alone (`Database.driver(transaction=False)`)."""
    values = dict(update_id=update_id, now=now, telegram_id=telegram_id, state_key=state_key)
    if tx.locks_rows:  # PostgreSQL: one round trip
        row = await tx.one(_AT_ONCE, **values)
        assert row is not None
        first_time = bool(row["fresh"])
    else:  # SQLite: the insert in the writers' queue, the read beside it
        first_time = await tx.one(_RECORD_ONE, update_id=update_id, now=now) is not None
        row = await tx.one(_WHO_ONE, telegram_id=telegram_id, state_key=state_key)
        assert row is not None
    sender = (
        Sender(
            row["first_name"],
            row["username"],
            row["telegram_language"],
            row["language"],
            row["unreachable_at"] is None,
            row["current_merchant_id"] is not None,
            row["role"],
            Kinds(bool(row["stamps_enabled"]), bool(row["points_enabled"]), bool(row["stamps_finish"]))
            if row["stamps_enabled"] is not None
            else Kinds(),
        )
        if row["person_id"] is not None
        else None
    )
    return Arrived(first_time, sender, row["state"], tx.when(row["state_updated_at"]))
