"""aiogram FSM storage kept in Kartu's database: forms survive restarts and span bot processes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from kartu.loyalty.clock import Clock, SystemClock
from kartu.storage.database import Database

# A guided form left alone this long no longer takes the next message as its answer: the
# owner who opened the reward-name form on Monday and types a customer code on Thursday
# gets a stamp prompt, not a reward called "RXY0-AKHZ".
FORM_IDLE = timedelta(minutes=15)
FORM_IDLE_BY_STATE = {"FeedbackForm:comment": timedelta(days=1)}  # a comment may come later that day


def form_lifetime(state: str) -> timedelta:
    return FORM_IDLE_BY_STATE.get(state, FORM_IDLE)


def _key(key: StorageKey) -> str:
    return f"{key.bot_id}:{key.chat_id}:{key.thread_id or 0}:{key.user_id}:{key.destiny}"


class DatabaseStorage(BaseStorage):
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self.db.write() as uow:
            await uow.conversations.put(_key(key), state=value, updated_at=self.clock.now())

    async def expire_if_idle(self, key: StorageKey) -> str | None:
        """Close the form when it has been idle past its lifetime; returns the expired state.
        A form still in use costs one read (no write lock)."""
        async with self.db.read() as uow:
            row = await uow.conversations.get(_key(key))
        if row is None or row.state is None:
            return None
        # A form saved before forms had a clock (no updated_at) is treated as idle.
        if row.updated_at is not None and self.clock.now() - row.updated_at < form_lifetime(row.state):
            return None
        async with self.db.write() as uow:
            await uow.conversations.put(_key(key), state=None, data="{}", updated_at=self.clock.now())
        return row.state

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.db.read() as uow:
            row = await uow.conversations.get(_key(key))
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self.db.write() as uow:
            await uow.conversations.put(_key(key), data=json.dumps(dict(data)), updated_at=self.clock.now())

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.db.read() as uow:
            row = await uow.conversations.get(_key(key))
        return json.loads(row.data) if row else {}

    async def close(self) -> None:
        """The database outlives the dispatcher; `kartu.bot.app` disposes of it."""
