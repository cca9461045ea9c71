"""Shared fixtures: a real SQLite file per test, and a real PostgreSQL database when a server answers."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
import uvicorn

from kartu.api.app import create_app
from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.services.container import Services
from kartu.storage.database import Database
from kartu.storage.migrate import upgrade

if TYPE_CHECKING:
    from kartu.sandbox import TelegramUser
    from tests.e2e.world import World

OWNER_ID = 100

POSTGRES_URL = os.environ.get(
    "KARTU_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _postgres_database() -> tuple[str, str] | None:
    """Create a throwaway database; ``None`` when no server answers."""
    try:
        admin = await asyncpg.connect(_plain_dsn(POSTGRES_URL), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")
        return None
    name = f"kartu_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}", name


async def _drop_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(_plain_dsn(POSTGRES_URL), timeout=3)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file with every migration applied, made once per run; tests get copies (a copy
    takes a millisecond, running the migrations a third of a second)."""
    path = tmp_path_factory.mktemp("template") / "kartu.db"

    async def migrate() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(database.engine)
        await database.dispose()

    asyncio.run(migrate())
    assert not path.with_name("kartu.db-wal").exists()  # all in the main file, so a copy is complete
    return path


@pytest.fixture
def migrated_sqlite_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    """A real SQLite file of this test's own, already migrated."""
    shutil.copyfile(migrated_sqlite, tmp_path / "kartu.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, migrated_sqlite_url: str) -> AsyncIterator[str]:
    """The same test on a real SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        yield migrated_sqlite_url
        return
    created = await _postgres_database()
    assert created is not None
    url, name = created
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade(database.engine)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        bot_token="42:TEST",
        database_url=database_url,
        admin_ids=frozenset({900}),
        webhooks_allow_private=True,  # receivers in tests listen on 127.0.0.1
    )


@pytest.fixture
def services(db: Database, settings: Settings, clock: FrozenClock) -> Services:
    return Services.build(db, settings, clock)


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """An ASGI app served by a real uvicorn on 127.0.0.1 (a free port) while the block runs."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def api_url(services: Services) -> AsyncIterator[str]:
    """A real uvicorn server on 127.0.0.1 serving the point-of-sale API for a test."""
    async with serving(create_app(services)) as url:
        yield url


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Tests never read a developer's .env or write kartu.db into the work tree."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("KARTU_") and key != "KARTU_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    yield


# The usual people of a shop, for the tiers that have a `world` (tests/e2e, tests/handlers).
@pytest.fixture
def owner(world: World) -> TelegramUser:
    return world.user(OWNER_ID, "Sari", "id", "sari_kopi")


@pytest.fixture
def barista(world: World) -> TelegramUser:
    return world.user(200, "Budi", "en", "budi")


@pytest.fixture
def customer(world: World) -> TelegramUser:
    return world.user(300, "Ayu", "id-ID")
