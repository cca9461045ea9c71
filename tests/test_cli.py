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
        *KARTU,
        *args,
        env={**os.environ, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


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
        code, out, _ = await _kartu(
            "merchant", "create", "Kopi Senja", "--owner", "100", env=env, cwd=tmp_path
        )
        assert code == 0, out
        assert "https://t.me/kartu_test_bot?start=m_kopi-senja" in out
        assert (tmp_path / "kartu.db").exists()  # the default SQLite file, where the operator ran it
        assert "up to date" in (await _kartu("db", "upgrade", env=env, cwd=tmp_path))[1]

        bot = await asyncio.create_subprocess_exec(
            *KARTU,
            "run",
            env={**os.environ, **env},
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
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
    assert (
        err.strip()
        == "Error: KARTU_WEBHOOK_SECRET is not set: webhook mode needs a secret so forged updates are refused."
    )


async def test_operator_lists_and_removes_owners_but_never_the_last(tmp_path: Path) -> None:
    env = {
        "KARTU_BOT_TOKEN": "42:TEST-TOKEN",
        "KARTU_BOT_USERNAME": "kartu_test_bot",
        "KARTU_LOG_LEVEL": "WARNING",
    }
    assert (await _kartu("merchant", "create", "Kopi Senja", "--owner", "100", env=env, cwd=tmp_path))[0] == 0
    code, out, _ = await _kartu("merchant", "owners", "kopi-senja", env=env, cwd=tmp_path)
    assert code == 0 and out.split()[0] == "100"
    code, _, err = await _kartu("merchant", "remove-owner", "kopi-senja", "100", env=env, cwd=tmp_path)
    assert code == 1 and "at least one owner" in err and "Traceback" not in err
    code, _, err = await _kartu("merchant", "remove-owner", "kopi-senja", "555", env=env, cwd=tmp_path)
    assert code == 1 and "not an owner" in err
    code, _, err = await _kartu("merchant", "owners", "no-such-shop", env=env, cwd=tmp_path)
    assert code == 1 and "no merchant" in err


async def test_onboarding_a_shop_without_its_owners_id(tmp_path: Path) -> None:
    """An owner given as @username or by a one-time link; the same name twice is refused and
    explained; `merchant list` and `merchant update` show and change what was made."""
    env = {
        "KARTU_BOT_TOKEN": "42:TEST-TOKEN",
        "KARTU_BOT_USERNAME": "kartu_test_bot",
        "KARTU_LOG_LEVEL": "WARNING",
        "KARTU_DEFAULT_LANGUAGE": "id",
    }
    code, out, _ = await _kartu(
        "merchant", "create", "Kopi Senja", "--owner", "@sari_kopi", env=env, cwd=tmp_path
    )
    assert code == 0
    assert (
        "Owner link (works once, within 24 hours; only @sari_kopi can use it): https://t.me/kartu_test_bot?start=owner_"
        in out
    )

    code, out, err = await _kartu("merchant", "create", "kopi senja", env=env, cwd=tmp_path)
    assert (
        code == 1 and "a shop named 'kopi senja' already exists (slug kopi-senja); nothing was created" in err
    )
    assert "kartu merchant update kopi-senja" in err and "Traceback" not in err

    code, out, _ = await _kartu("merchant", "create", "kopi senja", "--yes", env=env, cwd=tmp_path)
    assert (
        code == 0 and "slug kopi-senja-2" in out and "the next person who opens it becomes the owner" in out
    )

    code, out, _ = await _kartu(
        "merchant",
        "update",
        "kopi-senja",
        "--name",
        "Kopi Senja ☕",
        "--timezone",
        "Asia/Makassar",
        "--owner",
        "100",
        env=env,
        cwd=tmp_path,
    )
    assert (
        code == 0
        and "Updated kopi-senja: 'Kopi Senja ☕', time zone Asia/Makassar." in out
        and "Owner: Telegram user 100." in out
    )
    code, out, _ = await _kartu("merchant", "list", env=env, cwd=tmp_path)
    rows = [line.split("\t") for line in out.strip().splitlines()]
    assert rows[0] == ["slug", "name", "timezone", "owners", "members", "created"]
    assert [row[:5] for row in rows[1:]] == [
        ["kopi-senja", "Kopi Senja ☕", "Asia/Makassar", "1", "0"],
        ["kopi-senja-2", "kopi senja", "Asia/Jakarta", "0", "0"],
    ]

    code, _, err = await _kartu(
        "merchant", "update", "kopi-senja", "--timezone", "Mars/Olympus", env=env, cwd=tmp_path
    )
    assert code == 1 and "unknown time zone" in err
    code, _, err = await _kartu("merchant", "create", "X", "--owner", "not an owner", env=env, cwd=tmp_path)
    assert code == 1 and "neither a Telegram user id" in err


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _started(process: asyncio.subprocess.Process, timeout: float = 60) -> str:
    """The first line the process prints (the sandbox says where it is)."""
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), timeout)).decode()


async def test_run_without_a_token_starts_the_sandbox_and_reset_starts_over(tmp_path: Path) -> None:
    import aiohttp

    port = _free_port()
    env = {**os.environ, "KARTU_SANDBOX_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        *KARTU, "run", env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        line = await _started(process)
        assert line.strip() == (
            f"No bot token: starting the local sandbox at http://127.0.0.1:{port} — open it in a browser. "
            "Put a token from @BotFather in .env to go live."
        )
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as page:
                assert page.status == 200 and "Kartu sandbox" in await page.text()
            async with session.post(
                f"http://127.0.0.1:{port}/api/people", json={"name": "Dewi", "language": "en"}
            ) as added:
                assert added.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert "Traceback" not in err.decode()
    assert (tmp_path / "kartu-sandbox.db").exists() and not (
        tmp_path / "kartu.db"
    ).exists()  # never the live database

    async def people(*args: str) -> list[str]:
        sandbox = await asyncio.create_subprocess_exec(
            *KARTU,
            "sandbox",
            "--port",
            str(port),
            *args,
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert "local sandbox" in await _started(sandbox)
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/api/state") as state,
            ):
                return [person["name"] for person in (await state.json())["people"]]
        finally:
            sandbox.send_signal(signal.SIGINT)
            await asyncio.wait_for(sandbox.communicate(), 30)

    assert "Dewi" in await people()  # kept across restarts
    assert await people("--reset") == [
        "Sari",
        "Budi",
        "Ayu",
        "Rizky",
        "Made",
        "Wulan",
    ]  # the demo shop, afresh


async def test_a_rejected_token_and_no_network_end_in_one_line(tmp_path: Path) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    try:
        code, out, err = await _kartu(
            "run",
            env={"KARTU_BOT_TOKEN": "42:WRONG-TOKEN", "KARTU_TELEGRAM_API_URL": emulator.url},
            cwd=tmp_path,
        )
        assert (
            code == 1
            and err.strip()
            == "Error: Telegram rejected the bot token: check KARTU_BOT_TOKEN (from @BotFather)."
        )
    finally:
        await emulator.stop()
    port = _free_port()  # nothing listens there
    code, out, err = await _kartu(
        "run",
        env={"KARTU_BOT_TOKEN": "42:TEST-TOKEN", "KARTU_TELEGRAM_API_URL": f"http://127.0.0.1:{port}"},
        cwd=tmp_path,
    )
    assert code == 1 and err.strip().startswith(f"Error: cannot reach Telegram at http://127.0.0.1:{port}: ")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out


async def test_operator_adds_lists_and_updates_a_business_outlets(tmp_path: Path) -> None:
    """Every business has its first outlet (an existing shop too, by the migration); more are added,
    listed and changed with `kartu merchant outlet`; mistakes get one line, not a traceback."""
    env = {
        "KARTU_BOT_TOKEN": "42:TEST-TOKEN",
        "KARTU_BOT_USERNAME": "kartu_test_bot",
        "KARTU_LOG_LEVEL": "WARNING",
    }
    assert (await _kartu("merchant", "create", "Kopi Senja", "--owner", "100", env=env, cwd=tmp_path))[0] == 0
    code, out, err = await _kartu(
        "merchant", "outlet", "add", "kopi-senja", "Plaza Senayan",
        "--address", "Jl. Asia Afrika 8, Jakarta", "--location", "-6.2250,106.7990",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert (
        "kopi-senja-plaza-senayan\tPlaza Senayan — Jl. Asia Afrika 8, Jakarta\tAsia/Jakarta, at -6.225,106.799"
        in out
    )
    code, out, err = await _kartu(
        "merchant",
        "outlet",
        "add",
        "kopi-senja",
        "Bali",
        "--timezone",
        "Asia/Makassar",
        env=env,
        cwd=tmp_path,
    )
    assert code == 0 and "kopi-senja-bali\tBali\tAsia/Makassar" in out, err
    code, out, _ = await _kartu("merchant", "outlet", "list", "kopi-senja", env=env, cwd=tmp_path)
    assert [line.split("\t")[0] for line in out.splitlines()[1:]] == [
        "kopi-senja",  # the first outlet, named as the business
        "kopi-senja-plaza-senayan",
        "kopi-senja-bali",
    ]
    code, out, _ = await _kartu(
        "merchant", "outlet", "update", "kopi-senja-bali", "--name", "Bali Canggu", env=env, cwd=tmp_path
    )
    assert code == 0 and "kopi-senja-bali\tBali Canggu" in out
    for args, said in (
        (("add", "kopi-senja", "Bali Canggu"), "already has an outlet named"),
        (("add", "no-such-shop", "X"), "no merchant with the slug"),
        (("update", "kopi-senja-bali", "--location", "200,1"), "is not on Earth"),
        (("update", "kopi-senja-bali"), "nothing to change"),
        (("update", "nowhere", "--name", "X"), "no outlet with the slug"),
    ):
        code, _, err = await _kartu("merchant", "outlet", *args, env=env, cwd=tmp_path)
        assert code == 1 and said in err and "Traceback" not in err, (args, err)


async def test_operator_merges_two_shops_of_one_owner_after_a_preview(tmp_path: Path) -> None:
    """`kartu merchant merge SOURCE INTO` shows what would change and changes nothing; --yes merges
    (the shop becomes an outlet of the business); shops without a shared owner are refused."""
    env = {"KARTU_BOT_TOKEN": "42:TEST-TOKEN", "KARTU_LOG_LEVEL": "WARNING"}
    for name, owner in (("Kopi Senja", "100"), ("Kopi Senja Bogor", "100"), ("Barber Jaya", "200")):
        assert (await _kartu("merchant", "create", name, "--owner", owner, env=env, cwd=tmp_path))[0] == 0
    code, out, err = await _kartu(
        "merchant", "merge", "kopi-senja-bogor", "kopi-senja", env=env, cwd=tmp_path
    )
    assert code == 0, err
    assert (
        "Kopi Senja Bogor → Kopi Senja: outlets Kopi Senja Bogor; 0 cards" in out and "Nothing changed" in out
    )
    code, out, _ = await _kartu("merchant", "outlet", "list", "kopi-senja", env=env, cwd=tmp_path)
    assert "kopi-senja-bogor" not in out  # the preview changed nothing
    code, out, err = await _kartu(
        "merchant", "merge", "kopi-senja-bogor", "kopi-senja", "--yes", env=env, cwd=tmp_path
    )
    assert code == 0 and "Merged Kopi Senja Bogor into Kopi Senja." in out, err
    code, out, _ = await _kartu("merchant", "outlet", "list", "kopi-senja", env=env, cwd=tmp_path)
    assert [line.split("\t")[0] for line in out.splitlines()[1:]] == ["kopi-senja", "kopi-senja-bogor"]
    for args, said in (
        (("barber-jaya", "kopi-senja"), "share no owner"),
        (("kopi-senja-bogor", "kopi-senja"), "merged into a business already"),
        (("kopi-senja", "kopi-senja"), "into itself"),
        (("nowhere", "kopi-senja"), "no merchant with that slug"),
    ):
        code, _, err = await _kartu("merchant", "merge", *args, env=env, cwd=tmp_path)
        assert code == 1 and said in err and "Traceback" not in err, (args, err)
