"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from kartu.storage.database import Database
from kartu.storage.migrate import pending_revisions, upgrade


async def test_migrations_match_the_models(db: Database) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with db.engine.connect() as connection:
        assert await connection.run_sync(diff) == []
    assert await pending_revisions(db.engine) == []
    await upgrade(db.engine)  # a second run is a no-op


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    try:
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() >= 5000
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await database.dispose()


async def test_rows_written_before_0017_name_their_purchase_after_it(
    database_url: str, tmp_path: Path
) -> None:
    """A refund reads what a purchase set off by ``origin``: the migration gives rows written before
    it their purchase from their keys (stamps, points, cards filled, rewards, spins and their
    prizes, vouchers, refunds), and records refunds made before."""
    if database_url.startswith("sqlite"):  # the fixture's file is migrated already: start empty
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'before-0017.db'}"
    database = Database(database_url)
    try:
        await upgrade(database.engine, "0016")
        now = datetime(2026, 11, 30, 10, tzinfo=UTC)
        rows = [
            ("purchase:17", "stamp", 1, "purchase", None),
            ("points:api-1-T9", "point", 12, "purchase", None),
            ("cause:api-1-T9", "cause", 1000, "shop_gift", None),
            ("card-full:api-1-T9:0", "stamp", -10, "reward_issued", 1),
            ("reward:api-1-T9:0", "reward", 1, "reward_issued", 1),
            ("spin-earned:api-1-T9", "spin", 1, "earned", None),
            ("spin-used:1", "spin", -1, "spun", None),
            ("stamps:spin:1", "stamp", 2, "spin", None),
            ("voucher:4:api-1-T9", "reward", 1, "partner", 2),
            ("refund-stamps:17", "stamp", -1, "refund", None),
            ("refund-reward:1", "reward", -1, "refund", 1),
            ("points:adjust-100-1", "point", 5, "adjusted", None),
        ]
        async with database.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO merchant (id, slug, name, timezone, quiet_hours, address, created_at) "
                    "VALUES (1, 'kopi', 'Kopi', 'Asia/Jakarta', '21:00-08:00', '', :now)"
                ),
                {"now": now},
            )
            await connection.execute(
                text(
                    "INSERT INTO person (id, telegram_id, first_name, personal_code, created_at) "
                    "VALUES (1, 300, 'Ayu', 'AAAABBBB', :now)"
                ),
                {"now": now},
            )
            for number in (1, 2):
                await connection.execute(
                    text(
                        "INSERT INTO reward (id, merchant_id, person_id, code, name, issued_at, expires_at) "
                        "VALUES (:id, 1, 1, :code, 'Kopi', :now, :now)"
                    ),
                    {"id": number, "code": f"CODE{number}", "now": now},
                )
            await connection.execute(
                text(
                    "INSERT INTO spin (id, merchant_id, person_id, source, status, earned_at, expires_at) "
                    "VALUES (1, 1, 1, 'spin:api-1-T9', 'spun', :now, :now)"
                ),
                {"now": now},
            )
            for key, asset, delta, reason, reward in rows:
                await connection.execute(
                    text(
                        "INSERT INTO ledger_entry (merchant_id, person_id, asset, delta, reason, "
                        "idempotency_key, reward_id, created_at) "
                        "VALUES (1, 1, :asset, :delta, :reason, :key, :reward, :now)"
                    ),
                    {
                        "asset": asset,
                        "delta": delta,
                        "reason": reason,
                        "key": key,
                        "reward": reward,
                        "now": now,
                    },
                )
        await upgrade(database.engine)
        async with database.engine.connect() as connection:
            named = dict(
                (await connection.execute(text("SELECT idempotency_key, origin FROM ledger_entry"))).all()
            )
            refunds = (await connection.execute(text("SELECT source FROM purchase_refund"))).scalars().all()
        assert named.pop("points:adjust-100-1") is None  # an owner's change: no purchase
        assert named.pop("purchase:17") == named.pop("refund-stamps:17") == "17"
        assert set(named.values()) == {"api-1-T9"}, named
        assert refunds == ["17"]
    finally:
        await database.dispose()


async def test_every_shop_becomes_a_business_with_one_outlet(database_url: str, tmp_path: Path) -> None:
    """Migration 0030: each existing shop gets its first outlet, with its slug, name, address,
    location and time zone, and keeps its join link (the business's slug)."""
    if database_url.startswith("sqlite"):
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'before-0030.db'}"
    database = Database(database_url)
    try:
        await upgrade(database.engine, "0029")
        now = datetime(2026, 12, 1, 10, tzinfo=UTC)
        async with database.engine.begin() as connection:
            for number, slug, zone in (
                (1, "kopi-senja", "Asia/Jakarta"),
                (2, "warung-bali", "Asia/Makassar"),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO merchant (id, slug, name, timezone, quiet_hours, address, latitude, "
                        "longitude, created_at) VALUES (:id, :slug, :name, :zone, '21:00-08:00', 'Jl. Kopi 1', "
                        "-6.2, 106.8, :now)"
                    ),
                    {
                        "id": number,
                        "slug": slug,
                        "name": slug.replace("-", " ").title(),
                        "zone": zone,
                        "now": now,
                    },
                )
        await upgrade(database.engine)
        async with database.read() as uow:
            for merchant_id, slug, zone in (
                (1, "kopi-senja", "Asia/Jakarta"),
                (2, "warung-bali", "Asia/Makassar"),
            ):
                (outlet,) = await uow.merchants.outlets(merchant_id)
                assert (outlet.slug, outlet.timezone, outlet.address) == (slug, zone, "Jl. Kopi 1")
                assert (outlet.latitude, outlet.longitude) == (-6.2, 106.8)
                assert (await uow.merchants.by_slug(slug)) is not None  # the join link still finds the shop
    finally:
        await database.dispose()
