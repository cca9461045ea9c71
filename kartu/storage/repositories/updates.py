"""Which Telegram updates were handled already."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from kartu.storage.models import ProcessedUpdate
from kartu.storage.repositories.base import Repository
from kartu.storage.repositories.outbox import insert_ignoring_duplicates


class UpdateRepository(Repository):
    async def first_time(self, update_id: int, now: datetime) -> bool:
        """Record the update; ``False`` when it was recorded before (Telegram delivered it again)."""
        statement = (
            insert_ignoring_duplicates(self.session, ProcessedUpdate.__table__)
            .values(update_id=update_id, received_at=now)
            .on_conflict_do_nothing(index_elements=["update_id"])
        )
        result = await self.session.execute(statement)
        return result.rowcount == 1

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.received_at < cutoff)
        )
        return int(result.rowcount or 0)
