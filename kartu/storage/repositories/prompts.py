"""Purchase and redemption prompts: the rows behind Confirm / Cancel buttons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from kartu.storage.models import PurchasePrompt
from kartu.storage.repositories.base import Repository


class PromptRepository(Repository):
    async def add(self, prompt: PurchasePrompt) -> PurchasePrompt:
        self.session.add(prompt)
        await self.session.flush()
        return prompt

    async def get(self, prompt_id: int) -> PurchasePrompt | None:
        return await self.session.get(PurchasePrompt, prompt_id)

    async def by_token(self, token: str) -> PurchasePrompt | None:
        return await self.session.scalar(select(PurchasePrompt).where(PurchasePrompt.token == token))

    async def decide(self, prompt_id: int, status: str, person_id: int, now: datetime) -> bool:
        """Close a pending prompt; ``False`` when it was no longer pending (someone was first)."""
        result = await self.session.execute(
            update(PurchasePrompt)
            .where(PurchasePrompt.id == prompt_id, PurchasePrompt.status == "pending")
            .values(status=status, decided_at=now, decided_by_person_id=person_id)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]
