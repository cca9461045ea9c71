"""Purchase and redemption prompts: the rows behind Confirm / Cancel buttons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, select, update

from kartu.storage.models import Merchant, Person, Program, PurchasePrompt, StaffMember
from kartu.storage.repositories.base import Repository

# Built once, with bound parameters: every Confirm and Cancel tap starts with it.
_WITH_PLACE = (
    select(PurchasePrompt, Person, StaffMember, Merchant, Program)
    .join(Person, Person.id == PurchasePrompt.staff_person_id)
    .join(
        StaffMember,
        and_(
            StaffMember.person_id == Person.id,
            StaffMember.merchant_id == PurchasePrompt.merchant_id,
            StaffMember.revoked_at.is_(None),
        ),
    )
    .join(Merchant, Merchant.id == PurchasePrompt.merchant_id)
    .join(Program, Program.merchant_id == Merchant.id)
    .where(
        PurchasePrompt.token == bindparam("token"),
        PurchasePrompt.kind == bindparam("kind"),
        Person.telegram_id == bindparam("telegram_id"),
    )
)


class PromptRepository(Repository):
    async def add(self, prompt: PurchasePrompt) -> PurchasePrompt:
        self.session.add(prompt)
        await self.session.flush()
        return prompt

    async def get(self, prompt_id: int) -> PurchasePrompt | None:
        return await self.session.get(PurchasePrompt, prompt_id)

    async def with_place(
        self, token: str, kind: str, telegram_id: int
    ) -> tuple[PurchasePrompt, Person, StaffMember, Merchant, Program] | None:
        """The prompt behind a button, if this Telegram user opened it and still works at its
        shop, with that shop and its program: one query for the usual tap."""
        values = {"token": token, "kind": kind, "telegram_id": telegram_id}
        row = (await self.session.execute(_WITH_PLACE, values)).first()
        return (row[0], row[1], row[2], row[3], row[4]) if row is not None else None

    async def by_token(self, token: str) -> PurchasePrompt | None:
        return await self.session.scalar(select(PurchasePrompt).where(PurchasePrompt.token == token))

    async def decide(self, prompt_id: int, status: str, person_id: int, now: datetime) -> bool:
        """Close a pending prompt; ``False`` when it was no longer pending (someone was first)."""
        result = await self.session.execute(
            update(PurchasePrompt)
            .where(PurchasePrompt.id == prompt_id, PurchasePrompt.status == "pending")
            .values(status=status, decided_at=now, decided_by_person_id=person_id)
        )
        return result.rowcount == 1
