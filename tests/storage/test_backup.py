"""Backups that restore, on SQLite and PostgreSQL: one taken while 20 staff confirm purchases
restores to books that add up and hold every purchase confirmed before it began; a damaged or
foreign file is refused; a restore is refused while a bot or scheduler beats on the database; the
scheduler's daily backup runs once in the quiet hours, prunes old ones, and tells the admins once
when it fails."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from kartu.bot.cli import main as kartu
from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.backup import BackupFailed, restore_backup, take_backup
from kartu.storage.beats import beat
from kartu.storage.database import Database
from kartu.storage.migrate import upgrade
from tests.conftest import _drop_postgres_database, _postgres_database
from tests.invariants import balances_off_their_ledger

OWNER, ADMIN = 100, 900
STAFF = [1000 + number for number in range(20)]


async def _busy_shop(services: Services) -> list[str]:
    """A shop with 20 staff and 20 customers; the customers' codes."""
    created = await services.merchants.create_merchant(
        "Kopi Senja", OWNER, rules=ProgramRules(daily_stamp_cap=0)
    )
    for telegram_id in STAFF:
        token = await services.merchants.invite_staff(OWNER)
        await services.customers.start(TelegramProfile(telegram_id, f"Staff {telegram_id}"), f"staff_{token}")
    codes = []
    for number in range(20):
        joined = await services.customers.start(
            TelegramProfile(3000 + number, f"C{number}"), f"m_{created.slug}"
        )
        assert joined.joined is not None
        codes.append(joined.joined.card.personal_code)
    return codes


async def _fresh_database(db: Database, tmp_path: Path) -> tuple[Database, str | None]:
    """An empty database of the same kind, migrated (to restore into); the PostgreSQL name to drop."""
    if db.is_sqlite:
        fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}")
        name = None
    else:
        made = await _postgres_database()
        assert made is not None
        url, name = made
        fresh = Database(url)
    await upgrade(fresh.engine)
    return fresh, name


async def _purchases(db: Database) -> set[str]:
    async with db.read() as uow:
        rows = await uow.session.execute(
            text("SELECT idempotency_key FROM ledger_entry WHERE reason = 'purchase'")
        )
        return {str(row[0]) for row in rows}


async def test_a_backup_taken_while_twenty_staff_confirm_restores_to_books_that_add_up(
    services: Services, db: Database, tmp_path: Path
) -> None:
    codes = await _busy_shop(services)
    confirmed = 0
    before_backup: set[str] = set()

    async def staff_at_work(barista: int, code: str) -> None:
        nonlocal confirmed
        for _ in range(8):
            prompt = await services.counter.open_purchase(barista, code)
            await services.counter.confirm_purchase(barista, prompt.token)
            confirmed += 1
            await asyncio.sleep(0)

    async def back_up_meanwhile() -> Path:
        while confirmed < 40:
            await asyncio.sleep(0.005)
        before_backup.update(await _purchases(db))  # committed, every one, before the backup begins
        return (await take_backup(db, tmp_path / ("during.db" if db.is_sqlite else "during.dump"))).path

    *_, path = await asyncio.gather(
        *(staff_at_work(barista, code) for barista, code in zip(STAFF, codes, strict=True)),
        back_up_meanwhile(),
    )
    assert len(await _purchases(db)) == 160  # all of them, in the live database
    fresh, name = await _fresh_database(db, tmp_path)
    try:
        await restore_backup(fresh, path, tmp_path / ("aside.db" if db.is_sqlite else "aside.dump"))
        restored = await _purchases(fresh)
        assert len(before_backup) >= 40 and before_backup <= restored
        assert not await balances_off_their_ledger(fresh)
    finally:
        await fresh.dispose()
        if name is not None:
            await _drop_postgres_database(name)


async def test_a_damaged_or_foreign_file_is_refused_and_nothing_is_replaced(
    services: Services, db: Database, tmp_path: Path
) -> None:
    await services.merchants.create_merchant("Kopi Senja", OWNER)
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    for bad in (damaged, tmp_path / "missing.db"):
        with pytest.raises(BackupFailed):
            await restore_backup(db, bad, tmp_path / "aside")
    async with db.read() as uow:
        assert (await uow.merchants.by_slug("kopi-senja")) is not None  # the database is as it was
    assert not (tmp_path / "aside").exists()


def test_restore_is_refused_while_a_bot_beats_and_works_once_it_stopped(tmp_path: Path) -> None:
    """Through `kartu backup` and `kartu restore`, as an operator types them (SQLite)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}"
    env = {"KARTU_DATABASE_URL": url, "KARTU_BOT_TOKEN": "", "KARTU_BACKUP_DIR": str(tmp_path / "backups")}
    runner = CliRunner()
    assert runner.invoke(kartu, ["db", "upgrade"], env=env).exit_code == 0
    taken = runner.invoke(kartu, ["backup"], env=env)
    assert taken.exit_code == 0, taken.output
    (backup,) = (tmp_path / "backups").iterdir()
    assert backup.name.startswith("kartu-") and "schema" in taken.output

    async def a_bot_runs() -> None:
        database = Database(url)
        await beat(database, "bot", datetime.now(UTC))
        await database.dispose()

    asyncio.run(a_bot_runs())
    refused = runner.invoke(kartu, ["restore", str(backup)], env=env)
    assert refused.exit_code == 1 and "stop Kartu first" in refused.output and "bot:" in refused.output

    async def it_stopped() -> None:
        database = Database(url)
        async with database.write() as uow:
            await uow.session.execute(text("DELETE FROM process_beat"))
        await database.dispose()

    asyncio.run(it_stopped())
    restored = runner.invoke(kartu, ["restore", str(backup)], env=env)
    assert restored.exit_code == 0, restored.output
    assert "kartu-before-restore-" in restored.output


async def test_the_daily_backup_runs_once_in_the_quiet_hours_prunes_and_tells_admins_once_when_it_fails(
    db: Database, settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    services = Services.build(
        db,
        settings.model_copy(update={"backup_dir": str(folder), "backup_keep_days": 3, "admin_ids": {ADMIN}}),
        clock,
    )
    await services.merchants.create_merchant("Kopi Senja", OWNER)  # quiet 21:00-08:00 in Jakarta
    await services.customers.start(TelegramProfile(ADMIN, "Operator"), None)  # the admin wrote to the bot
    clock.set(clock.now().replace(hour=6, minute=0))  # 13:00 in Jakarta: open, no backup
    assert await services.backups.daily() is None and not folder.exists()
    clock.advance(hours=14)  # 03:00 in Jakarta
    folder.mkdir()
    old = folder / "kartu-20000101-030000.db"
    old.write_bytes(b"")
    theirs = folder / "kartu-before-restore-20000101-030000.db"
    theirs.write_bytes(b"")
    first = await services.backups.daily()
    assert first is not None and first.path.parent == folder
    assert await services.backups.daily() is None  # once a day
    assert not old.exists() and theirs.exists()  # pruned: its own old ones, not a restore's copy
    # Tomorrow the folder cannot be made (a file stands where it goes, root or not): the admins
    # hear once, not every ten minutes.
    clock.advance(days=1)
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    broken = Services.build(
        db,
        settings.model_copy(update={"backup_dir": str(blocked / "backups"), "admin_ids": {ADMIN}}),
        clock,
    )
    assert await broken.backups.daily() is None
    assert await broken.backups.daily() is None
    async with db.read() as uow:
        alerts = (
            await uow.session.execute(text("SELECT chat_id FROM outbox_message WHERE kind = 'backup_alert'"))
        ).all()
    assert alerts == [(ADMIN,)]
