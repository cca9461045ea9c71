"""Which Telegram updates were handled already."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from kartu.storage.models import ProcessedUpdate
from kartu.storage.repositories.base import Repository
from kartu.storage.repositories.outbox import insert_ignoring_duplicates


class UpdateRepository(Repository):
    async def first_time(self, update_id: int, now: datetime) -> bool:
        """Record the update as started; ``False`` when it was started before (Telegram delivered
        it again). A journaled update not yet started is started now."""
        statement = (
            insert_ignoring_duplicates(self.session, ProcessedUpdate.__table__)
            .values(update_id=update_id, received_at=now, started_at=now, attempts=0)
            .on_conflict_do_update(
                index_elements=["update_id"],
                set_={"started_at": now},
                where=ProcessedUpdate.__table__.c.started_at.is_(None),
            )
        )
        result = await self.session.execute(statement)
        return result.rowcount == 1

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.received_at < cutoff)
        )
        return int(result.rowcount or 0)
