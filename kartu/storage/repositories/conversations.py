"""Guided-form state (aiogram FSM), kept in the database."""

from __future__ import annotations

from typing import Any

from kartu.storage.models import ConversationState
from kartu.storage.repositories.base import Repository


class ConversationRepository(Repository):
    async def get(self, key: str) -> ConversationState | None:
        return await self.session.get(ConversationState, key)

    async def put(self, key: str, **values: Any) -> None:
        row = await self.session.get(ConversationState, key)
        if row is None:
            row = ConversationState(key=key, state=None, data="{}")
        for name, value in values.items():
            setattr(row, name, value)
        self.session.add(row)
        await self.session.flush()
