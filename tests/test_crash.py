"""A bot process killed with SIGKILL while 20 staff confirm purchases (`kartu run`, polling, a real
SQLite file, the strict emulator with a slow network so the kill lands mid-way): restarted, it
handles every Confirm the dead process had taken from Telegram, once — no purchase lost, none
credited twice — and its journal ends empty. (The short version of the rehearsal.)"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from sqlalchemy import text

from kartu.config import Settings
from kartu.loyalty.program import ProgramRules
from kartu.sandbox import BotAPIEmulator, TelegramUser
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database
from kartu.storage.migrate import upgrade

OWNER, STAFF, CUSTOMERS = 100, [1000 + n for n in range(20)], [3000 + n for n in range(20)]


async def _shop(url: str) -> list[str]:
    db = Database(url)
    await upgrade(db.engine)
    services = Services.build(db, Settings(_env_file=None, database_url=url, bot_token="1:X"))
    created = await services.merchants.create_merchant(
        "Kopi Senja", OWNER, rules=ProgramRules(daily_stamp_cap=0)
    )
    for telegram_id in STAFF:
        token = await services.merchants.invite_staff(OWNER)
        await services.customers.start(
            TelegramProfile(telegram_id, f"Staff {telegram_id}", None, "en"), f"staff_{token}"
        )
    codes = []
    for telegram_id in CUSTOMERS:
        joined = await services.customers.start(
            TelegramProfile(telegram_id, f"C{telegram_id}"), f"m_{created.slug}"
        )
        assert joined.joined is not None
        codes.append(joined.joined.card.personal_code)
    await db.dispose()
    return codes


async def _count(url: str, sql: str) -> int:
    db = Database(url)
    try:
        async with db.read() as uow:
            return int(await uow.session.scalar(text(sql)) or 0)
    finally:
        await db.dispose()


async def test_a_killed_bot_loses_no_confirm_and_credits_none_twice(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}"
    codes = await _shop(url)
    emulator = BotAPIEmulator()
    await emulator.start()
    emulator.started.update([OWNER, *STAFF, *CUSTOMERS])  # they all wrote to the bot before
    env = {
        **os.environ,
        "KARTU_BOT_TOKEN": emulator.token,
        "KARTU_TELEGRAM_API_URL": emulator.url,
        "KARTU_DATABASE_URL": url,
        "KARTU_POLLING_TIMEOUT": "1",
        "KARTU_SCHEDULER": "off",
        "KARTU_UPDATE_LEASE_SECONDS": "1",
        "KARTU_LOG_LEVEL": "WARNING",
    }

    async def start_bot() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kartu.bot.cli", "run", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

    purchases = "SELECT count(*) FROM ledger_entry WHERE reason = 'purchase'"
    bot = await start_bot()
    try:
        staff = [TelegramUser(emulator, telegram_id, f"Staff {telegram_id}", "en") for telegram_id in STAFF]
        prompts = await asyncio.gather(
            *(member.ask(code, timeout=30) for member, code in zip(staff, codes, strict=True))
        )
        emulator.latency = 0.3  # a slow network: handling a Confirm takes long enough to die in
        taps = [
            asyncio.create_task(member.press(prompt, "Confirm"))
            for member, prompt in zip(staff, prompts, strict=True)
        ]
        for _ in range(3000):  # the first credits land: kill it now, mid-way
            if await _count(url, purchases) >= 1:
                break
            await asyncio.sleep(0.005)
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        credited_when_killed = await _count(url, purchases)
        emulator.latency = 0.0
        await emulator.release_pollers()
        bot = await start_bot()  # systemd's Restart=always
        for _ in range(600):
            if await _count(url, purchases) >= len(STAFF) and not await _count(
                url, "SELECT count(*) FROM processed_update WHERE payload IS NOT NULL"
            ):
                break
            await asyncio.sleep(0.1)
        for tap in taps:
            tap.cancel()
        await asyncio.gather(*taps, return_exceptions=True)
        assert credited_when_killed < len(STAFF), "the kill came too late to test anything"
        assert await _count(url, purchases) == len(STAFF)  # every Confirm credited: none lost
        distinct = "SELECT count(DISTINCT idempotency_key) FROM ledger_entry WHERE reason = 'purchase'"
        assert await _count(url, distinct) == len(STAFF)  # and none twice
        assert not await _count(url, "SELECT count(*) FROM processed_update WHERE payload IS NOT NULL")
    finally:
        with contextlib.suppress(ProcessLookupError):
            bot.send_signal(signal.SIGINT)
        await emulator.release_pollers()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bot.wait(), 20)
        with contextlib.suppress(ProcessLookupError):
            bot.kill()
        await emulator.stop()
