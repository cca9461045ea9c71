"""The `kartu` command as an operator runs it: a real process, real files, the local emulator."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from kartu.sandbox import BotAPIEmulator, TelegramUser

KARTU = [sys.executable, "-m", "kartu.bot.cli"]


async def _kartu(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *KARTU, *args, env={**os.environ, **env}, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_run_without_a_token_says_which_setting_is_missing(tmp_path: Path) -> None:
    code, out, err = await _kartu("run", env={}, cwd=tmp_path)
    assert code == 1
    assert err.strip().splitlines() == [
        "Error: KARTU_BOT_TOKEN is not set: put the token from @BotFather in .env or the environment."
    ]
    assert "Traceback" not in err + out


async def test_operator_creates_a_merchant_and_runs_the_bot(tmp_path: Path) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    env = {
        "KARTU_BOT_TOKEN": emulator.token,
        "KARTU_TELEGRAM_API_URL": emulator.url,
        "KARTU_POLLING_TIMEOUT": "1",
        "KARTU_LOG_LEVEL": "WARNING",
    }
    try:
        code, out, _ = await _kartu("merchant", "create", "Kopi Senja", "--owner", "100", env=env, cwd=tmp_path)
        assert code == 0, out
        assert "https://t.me/kartu_test_bot?start=m_kopi-senja" in out
        assert (tmp_path / "kartu.db").exists()  # the default SQLite file, where the operator ran it
        assert "up to date" in (await _kartu("db", "upgrade", env=env, cwd=tmp_path))[1]

        bot = await asyncio.create_subprocess_exec(
            *KARTU, "run", env={**os.environ, **env}, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        customer = TelegramUser(emulator, 300, "Ayu", "id")
        welcome = await customer.ask("/start m_kopi-senja", timeout=30)
        assert "Selamat datang di <b>Kopi Senja</b>" in welcome.body
        bot.send_signal(signal.SIGINT)
        await emulator.release_pollers()
        _, err = await asyncio.wait_for(bot.communicate(), 30)
        assert "Traceback" not in err.decode()
    finally:
        await emulator.stop()


async def test_webhook_mode_needs_a_secret(tmp_path: Path) -> None:
    env = {"KARTU_BOT_TOKEN": "42:TEST-TOKEN", "KARTU_WEBHOOK_URL": "https://bot.example.com"}
    code, out, err = await _kartu("run", env=env, cwd=tmp_path)
    assert code == 1
    assert err.strip() == "Error: KARTU_WEBHOOK_SECRET is not set: webhook mode needs a secret so forged updates are refused."


async def test_operator_lists_and_removes_owners_but_never_the_last(tmp_path: Path) -> None:
    env = {"KARTU_BOT_TOKEN": "42:TEST-TOKEN", "KARTU_BOT_USERNAME": "kartu_test_bot", "KARTU_LOG_LEVEL": "WARNING"}
    assert (await _kartu("merchant", "create", "Kopi Senja", "--owner", "100", env=env, cwd=tmp_path))[0] == 0
    code, out, _ = await _kartu("merchant", "owners", "kopi-senja", env=env, cwd=tmp_path)
    assert code == 0 and out.split()[0] == "100"
    code, _, err = await _kartu("merchant", "remove-owner", "kopi-senja", "100", env=env, cwd=tmp_path)
    assert code == 1 and "at least one owner" in err and "Traceback" not in err
    code, _, err = await _kartu("merchant", "remove-owner", "kopi-senja", "555", env=env, cwd=tmp_path)
    assert code == 1 and "not an owner" in err
    code, _, err = await _kartu("merchant", "owners", "no-such-shop", env=env, cwd=tmp_path)
    assert code == 1 and "no merchant" in err
