"""The middle tier: use cases called directly, in one process, on a real SQLite file (milliseconds
each). Where SQL differs between databases, the storage tests run on PostgreSQL too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database

OWNER, BARISTA, CUSTOMER, STRANGER = 100, 200, 300, 999


@pytest.fixture
async def services(migrated_sqlite_url: str, clock: FrozenClock) -> AsyncIterator[Services]:
    """Services on this test's own migrated SQLite file (SQLite only: this tier is about rules)."""
    sqlite_url = migrated_sqlite_url
    database = Database(sqlite_url)
    try:
        yield Services.build(
            database, Settings(_env_file=None, bot_token="42:TEST", database_url=sqlite_url), clock
        )
    finally:
        await database.dispose()


@dataclass
class Shop:
    """A shop with an owner (100), a barista (200) and a customer (300, "Ayu") who joined."""

    services: Services
    slug: str
    customer_code: str

    async def purchase(self, purchases: int = 1, staff: int = BARISTA) -> None:
        prompt = await self.services.counter.open_purchase(staff, self.customer_code, str(purchases))
        await self.services.counter.confirm_purchase(staff, prompt.token)


async def open_shop(services: Services, rules: ProgramRules | None = None, name: str = "Kopi Senja") -> Shop:
    created = await services.merchants.create_merchant(
        name, OWNER, rules=rules or ProgramRules(daily_stamp_cap=0)
    )
    token = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(BARISTA, "Budi", "budi", "en"), f"staff_{token}")
    joined = await services.customers.start(
        TelegramProfile(CUSTOMER, "Ayu", "ayu_k", "id"), f"m_{created.slug}"
    )
    assert joined.joined is not None
    return Shop(services, created.slug, joined.joined.card.personal_code)


@pytest.fixture
async def shop(services: Services) -> Shop:
    return await open_shop(services)
