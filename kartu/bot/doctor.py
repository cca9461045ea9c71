"""`kartu doctor`: why the bot is silent, in one screen. Each line is ``ok``, ``warning`` or
``problem`` with what was seen and what to do; a problem makes the command exit 1.

It asks Telegram (the token works, the webhook is the one the settings say, what waits there and
the last error Telegram met, the clock against Telegram's), and the database (it answers, its
schema is current, a scheduler beats, the outbox keeps up, the disk beside a SQLite file has room)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path

import aiohttp
from sqlalchemy.engine import make_url

from kartu.config import Settings
from kartu.storage.database import Database
from kartu.storage.health import readiness

SKEW_WARNING = timedelta(seconds=30)
DISK_WARNING, DISK_PROBLEM = 1024**3, 200 * 1024**2  # bytes free beside a SQLite file


class Verdict(StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    subject: str
    seen: str
    todo: str = ""

    def line(self) -> str:
        text = f"{self.verdict.value:<8}{self.subject}: {self.seen}"
        return f"{text} — {self.todo}" if self.todo else text


async def examine(settings: Settings, now: datetime | None = None) -> list[Finding]:
    now = now or datetime.now(UTC)
    findings = await _telegram(settings, now)
    findings += await _database(settings, now)
    return findings


async def _telegram(settings: Settings, now: datetime) -> list[Finding]:
    if not settings.bot_token:
        return [
            Finding(
                Verdict.PROBLEM, "token", "KARTU_BOT_TOKEN is not set", "set it in .env (from @BotFather)"
            )
        ]
    base = f"{settings.telegram_api_url.rstrip('/')}/bot{settings.bot_token}"
    findings = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
            async with session.get(f"{base}/getMe") as answer:
                me = await answer.json(content_type=None)
                date = answer.headers.get("Date")
            if not me.get("ok"):
                return [
                    Finding(
                        Verdict.PROBLEM,
                        "token",
                        f"Telegram refused it ({me.get('description')})",
                        "copy the token again from @BotFather",
                    )  # fmt: skip
                ]
            findings.append(Finding(Verdict.OK, "token", f"@{me['result'].get('username')}"))
            async with session.get(f"{base}/getWebhookInfo") as answer:
                info = (await answer.json(content_type=None)).get("result", {})
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return [
            Finding(
                Verdict.PROBLEM,
                "telegram",
                f"not reachable ({type(error).__name__}: {error})",
                "check the network and KARTU_TELEGRAM_API_URL",
            )  # fmt: skip
        ]
    findings.append(_webhook(settings, info, now))
    if date:
        skew = abs(now - parsedate_to_datetime(date))
        findings.append(
            Finding(Verdict.OK, "clock", f"{skew.total_seconds():.0f} s from Telegram's")
            if skew < SKEW_WARNING
            else Finding(
                Verdict.WARNING,
                "clock",
                f"{skew.total_seconds():.0f} s from Telegram's",
                "run an NTP client (systemd-timesyncd): expiry and quiet hours follow this clock",
            )  # fmt: skip
        )
    return findings


def _webhook(settings: Settings, info: dict[str, object], now: datetime) -> Finding:
    url = str(info.get("url") or "")
    pending = int(str(info.get("pending_update_count") or 0))
    wanted = settings.webhook_url.rstrip("/") + settings.webhook_path if settings.webhook_url else ""
    last_error = str(info.get("last_error_message") or "")
    when = info.get("last_error_date")
    recent = isinstance(when, int) and now - datetime.fromtimestamp(when, UTC) < timedelta(hours=1)
    if not wanted and url:
        return Finding(Verdict.PROBLEM, "webhook", f"set to {url}, but this Kartu polls",
                       "run with KARTU_WEBHOOK_URL set, or `kartu run` once to poll (it removes the webhook)")  # fmt: skip
    if wanted and url != wanted:
        return Finding(Verdict.PROBLEM, "webhook", f"Telegram posts to {url or 'nowhere'}, not {wanted}",
                       "start `kartu run` with these settings: it sets the webhook")  # fmt: skip
    if recent and last_error:
        return Finding(Verdict.WARNING, "webhook", f"{pending} update(s) waiting; Telegram's last error: {last_error}",
                       "check the reverse proxy and KARTU_WEBHOOK_SECRET")  # fmt: skip
    return Finding(Verdict.OK, "webhook", f"{'polling' if not wanted else url}; {pending} update(s) waiting")


async def _database(settings: Settings, now: datetime) -> list[Finding]:
    db = Database(settings.database_url)
    try:
        ready = await readiness(db, now, timedelta(seconds=settings.ready_outbox_age_seconds))
    finally:
        await db.dispose()
    todo = {
        "database": "check KARTU_DATABASE_URL and that the server runs",
        "migrations": "run `kartu db upgrade`",
        "scheduler": "start `kartu scheduler` (or `kartu run` with the scheduler inline)",
        "outbox": "see the scheduler's log: Telegram may be refusing messages (429) or the scheduler stopped",
    }
    findings = [
        Finding(
            Verdict.OK if check.ok else Verdict.PROBLEM,
            check.name,
            check.detail,
            ""
            if check.ok
            else "upgrade first"
            if check.detail.startswith("cannot tell")
            else todo[check.name],
        )
        for check in ready.checks
    ]
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        free = shutil.disk_usage(Path(url.database).resolve().parent).free
        verdict = (
            Verdict.PROBLEM if free < DISK_PROBLEM else Verdict.WARNING if free < DISK_WARNING else Verdict.OK
        )
        findings.append(
            Finding(
                verdict,
                "disk",
                f"{free / 1024**3:.1f} GB free beside {url.database}",
                "" if verdict is Verdict.OK else "free some space: SQLite cannot write a full disk",
            )  # fmt: skip
        )
    return findings
