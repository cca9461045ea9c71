"""The scheduler's daily backup: in the shops' quiet hours, once a day, into KARTU_BACKUP_DIR;
backups older than KARTU_BACKUP_KEEP_DAYS pruned; a failure told to the operator's admins in
chat, once a day (those who have written to the bot: Telegram lets a bot message no one else)."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kartu.loyalty.delivery import Category, Kind, QuietHours
from kartu.services.base import ServiceBase
from kartu.storage.backup import BackupFailed, BackupReport, default_name, take_backup

log = logging.getLogger(__name__)

_OURS = re.compile(r"kartu-(\d{8})-\d{6}\.(db|dump)")  # what `default_name` writes (restores' copies differ)
DEFAULT_TIMEZONE = "Asia/Jakarta"


class BackupService(ServiceBase):
    async def daily(self) -> BackupReport | None:
        """Take today's backup if it is the quiet hours of the first shop (no one buys then) and
        there is none for today yet; prune the old ones. ``None`` when there was nothing to do or
        it failed (logged once, and the admins told)."""
        if not self.settings.backup_dir:
            return None
        folder = Path(self.settings.backup_dir)
        now = self.clock.now()
        async with self.db.read() as uow:
            shops = await uow.merchants.first_two()
        timezone = shops[0].timezone if shops else DEFAULT_TIMEZONE
        quiet = QuietHours.parse(shops[0].quiet_hours) if shops else QuietHours()
        local = now.astimezone(ZoneInfo(timezone))
        if not (quiet.contains(local.time().replace(tzinfo=None)) or quiet.start == quiet.end):
            return None
        if folder.is_dir() and any(_day_of(path) == f"{local:%Y%m%d}" for path in folder.iterdir()):
            return None
        try:
            report = await take_backup(self.db, folder / default_name(self.db, local))
        except (BackupFailed, OSError) as error:
            log.error("the daily backup into %s failed: %s", folder, error)
            await self._tell_admins(now, f"{local:%Y-%m-%d}", str(error))
            return None
        log.info("backed up to %s (%s bytes, %.1f s)", report.path, report.size, report.seconds)
        prune(folder, now, timedelta(days=self.settings.backup_keep_days))
        return report

    async def _tell_admins(self, now: datetime, day: str, reason: str) -> None:
        async with self.db.write() as uow:
            for admin in sorted(self.settings.admin_ids):
                person = await uow.people.by_telegram_id(admin)
                if person is None:
                    continue  # never wrote to the bot: Telegram would refuse the message
                await uow.outbox.enqueue(
                    key=f"backup-failed:{day}:{admin}",
                    kind=Kind.BACKUP_ALERT,
                    category=Category.ALERT,
                    chat_id=admin,
                    person_id=person.id,
                    merchant_id=None,
                    subject_id=None,
                    params={"reason": reason[:300]},
                    now=now,
                    not_before=now,
                )


def _day_of(path: Path) -> str | None:
    match = _OURS.fullmatch(path.name)
    return match.group(1) if match else None


def prune(folder: Path, now: datetime, keep: timedelta) -> list[Path]:
    """Delete Kartu's own backups in ``folder`` older than ``keep`` (by their names' dates)."""
    gone = []
    for path in folder.iterdir():
        day = _day_of(path)
        if day is not None and datetime.strptime(day, "%Y%m%d").date() < (now - keep).date():
            path.unlink(missing_ok=True)
            gone.append(path)
    return gone
