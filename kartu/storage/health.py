"""Whether this Kartu can do its work, as /readyz answers it: the database answers, its schema is
the code's, a scheduler beat within two minutes (someone sends the outbox), and no message due for
longer than the set age waits in the outbox. Each check says what it saw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlmodel import col

from kartu.storage.beats import ALIVE_WITHIN
from kartu.storage.database import Database
from kartu.storage.migrate import pending_revisions
from kartu.storage.models import OutboxMessage, ProcessBeat
from kartu.storage.repositories.outbox import PENDING


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_json(self) -> dict[str, object]:
        return {
            "ready": self.ok,
            "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in self.checks},
        }


async def readiness(db: Database, now: datetime, outbox_age: timedelta) -> Readiness:
    try:
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # the database is down: nothing else can be asked
        return Readiness((Check("database", False, f"{type(error).__name__}: {error}"[:200]),))
    checks = [Check("database", True, "answers")]
    pending = await pending_revisions(db.engine)
    checks.append(
        Check("migrations", not pending, "current" if not pending else f"pending: {', '.join(pending)}")
    )
    if pending:  # the tables the other checks read may not be there yet
        unknown = "cannot tell until the schema is current"
        return Readiness((*checks, Check("scheduler", False, unknown), Check("outbox", False, unknown)))
    async with db.read() as uow:
        beat = await uow.session.scalar(
            select(func.max(col(ProcessBeat.beat_at))).where(col(ProcessBeat.kind) == "scheduler")
        )
        due = await uow.session.scalar(
            select(func.min(col(OutboxMessage.not_before))).where(
                col(OutboxMessage.status) == PENDING, col(OutboxMessage.not_before) <= now
            )
        )
    checks.append(
        Check(
            "scheduler",
            beat is not None and now - beat < ALIVE_WITHIN,
            "no scheduler has beaten"
            if beat is None
            else f"last beat {int((now - beat).total_seconds())} s ago",
        )
    )
    waited = (now - due) if due is not None else timedelta(0)
    checks.append(
        Check("outbox", waited < outbox_age, f"oldest due message waits {int(waited.total_seconds())} s")
    )
    return Readiness(tuple(checks))
