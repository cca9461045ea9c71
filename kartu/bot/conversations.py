"""aiogram FSM storage kept in Kartu's database: forms survive restarts and span bot processes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from kartu.storage.database import Database


def _key(key: StorageKey) -> str:
    return f"{key.bot_id}:{key.chat_id}:{key.thread_id or 0}:{key.user_id}:{key.destiny}"


class DatabaseStorage(BaseStorage):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self.db.write() as uow:
            await uow.conversations.put(_key(key), state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.db.read() as uow:
            row = await uow.conversations.get(_key(key))
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self.db.write() as uow:
            await uow.conversations.put(_key(key), data=json.dumps(dict(data)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.db.read() as uow:
            row = await uow.conversations.get(_key(key))
        return json.loads(row.data) if row else {}

    async def close(self) -> None:
        """The database outlives the dispatcher; `kartu.bot.app` disposes of it."""
