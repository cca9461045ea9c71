"""`kartu doctor` as an operator runs it when the bot is silent: against the strict emulator and a
real SQLite file, each line ok / warning / problem with what to do, exit 1 on a problem."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from kartu.bot.cli import main as kartu
from kartu.bot.doctor import Verdict, examine
from kartu.config import Settings
from kartu.sandbox import BotAPIEmulator
from kartu.storage.beats import beat
from kartu.storage.database import Database
from kartu.storage.migrate import upgrade


async def test_the_doctor_finds_what_keeps_the_bot_silent(tmp_path: Path) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    url = f"sqlite+aiosqlite:///{tmp_path / 'kartu.db'}"
    settings = Settings(
        _env_file=None, bot_token=emulator.token, telegram_api_url=emulator.url, database_url=url
    )
    try:
        unmigrated = {finding.subject: finding for finding in await examine(settings)}
        assert (
            unmigrated["migrations"].verdict is Verdict.PROBLEM
            and "kartu db upgrade" in unmigrated["migrations"].todo
        )
        db = Database(url)
        await upgrade(db.engine)
        silent = {finding.subject: finding for finding in await examine(settings)}
        assert silent["token"].verdict is Verdict.OK and silent["token"].seen == "@kartu_test_bot"
        assert silent["webhook"].verdict is Verdict.OK and silent["clock"].verdict is Verdict.OK
        assert (
            silent["scheduler"].verdict is Verdict.PROBLEM and "kartu scheduler" in silent["scheduler"].todo
        )
        await beat(db, "scheduler", datetime.now(UTC))
        await db.dispose()
        healthy = await examine(settings)
        assert {finding.verdict for finding in healthy} <= {Verdict.OK, Verdict.WARNING}, healthy
        # A webhook left behind by another deployment: this polling bot gets nothing.
        emulator.webhook = ("https://old.example.com/telegram", None)
        env = {
            "KARTU_BOT_TOKEN": emulator.token,
            "KARTU_TELEGRAM_API_URL": emulator.url,
            "KARTU_DATABASE_URL": url,
        }
        result = await asyncio.to_thread(CliRunner().invoke, kartu, ["doctor"], env=env)
        assert result.exit_code == 1
        assert (
            "problem webhook: set to https://old.example.com/telegram, but this Kartu polls" in result.output
        )
        assert "ok      token: @kartu_test_bot" in result.output
        emulator.webhook = None
        wrong = settings.model_copy(update={"bot_token": "123:nope"})
        (token, *_) = await examine(wrong)
        assert token.verdict is Verdict.PROBLEM and token.subject in ("token", "telegram")
    finally:
        await emulator.stop()
