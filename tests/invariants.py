"""What must hold of the database whatever happened before, as plain checks over SQL: the model-based
tests (tests/model) run them after every step, the example tests where they fit. Each returns the
problems it found (empty: it holds), so a failure names every broken row at once."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import String, Text, or_, select, text
from sqlmodel import SQLModel

from kartu.bot.i18n import KartuI18n
from kartu.presenters.notices import render_notice
from kartu.sandbox.rules import TelegramRefusal, check_markup, checked_text
from kartu.services.delivery import Notice
from kartu.storage.database import Database
from kartu.storage.register import REGISTER, Erase, personal_columns
from kartu.storage.repositories.personal_data import Subject, rows_about


async def _rows(db: Database, sql: str, **values: Any) -> Sequence[Any]:
    async with db.read() as uow:
        return (await uow.session.execute(text(sql), values)).all()


async def outlets_off_their_staff(db: Database) -> list[str]:
    """Every purchase confirmed at the counter records the outlet its staff member works at (their
    own, else the business's first); every row naming a purchase (a spin, a voucher, a refund) and
    every survey of one, the purchase's."""
    problems = []
    for entry_id, recorded, worked in await _rows(
        db,
        """
        SELECT l.id, l.outlet_id, coalesce(m.outlet_id, m.at_outlet_id,
            (SELECT min(o.id) FROM outlet o WHERE o.merchant_id = l.merchant_id))
        FROM ledger_entry l JOIN purchase_prompt p ON p.id = l.prompt_id
        JOIN staff_member m ON m.person_id = p.staff_person_id AND m.merchant_id = l.merchant_id
        WHERE l.reason = 'purchase'
        """,
    ):
        if recorded != worked:
            problems.append(f"ledger row {entry_id}: at outlet {recorded}, its staff work at {worked}")
    for entry_id, recorded, bought in await _rows(
        db,
        """
        SELECT l.id, l.outlet_id, p.outlet_id FROM ledger_entry l
        JOIN ledger_entry p ON p.origin = l.origin AND p.reason = 'purchase' AND p.outlet_id IS NOT NULL
        WHERE coalesce(l.outlet_id, -1) <> p.outlet_id
        """,
    ):
        problems.append(f"ledger row {entry_id}: at outlet {recorded}, the purchase it names at {bought}")
    for survey_id, recorded, prompted in await _rows(
        db,
        "SELECT v.id, v.outlet_id, p.outlet_id FROM survey v JOIN purchase_prompt p ON p.id = v.prompt_id",
    ):
        if recorded != prompted:
            problems.append(f"survey {survey_id}: at outlet {recorded}, its purchase at {prompted}")
    return problems


async def balances_off_their_ledger(db: Database) -> list[str]:
    """Each card's stamps and points equal the sum of its ledger rows, its points the points its
    live batches hold, and its ready spins the sum of its spin rows."""
    problems = []
    for card_id, stamps, points, stamp_rows, point_rows, batches, spins, spin_rows in await _rows(
        db,
        """
        SELECT k.id, k.stamps, k.points,
            (SELECT coalesce(sum(delta), 0) FROM ledger_entry l
                WHERE l.merchant_id = k.merchant_id AND l.person_id = k.person_id AND l.asset = 'stamp'),
            (SELECT coalesce(sum(delta), 0) FROM ledger_entry l
                WHERE l.merchant_id = k.merchant_id AND l.person_id = k.person_id AND l.asset = 'point'),
            (SELECT coalesce(sum(remaining), 0) FROM points_batch b
                WHERE b.merchant_id = k.merchant_id AND b.person_id = k.person_id),
            (SELECT count(*) FROM spin s
                WHERE s.merchant_id = k.merchant_id AND s.person_id = k.person_id AND s.status = 'ready'),
            (SELECT coalesce(sum(delta), 0) FROM ledger_entry l
                WHERE l.merchant_id = k.merchant_id AND l.person_id = k.person_id AND l.asset = 'spin')
        FROM card k
        """,
    ):
        if stamps != stamp_rows:
            problems.append(f"card {card_id}: {stamps} stamps, its ledger says {stamp_rows}")
        if not points == point_rows == batches:
            problems.append(f"card {card_id}: {points} points, ledger {point_rows}, live batches {batches}")
        if spins != spin_rows:
            problems.append(f"card {card_id}: {spins} spins ready, its ledger says {spin_rows}")
        if stamps < 0 or points < 0:
            problems.append(f"card {card_id}: below zero ({stamps} stamps, {points} points)")
    return problems


async def rewards_used_more_than_once(db: Database) -> list[str]:
    """A reward or voucher is issued once and used, lapsed, given away or voided at most once: its
    rows add up to 1 (still usable) or 0, and a redeemed one was redeemed exactly once."""
    problems = []
    for reward_id, code, redeemed_at, net, used in await _rows(
        db,
        """
        SELECT r.id, r.code, r.redeemed_at,
            (SELECT coalesce(sum(delta), 0) FROM ledger_entry l WHERE l.reward_id = r.id AND l.asset = 'reward'),
            (SELECT count(*) FROM ledger_entry l WHERE l.reward_id = r.id AND l.reason = 'reward_redeemed')
        FROM reward r
        """,
    ):
        if net not in (0, 1):
            problems.append(f"reward {code} ({reward_id}): its rows add up to {net}")
        if used > 1 or (redeemed_at is not None) != (used == 1):
            problems.append(f"reward {code}: redeemed {used} times, redeemed_at {redeemed_at}")
        if redeemed_at is not None and net != 0:
            problems.append(f"reward {code}: redeemed, yet still counts as usable")
    return problems


async def effects_left_by_refunds(db: Database, sources: Iterable[str]) -> list[str]:
    """Nothing a refunded purchase set off is left to use: no reward or voucher it issued (a spin's
    prize too) is usable, no points of its batches are left, its spin is not ready, its gift to a
    cause is withdrawn, and its stamp rows net to what the refund recorded it could not take back
    (stamps are not told apart, so what the card no longer held is short); a receipt refunded
    before anyone claimed it can no longer be claimed."""
    problems = []
    for source in sources:
        for (state,) in await _rows(
            db, "SELECT claimed_at IS NULL AND voided_at IS NULL FROM receipt WHERE source = :s", s=source
        ):
            if state:
                problems.append(f"refunded {source}: its receipt can still be claimed")
        recorded = await _rows(db, "SELECT stamps_short FROM purchase_refund WHERE source = :s", s=source)
        short = recorded[0][0] if recorded else 0  # a receipt refunded before anyone claimed it: no rows
        for asset, total in await _rows(
            db,
            "SELECT asset, sum(delta) FROM ledger_entry WHERE origin = :s AND asset IN ('stamp', 'cause') "
            "GROUP BY asset",
            s=source,
        ):
            if total != (short if asset == "stamp" else 0):
                problems.append(f"refunded {source}: its {asset} rows add up to {total} (short {short})")
        for (code,) in await _rows(
            db,
            "SELECT r.code FROM reward r WHERE r.redeemed_at IS NULL AND r.expired_at IS NULL AND r.id IN "
            "(SELECT reward_id FROM ledger_entry WHERE origin = :s AND asset = 'reward' AND delta > 0)",
            s=source,
        ):
            problems.append(f"refunded {source}: its reward {code} is still usable")
        for batch, remaining in await _rows(
            db,
            "SELECT id, remaining FROM points_batch WHERE remaining > 0 AND source IN "
            "(SELECT idempotency_key FROM ledger_entry WHERE origin = :s AND asset = 'point' AND delta > 0)",
            s=source,
        ):
            problems.append(f"refunded {source}: its points batch {batch} still holds {remaining}")
        for (status,) in await _rows(
            db, "SELECT status FROM spin WHERE source LIKE :like", like=f"%{source}%"
        ):
            if status == "ready":
                problems.append(f"refunded {source}: its spin is still ready")
    return problems


@dataclass(frozen=True)
class Forgotten:
    """Someone who used /forget: who the rows were about, and values only they had."""

    subject: Subject
    needles: tuple[str, ...]  # their name, username and personal code as they were
    telegram_id_reused: bool = False  # they came back: chats and keys by Telegram id are theirs again


async def personal_values_left(db: Database, forgotten: Sequence[Forgotten]) -> list[str]:
    """After /forget, no row about those people holds a personal value the register says to erase,
    and none of their own values is left in any table (except columns kept by law)."""
    if not forgotten:
        return []
    problems = []
    subjects = [
        replace(gone.subject, telegram_id=None) if gone.telegram_id_reused else gone.subject  # the newcomer's
        for gone in forgotten
    ]
    needles = [needle for gone in forgotten for needle in gone.needles if needle]
    kept = {
        (name, column)
        for name in REGISTER
        for column, rule in personal_columns(name).items()
        if rule.erase is Erase.KEEP
    }
    async with db.read() as uow:
        for name, table in SQLModel.metadata.tables.items():
            rules = personal_columns(name)
            about = or_(*(rows_about(name, subject) for subject in subjects))
            for row in (await uow.session.execute(select(table).where(about))).all() if rules else ():
                for column, rule in rules.items():
                    value = row._mapping[column]
                    if rule.erase is Erase.NULL and value is not None:
                        problems.append(f"{name}.{column} still holds {str(value)[:60]!r}")
                    elif rule.erase is Erase.BLANK and value != "":
                        problems.append(f"{name}.{column} still holds {str(value)[:60]!r}")
                    elif rule.erase is Erase.DELETE_ROW:
                        problems.append(f"{name}: a row about a forgotten person is left")
                        break
            texts = [
                column
                for column in table.columns
                if isinstance(column.type, String | Text) and (name, column.name) not in kept
            ]
            for row in (await uow.session.execute(select(*texts))).all() if texts else ():
                for column, value in zip(texts, row, strict=True):
                    for needle in needles:
                        if value is not None and needle in str(value):
                            problems.append(f"{name}.{column.name} still holds {needle!r}")
    return problems


# English words that never appear in an Indonesian message of Kartu (names and codes aside; "level",
# "member", "refund" and "voucher" are Indonesian shop words too).
ENGLISH = re.compile(
    r"\b(the|your|you|stamps?|points?|rewards?|card|purchase|earned|expires?|expired|spin|"
    r"thanks?|got|has|have|was|were|and|with|from|free|left|until|welcome|refunded)\b",
    re.IGNORECASE,
)


def english_in(indonesian: str) -> list[str]:
    plain = re.sub(r"<[^>]+>", " ", indonesian)
    plain = re.sub(r"https?://\S+|/[a-z_]+", " ", plain)  # links and commands are not prose
    return sorted({match.group(0) for match in ENGLISH.finditer(plain)})


async def badly_rendered(i18n: KartuI18n, notice: Notice) -> list[str]:
    """The message as Telegram would take it, in Indonesian and in English: text and caption within
    Telegram's HTML rules and lengths, buttons within theirs, no English in the Indonesian."""
    problems = []
    for language in ("id", "en"):
        shown = replace(notice, language=language) if hasattr(notice, "language") else notice
        rendered = await render_notice(i18n, shown)
        try:
            checked_text(rendered.text, "HTML", caption=rendered.photo is not None)
            if isinstance(rendered.markup, InlineKeyboardMarkup):
                check_markup(json.loads(rendered.markup.model_dump_json(exclude_none=True)))
        except TelegramRefusal as refused:
            problems.append(f"{type(notice).__name__} in {language}: Telegram refuses it ({refused})")
        if language == "id" and (words := english_in(rendered.text)):
            problems.append(
                f"{type(notice).__name__} in Indonesian has English {words}: {rendered.text[:200]!r}"
            )
    return problems


class ErrorsLogged(logging.Handler):
    """Every ERROR Kartu logs (an update that failed into the apology, a shop's sweep that raised):
    add it to the ``kartu`` logger while a test plays, and ``seen`` stays empty."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(self.format(record))
